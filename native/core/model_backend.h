// The model ops' seam, next to the optimizer's (backend.h): what a backend must compute for the
// training bench's LLaMA ops, on raw buffers it is handed. The C API (native/model/model_c_api.cpp)
// checks the arguments, asks the registry (devices.h) for the device's ModelBackend and calls it;
// the methods assume valid input. Implemented by native/cpu/model/ and cuda/model/.
//
// One list, FRUGAL_MODEL_OPS, names every op once with its parameters; the interface below, the
// CPU functions (native/cpu/model/cpu_model_ops.h: cpu_<op>(params)), the CUDA launchers
// (cuda/model/model_cuda.h: <op>(device, params, stream)) and the adapters from the interface to
// them are all expanded from it, so an op is declared in one place.
//
// Layouts (row-major throughout):
// - activations are fp32 [rows, width]; rows = batch * seq, token t of sequence b at row b*seq+t;
// - weights are [out, in] like torch.nn.Linear, fp32 or bf16, used as y = x W^T;
// - attention q, k, v, out are [batch, seq, heads * head_dim] (head h at columns h*head_dim...).
#pragma once
#include <cstdint>
#include "backend.h"

namespace frugal {
namespace model {
// The op lists are tables (one row per op or argument): clang-format would re-wrap their
// continuation lines differently on each pass, so they keep their hand layout.
// clang-format off

// C = alpha * op(A) op(B) + beta * C; op(A) is m x k, op(B) is k x n. A, B: F32 or BF16; C: F32
// or BF16 (accumulated in fp32). beta == 0 ignores C's old contents (NaN included).
struct GemmDesc {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.f;
  const void* a = nullptr;
  int32_t a_dtype = 0;
  int64_t lda = 0;
  const void* b = nullptr;
  int32_t b_dtype = 0;
  int64_t ldb = 0;
  float beta = 0.f;
  void* c = nullptr;
  int32_t c_dtype = 0;
  int64_t ldc = 0;
};

struct AttentionDesc {
  int64_t batch = 0, seq = 0, heads = 0, head_dim = 0;
  float scale = 1.f;  // applied to q.k (usually 1/sqrt(head_dim))
};

// X(name, (parameters), (the same names as arguments)), one line an op.
#define FRUGAL_MODEL_OPS(X)                                                                                            \
  /* C = alpha * op(A) op(B) + beta * C (GemmDesc) */                                                                  \
  X(gemm, (const GemmDesc& g), (g))                                                                                    \
  /* out[i, :] = table[ids[i], :] */                                                                                   \
  X(embedding_forward,                                                                                                 \
    (const int32_t* ids, int64_t n, const void* table, int32_t dtype, int64_t vocab, int64_t dim, float* out),         \
    (ids, n, table, dtype, vocab, dim, out))                                                                           \
  /* dtable[ids[i], :] += dout[i, :] (dtable zeroed first unless accumulate) */                                        \
  X(embedding_backward,                                                                                                \
    (const int32_t* ids, int64_t n, const float* dout, void* dtable, int32_t dtype, int64_t vocab, int64_t dim,        \
     bool accumulate),                                                                                                 \
    (ids, n, dout, dtable, dtype, vocab, dim, accumulate))                                                             \
  /* y = x * rstd * w, rstd[r] = 1 / sqrt(mean(x[r]^2) + eps) */                                                       \
  X(rmsnorm_forward,                                                                                                   \
    (const float* x, const void* w, int32_t w_dtype, float* y, float* rstd, int64_t rows, int64_t dim, float eps),     \
    (x, w, w_dtype, y, rstd, rows, dim, eps))                                                                          \
  /* dx (+)= d/dx, dw (+)= sum over rows of dy * x * rstd */                                                           \
  X(rmsnorm_backward,                                                                                                  \
    (const float* x, const void* w, int32_t w_dtype, const float* rstd, const float* dy, float* dx,                    \
     bool accumulate_dx, void* dw, int32_t dw_dtype, bool accumulate_dw, int64_t rows, int64_t dim),                   \
    (x, w, w_dtype, rstd, dy, dx, accumulate_dx, dw, dw_dtype, accumulate_dw, rows, dim))                              \
  /* Rotary embedding in place on [batch, seq, heads, head_dim] (rotate-half pairing i, i + d/2);                      \
     inverse rotates back, which is the backward of the forward rotation. */                                           \
  X(rope, (float* x, const AttentionDesc& a, float theta, bool inverse), (x, a, theta, inverse))                       \
  /* Causal softmax attention; lse[b, h, t] (log-sum-exp of each query's scaled scores) is kept for                    \
     the backward, which recomputes the probabilities instead of storing seq^2 of them. */                             \
  X(attention_forward,                                                                                                 \
    (const float* q, const float* k, const float* v, float* out, float* lse, const AttentionDesc& a),                  \
    (q, k, v, out, lse, a))                                                                                            \
  X(attention_backward,                                                                                                \
    (const float* q, const float* k, const float* v, const float* out, const float* lse, const float* dout, float* dq, \
     float* dk, float* dv, const AttentionDesc& a),                                                                    \
    (q, k, v, out, lse, dout, dq, dk, dv, a))                                                                          \
  /* out = silu(gate) * up, elementwise */                                                                             \
  X(swiglu_forward, (const float* gate, const float* up, float* out, int64_t n), (gate, up, out, n))                   \
  X(swiglu_backward, (const float* gate, const float* up, const float* dout, float* dgate, float* dup, int64_t n),     \
    (gate, up, dout, dgate, dup, n))                                                                                   \
  /* Per-row cross-entropy of logits [rows, vocab] against targets; when dlogits is given (it may                      \
     alias logits) it receives (softmax - onehot) * grad_scale. Targets < 0 are ignored (loss 0,                       \
     gradient 0). */                                                                                                   \
  X(cross_entropy,                                                                                                     \
    (const float* logits, const int32_t* targets, int64_t rows, int64_t vocab, float* losses, float* dlogits,          \
     float grad_scale),                                                                                                \
    (logits, targets, rows, vocab, losses, dlogits, grad_scale))                                                       \
  /* y += alpha * x */                                                                                                 \
  X(axpy, (float* y, const float* x, int64_t n, float alpha), (y, x, n, alpha))                                        \
  /* dst[r, j] = scale[j] * src[r, idx[j]] (scale 1 when null): the columns a compressed gradient                      \
     needs, so Grass's rho * dW[sigma, :] = (rho * dY[:, sigma])^T X never forms dW. */                                \
  X(gather_columns,                                                                                                    \
    (const float* src, int64_t rows, int64_t cols, const int32_t* idx, const float* scale, int64_t k, float* dst),     \
    (src, rows, cols, idx, scale, k, dst))

// The C API of each op (frugal_model.h), the addon's `model` functions and their TS types
// (lib/model/native-ops.ts) come from two more lists here. FRUGAL_MODEL_C_API names the C entries
// in order: X(op, jsName) declares frugal_model_<op> and the JS function model.<jsName>.
// FRUGAL_MODEL_C_ARGS_<op>(A) lists its arguments between the device (first) and the stream
// (last), one A(kind, C type, C name, JS name) each; kind is how JS passes it: PTR (a bigint
// address), NULLABLE (a bigint or null), DTYPE, SIZE (an integer >= 0), FLAG (a boolean), NUM (a
// number), SHAPE (an {batch, seq, heads, headDim, scale?} object). The // lines above each args
// list are the function's comment in frugal_model.h. The C API (native/model/model_c_api.cpp)
// defines checked_<op>(device, arguments, stream): its checks, then the call through the backend.
// The addon's bindings expand the same lists; scripts/gen-model-ops.js reads this text (one
// A(...) per argument, as written here) and writes frugal_model.h's declarations and the TS
// types, which C and TS cannot expand; the build runs it and a test fails when they are stale.
#define FRUGAL_MODEL_C_API(X)              \
  X(gemm, gemm)                            \
  X(embedding_forward, embeddingForward)   \
  X(embedding_backward, embeddingBackward) \
  X(rmsnorm_forward, rmsnormForward)       \
  X(rmsnorm_backward, rmsnormBackward)     \
  X(rope, rope)                            \
  X(attention_forward, attentionForward)   \
  X(attention_backward, attentionBackward) \
  X(swiglu_forward, swigluForward)         \
  X(swiglu_backward, swigluBackward)       \
  X(cross_entropy, crossEntropy)           \
  X(axpy, axpy)                            \
  X(gather_columns, gatherColumns)

// C = alpha * op(A) op(B) + beta * C, op(A) m x k, op(B) k x n, with leading dimensions (row
// strides) lda, ldb, ldc. A, B: F32/BF16/F16; C: F32/BF16/F16. beta == 0 ignores C's contents.
#define FRUGAL_MODEL_C_ARGS_gemm(A)                                                                \
  A(FLAG, int32_t, trans_a, transA)                                                                \
  A(FLAG, int32_t, trans_b, transB)                                                                \
  A(SIZE, int64_t, m, m)                                                                           \
  A(SIZE, int64_t, n, n)                                                                           \
  A(SIZE, int64_t, k, k)                                                                           \
  A(NUM, float, alpha, alpha) A(PTR, const void*, a, a) A(DTYPE, frugal_dtype, a_dtype, aDtype)    \
      A(SIZE, int64_t, lda, lda) A(PTR, const void*, b, b) A(DTYPE, frugal_dtype, b_dtype, bDtype) \
          A(SIZE, int64_t, ldb, ldb) A(NUM, float, beta, beta) A(PTR, void*, c, c)                 \
              A(DTYPE, frugal_dtype, c_dtype, cDtype) A(SIZE, int64_t, ldc, ldc)
// out[i, :] = table[ids[i], :], table vocab x dim. Ids must lie in [0, vocab).
#define FRUGAL_MODEL_C_ARGS_embedding_forward(A) \
  A(PTR, const int32_t*, ids, ids)               \
  A(SIZE, int64_t, n, n)                         \
  A(PTR, const void*, table, table)              \
  A(DTYPE, frugal_dtype, dtype, dtype)           \
  A(SIZE, int64_t, vocab, vocab) A(SIZE, int64_t, dim, dim) A(PTR, float*, out, out)
// dtable[ids[i], :] += dout[i, :]; dtable is zeroed first unless accumulate. Deterministic.
#define FRUGAL_MODEL_C_ARGS_embedding_backward(A) \
  A(PTR, const int32_t*, ids, ids)                \
  A(SIZE, int64_t, n, n)                          \
  A(PTR, const float*, dout, dout)                \
  A(PTR, void*, dtable, dtable)                   \
  A(DTYPE, frugal_dtype, dtype, dtype)            \
  A(SIZE, int64_t, vocab, vocab) A(SIZE, int64_t, dim, dim) A(FLAG, int32_t, accumulate, accumulate)
// y = x * rstd * w with rstd[r] = 1 / sqrt(mean(x[r, :]^2) + eps), kept for the backward.
#define FRUGAL_MODEL_C_ARGS_rmsnorm_forward(A) \
  A(PTR, const float*, x, x)                   \
  A(PTR, const void*, w, w)                    \
  A(DTYPE, frugal_dtype, w_dtype, wDtype)      \
  A(PTR, float*, y, y)                         \
  A(PTR, float*, rstd, rstd) A(SIZE, int64_t, rows, rows) A(SIZE, int64_t, dim, dim) A(NUM, float, eps, eps)
// dx (+)= the input gradient (dx may be NULL), dw (+)= sum over rows of dy * x * rstd (dw may be
// NULL). accumulate_* adds to the buffer's contents instead of overwriting them.
#define FRUGAL_MODEL_C_ARGS_rmsnorm_backward(A)                                                        \
  A(PTR, const float*, x, x)                                                                           \
  A(PTR, const void*, w, w)                                                                            \
  A(DTYPE, frugal_dtype, w_dtype, wDtype)                                                              \
  A(PTR, const float*, rstd, rstd)                                                                     \
  A(PTR, const float*, dy, dy)                                                                         \
  A(NULLABLE, float*, dx, dx) A(FLAG, int32_t, accumulate_dx, accumulateDx) A(NULLABLE, void*, dw, dw) \
      A(DTYPE, frugal_dtype, dw_dtype, dwDtype) A(FLAG, int32_t, accumulate_dw, accumulateDw)          \
          A(SIZE, int64_t, rows, rows) A(SIZE, int64_t, dim, dim)
// Rotary position embedding in place on [batch, seq, heads * head_dim] (pairs i and i + head_dim/2,
// angle pos * theta^(-2i / head_dim)); inverse rotates back, which is the forward's backward.
#define FRUGAL_MODEL_C_ARGS_rope(A) \
  A(PTR, float*, x, x)              \
  A(SHAPE, const frugal_attention_shape*, shape, shape) A(NUM, float, theta, theta) A(FLAG, int32_t, inverse, inverse)
// Causal softmax attention; lse ([batch, heads, seq] floats) receives each query's log-sum-exp of
// its scaled scores, which the backward uses to recompute the probabilities.
#define FRUGAL_MODEL_C_ARGS_attention_forward(A) \
  A(PTR, const float*, q, q)                     \
  A(PTR, const float*, k, k)                     \
  A(PTR, const float*, v, v)                     \
  A(PTR, float*, out, out) A(PTR, float*, lse, lse) A(SHAPE, const frugal_attention_shape*, shape, shape)
// dq, dk, dv are overwritten.
#define FRUGAL_MODEL_C_ARGS_attention_backward(A)                                                       \
  A(PTR, const float*, q, q)                                                                            \
  A(PTR, const float*, k, k)                                                                            \
  A(PTR, const float*, v, v)                                                                            \
  A(PTR, const float*, out, out)                                                                        \
  A(PTR, const float*, lse, lse)                                                                        \
  A(PTR, const float*, dout, dout) A(PTR, float*, dq, dq) A(PTR, float*, dk, dk) A(PTR, float*, dv, dv) \
      A(SHAPE, const frugal_attention_shape*, shape, shape)
// out = silu(gate) * up over n elements, and its backward (dgate, dup overwritten).
#define FRUGAL_MODEL_C_ARGS_swiglu_forward(A) \
  A(PTR, const float*, gate, gate) A(PTR, const float*, up, up) A(PTR, float*, out, out) A(SIZE, int64_t, n, n)
#define FRUGAL_MODEL_C_ARGS_swiglu_backward(A) \
  A(PTR, const float*, gate, gate)             \
  A(PTR, const float*, up, up)                 \
  A(PTR, const float*, dout, dout) A(PTR, float*, dgate, dgate) A(PTR, float*, dup, dup) A(SIZE, int64_t, n, n)
// Per-row cross-entropy of logits [rows, vocab] against targets (a target < 0 is ignored: loss 0,
// gradient 0). losses (rows floats) may be NULL; dlogits, when not NULL, receives
// (softmax - onehot) * grad_scale and may alias logits. Targets must be < vocab.
#define FRUGAL_MODEL_C_ARGS_cross_entropy(A) \
  A(PTR, const float*, logits, logits)       \
  A(PTR, const int32_t*, targets, targets)   \
  A(SIZE, int64_t, rows, rows)               \
  A(SIZE, int64_t, vocab, vocab)             \
  A(NULLABLE, float*, losses, losses) A(NULLABLE, float*, dlogits, dlogits) A(NUM, float, grad_scale, gradScale)
// y += alpha * x over n elements (residual connections).
#define FRUGAL_MODEL_C_ARGS_axpy(A) \
  A(PTR, float*, y, y) A(PTR, const float*, x, x) A(SIZE, int64_t, n, n) A(NUM, float, alpha, alpha)
// dst[r, j] = scale[j] * src[r, idx[j]] for src [rows, cols], dst [rows, k] (scale NULL: 1).
// With Grass's selection (indices and scales from frugal_optimizer_get_selection) this forms the
// compressed gradient of a linear layer without its full weight gradient: rows selected,
// Gc = gather(dY)^T X; columns selected, Gc = dY^T gather(X). Indices must lie in [0, cols).
#define FRUGAL_MODEL_C_ARGS_gather_columns(A) \
  A(PTR, const float*, src, src)              \
  A(SIZE, int64_t, rows, rows)                \
  A(SIZE, int64_t, cols, cols)                \
  A(PTR, const int32_t*, idx, idx)            \
  A(NULLABLE, const float*, scale, scale) A(SIZE, int64_t, k, k) A(PTR, float*, dst, dst)

// Strips the parentheses of a parameter or argument list from the table.
#define FRUGAL_UNPAREN(...) __VA_ARGS__

class ModelBackend {
 public:
  virtual ~ModelBackend() {}
  // True when the host can read the buffers (the CPU): the C API then range-checks ids and targets,
  // which on a GPU would need a host sync (there the kernels read an out-of-range id as padding).
  virtual bool buffers_on_host() const = 0;

#define FRUGAL_MODEL_OP_METHOD(name, params, args) virtual void name(FRUGAL_UNPAREN params, StreamHandle stream) = 0;
  FRUGAL_MODEL_OPS(FRUGAL_MODEL_OP_METHOD)
#undef FRUGAL_MODEL_OP_METHOD
};

// clang-format on
}  // namespace model

// The model ops of each backend, for the registry (devices.cpp) only. The CUDA one is nullptr, with
// the reason in *why, when the build has no CUDA (core/cuda_absent.cpp) or the device is unusable.
model::ModelBackend* cpu_model_backend();
model::ModelBackend* cuda_model_backend(int ordinal, std::string* why);

}  // namespace frugal
