// The model ops as C++ calls on raw buffers: one declaration per op, shared by the CPU
// implementation (native/model/cpu_*.cpp) and the CUDA one (cuda/model/, declared in
// cuda/model/model_cuda.h with the same argument structs). The C API (model_c_api.cpp) validates
// arguments and dispatches here; these functions assume valid input.
//
// Layouts (row-major throughout):
// - activations are fp32 [rows, width]; rows = batch * seq, token t of sequence b at row b*seq+t;
// - weights are [out, in] like torch.nn.Linear, fp32 or bf16, used as y = x W^T;
// - attention q, k, v, out are [batch, seq, heads * head_dim] (head h at columns h*head_dim...).
#pragma once
#include <cstdint>

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

// ---- CPU implementations ----
void cpu_gemm(const GemmDesc& g);

// out[i, :] = table[ids[i], :]
void cpu_embedding_forward(const int32_t* ids, int64_t n, const void* table, int32_t dtype, int64_t dim, float* out);
// dtable[ids[i], :] += dout[i, :] (dtable zeroed first unless accumulate)
void cpu_embedding_backward(const int32_t* ids, int64_t n, const float* dout, void* dtable, int32_t dtype,
                            int64_t vocab, int64_t dim, bool accumulate);

// y = x * rstd * w, rstd[r] = 1 / sqrt(mean(x[r]^2) + eps)
void cpu_rmsnorm_forward(const float* x, const void* w, int32_t w_dtype, float* y, float* rstd, int64_t rows,
                         int64_t dim, float eps);
// dx (+)= d/dx, dw (+)= sum over rows of dy * x * rstd
void cpu_rmsnorm_backward(const float* x, const void* w, int32_t w_dtype, const float* rstd, const float* dy,
                          float* dx, bool accumulate_dx, void* dw, int32_t dw_dtype, bool accumulate_dw,
                          int64_t rows, int64_t dim);

// Rotary embedding in place on [batch, seq, heads, head_dim] (rotate-half pairing i, i + d/2);
// inverse rotates back, which is the backward of the forward rotation.
void cpu_rope(float* x, const AttentionDesc& a, float theta, bool inverse);

// Causal softmax attention; lse[b, h, t] (log-sum-exp of each query's scaled scores) is kept for
// the backward, which recomputes the probabilities instead of storing seq^2 of them.
void cpu_attention_forward(const float* q, const float* k, const float* v, float* out, float* lse,
                           const AttentionDesc& a);
void cpu_attention_backward(const float* q, const float* k, const float* v, const float* out, const float* lse,
                            const float* dout, float* dq, float* dk, float* dv, const AttentionDesc& a);

// out = silu(gate) * up, elementwise
void cpu_swiglu_forward(const float* gate, const float* up, float* out, int64_t n);
void cpu_swiglu_backward(const float* gate, const float* up, const float* dout, float* dgate, float* dup, int64_t n);

// Per-row cross-entropy of logits [rows, vocab] against targets; when dlogits is given (it may
// alias logits) it receives (softmax - onehot) * grad_scale. Targets < 0 are ignored (loss 0,
// gradient 0).
void cpu_cross_entropy(const float* logits, const int32_t* targets, int64_t rows, int64_t vocab, float* losses,
                       float* dlogits, float grad_scale);

// y += alpha * x
void cpu_axpy(float* y, const float* x, int64_t n, float alpha);

// dst[r, j] = scale[j] * src[r, idx[j]] (scale 1 when null): the columns a compressed gradient
// needs, so Grass's rho * dW[sigma, :] = (rho * dY[:, sigma])^T X never forms dW.
void cpu_gather_columns(const float* src, int64_t rows, int64_t cols, const int32_t* idx, const float* scale,
                        int64_t k, float* dst);

}  // namespace model
}  // namespace frugal
