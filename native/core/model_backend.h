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

// C = alpha * op(A) op(B) + beta * C; op(A) is m x k, op(B) is k x n. A, B: F32 or BF16; C: F32
// or BF16 (accumulated in fp32). beta == 0 ignores C's old contents (NaN included).
struct GemmDesc {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.f;
  const void* a = nullptr; int32_t a_dtype = 0; int64_t lda = 0;
  const void* b = nullptr; int32_t b_dtype = 0; int64_t ldb = 0;
  float beta = 0.f;
  void* c = nullptr; int32_t c_dtype = 0; int64_t ldc = 0;
};

struct AttentionDesc {
  int64_t batch = 0, seq = 0, heads = 0, head_dim = 0;
  float scale = 1.f;  // applied to q.k (usually 1/sqrt(head_dim))
};

// X(name, (parameters), (the same names as arguments)), one line an op.
#define FRUGAL_MODEL_OPS(X)                                                                            \
  /* C = alpha * op(A) op(B) + beta * C (GemmDesc) */                                                   \
  X(gemm, (const GemmDesc& g), (g))                                                                     \
  /* out[i, :] = table[ids[i], :] */                                                                   \
  X(embedding_forward,                                                                                  \
    (const int32_t* ids, int64_t n, const void* table, int32_t dtype, int64_t vocab, int64_t dim,      \
     float* out),                                                                                       \
    (ids, n, table, dtype, vocab, dim, out))                                                            \
  /* dtable[ids[i], :] += dout[i, :] (dtable zeroed first unless accumulate) */                         \
  X(embedding_backward,                                                                                 \
    (const int32_t* ids, int64_t n, const float* dout, void* dtable, int32_t dtype, int64_t vocab,      \
     int64_t dim, bool accumulate),                                                                     \
    (ids, n, dout, dtable, dtype, vocab, dim, accumulate))                                              \
  /* y = x * rstd * w, rstd[r] = 1 / sqrt(mean(x[r]^2) + eps) */                                       \
  X(rmsnorm_forward,                                                                                    \
    (const float* x, const void* w, int32_t w_dtype, float* y, float* rstd, int64_t rows, int64_t dim, \
     float eps),                                                                                        \
    (x, w, w_dtype, y, rstd, rows, dim, eps))                                                           \
  /* dx (+)= d/dx, dw (+)= sum over rows of dy * x * rstd */                                            \
  X(rmsnorm_backward,                                                                                   \
    (const float* x, const void* w, int32_t w_dtype, const float* rstd, const float* dy, float* dx,    \
     bool accumulate_dx, void* dw, int32_t dw_dtype, bool accumulate_dw, int64_t rows, int64_t dim),    \
    (x, w, w_dtype, rstd, dy, dx, accumulate_dx, dw, dw_dtype, accumulate_dw, rows, dim))               \
  /* Rotary embedding in place on [batch, seq, heads, head_dim] (rotate-half pairing i, i + d/2);     \
     inverse rotates back, which is the backward of the forward rotation. */                          \
  X(rope, (float* x, const AttentionDesc& a, float theta, bool inverse), (x, a, theta, inverse))        \
  /* Causal softmax attention; lse[b, h, t] (log-sum-exp of each query's scaled scores) is kept for   \
     the backward, which recomputes the probabilities instead of storing seq^2 of them. */            \
  X(attention_forward,                                                                                  \
    (const float* q, const float* k, const float* v, float* out, float* lse, const AttentionDesc& a),   \
    (q, k, v, out, lse, a))                                                                             \
  X(attention_backward,                                                                                 \
    (const float* q, const float* k, const float* v, const float* out, const float* lse,                \
     const float* dout, float* dq, float* dk, float* dv, const AttentionDesc& a),                       \
    (q, k, v, out, lse, dout, dq, dk, dv, a))                                                           \
  /* out = silu(gate) * up, elementwise */                                                             \
  X(swiglu_forward, (const float* gate, const float* up, float* out, int64_t n), (gate, up, out, n))    \
  X(swiglu_backward,                                                                                    \
    (const float* gate, const float* up, const float* dout, float* dgate, float* dup, int64_t n),       \
    (gate, up, dout, dgate, dup, n))                                                                    \
  /* Per-row cross-entropy of logits [rows, vocab] against targets; when dlogits is given (it may     \
     alias logits) it receives (softmax - onehot) * grad_scale. Targets < 0 are ignored (loss 0,      \
     gradient 0). */                                                                                    \
  X(cross_entropy,                                                                                      \
    (const float* logits, const int32_t* targets, int64_t rows, int64_t vocab, float* losses,           \
     float* dlogits, float grad_scale),                                                                 \
    (logits, targets, rows, vocab, losses, dlogits, grad_scale))                                        \
  /* y += alpha * x */                                                                                 \
  X(axpy, (float* y, const float* x, int64_t n, float alpha), (y, x, n, alpha))                         \
  /* dst[r, j] = scale[j] * src[r, idx[j]] (scale 1 when null): the columns a compressed gradient     \
     needs, so Grass's rho * dW[sigma, :] = (rho * dY[:, sigma])^T X never forms dW. */               \
  X(gather_columns,                                                                                     \
    (const float* src, int64_t rows, int64_t cols, const int32_t* idx, const float* scale, int64_t k,   \
     float* dst),                                                                                       \
    (src, rows, cols, idx, scale, k, dst))

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

}  // namespace model

// The model ops of each backend, for the registry (devices.cpp) only. The CUDA one is nullptr, with
// the reason in *why, when the build has no CUDA (core/cuda_absent.cpp) or the device is unusable.
model::ModelBackend* cpu_model_backend();
model::ModelBackend* cuda_model_backend(int ordinal, std::string* why);

}  // namespace frugal
