/* frugal_model.h: the C API of the model ops behind frugal-optim's training bench.
 *
 * The forward and backward pieces of a LLaMA-style decoder (GEMM, embedding, RMSNorm, rotary
 * embedding, causal attention, SwiGLU, cross-entropy) as calls on raw buffers, so any runtime can
 * build a model whose weights frugal's optimizers then step. Conventions are frugal.h's:
 * - every function returns a frugal_status; on failure frugal_last_error() says which argument
 *   was wrong and what was expected, and nothing was written;
 * - device: FRUGAL_CPU (-1) or a CUDA ordinal; every buffer must live on that device;
 * - stream: a cudaStream_t as void* (NULL: the legacy default stream), ignored on the CPU. Calls
 *   are enqueued without a host sync;
 * - layouts are row-major. Activations are float32 [rows, width] with rows = batch * seq (token t
 *   of sequence b at row b * seq + t). Weights are [out, in] (y = x W^T) in float32 or bfloat16
 *   (float16 accepted), always accumulated in float32.
 * - Attention tensors q, k, v, out are [batch, seq, heads * head_dim].
 * - On the CPU the ops run on the persistent thread pool of frugal.h's "CPU threads" (sized by
 *   frugal_set_num_threads or FRUGAL_NUM_THREADS) and their results do not depend on its size.
 * - Ids, targets and gather indices are range-checked on the CPU. On a GPU that would need a host
 *   sync, so there an out-of-range id reads as a zero row (a target as an ignored position).
 * - CUDA attention takes head_dim <= 256 (any sequence length).
 */
#ifndef FRUGAL_MODEL_H
#define FRUGAL_MODEL_H

#include "frugal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* C = alpha * op(A) op(B) + beta * C, op(A) m x k, op(B) k x n, with leading dimensions (row
 * strides) lda, ldb, ldc. A, B: F32/BF16/F16; C: F32/BF16/F16. beta == 0 ignores C's contents. */
FRUGAL_API frugal_status frugal_model_gemm(int32_t device, int32_t trans_a, int32_t trans_b, int64_t m, int64_t n,
                                           int64_t k, float alpha, const void* a, frugal_dtype a_dtype, int64_t lda,
                                           const void* b, frugal_dtype b_dtype, int64_t ldb, float beta, void* c,
                                           frugal_dtype c_dtype, int64_t ldc, void* stream);

/* out[i, :] = table[ids[i], :], table vocab x dim. Ids must lie in [0, vocab). */
FRUGAL_API frugal_status frugal_model_embedding_forward(int32_t device, const int32_t* ids, int64_t n,
                                                        const void* table, frugal_dtype dtype, int64_t vocab,
                                                        int64_t dim, float* out, void* stream);
/* dtable[ids[i], :] += dout[i, :]; dtable is zeroed first unless accumulate. Deterministic. */
FRUGAL_API frugal_status frugal_model_embedding_backward(int32_t device, const int32_t* ids, int64_t n,
                                                         const float* dout, void* dtable, frugal_dtype dtype,
                                                         int64_t vocab, int64_t dim, int32_t accumulate,
                                                         void* stream);

/* y = x * rstd * w with rstd[r] = 1 / sqrt(mean(x[r, :]^2) + eps), kept for the backward. */
FRUGAL_API frugal_status frugal_model_rmsnorm_forward(int32_t device, const float* x, const void* w,
                                                      frugal_dtype w_dtype, float* y, float* rstd, int64_t rows,
                                                      int64_t dim, float eps, void* stream);
/* dx (+)= the input gradient (dx may be NULL), dw (+)= sum over rows of dy * x * rstd (dw may be
 * NULL). accumulate_* adds to the buffer's contents instead of overwriting them. */
FRUGAL_API frugal_status frugal_model_rmsnorm_backward(int32_t device, const float* x, const void* w,
                                                       frugal_dtype w_dtype, const float* rstd, const float* dy,
                                                       float* dx, int32_t accumulate_dx, void* dw,
                                                       frugal_dtype dw_dtype, int32_t accumulate_dw, int64_t rows,
                                                       int64_t dim, void* stream);

typedef struct {
  int64_t batch, seq, heads, head_dim;
  float scale; /* multiplies q.k; 0 means 1 / sqrt(head_dim) */
} frugal_attention_shape;

/* Rotary position embedding in place on [batch, seq, heads * head_dim] (pairs i and i + head_dim/2,
 * angle pos * theta^(-2i / head_dim)); inverse rotates back, which is the forward's backward. */
FRUGAL_API frugal_status frugal_model_rope(int32_t device, float* x, const frugal_attention_shape* shape, float theta,
                                           int32_t inverse, void* stream);

/* Causal softmax attention; lse ([batch, heads, seq] floats) receives each query's log-sum-exp of
 * its scaled scores, which the backward uses to recompute the probabilities. */
FRUGAL_API frugal_status frugal_model_attention_forward(int32_t device, const float* q, const float* k,
                                                        const float* v, float* out, float* lse,
                                                        const frugal_attention_shape* shape, void* stream);
/* dq, dk, dv are overwritten. */
FRUGAL_API frugal_status frugal_model_attention_backward(int32_t device, const float* q, const float* k,
                                                         const float* v, const float* out, const float* lse,
                                                         const float* dout, float* dq, float* dk, float* dv,
                                                         const frugal_attention_shape* shape, void* stream);

/* out = silu(gate) * up over n elements, and its backward (dgate, dup overwritten). */
FRUGAL_API frugal_status frugal_model_swiglu_forward(int32_t device, const float* gate, const float* up, float* out,
                                                     int64_t n, void* stream);
FRUGAL_API frugal_status frugal_model_swiglu_backward(int32_t device, const float* gate, const float* up,
                                                      const float* dout, float* dgate, float* dup, int64_t n,
                                                      void* stream);

/* Per-row cross-entropy of logits [rows, vocab] against targets (a target < 0 is ignored: loss 0,
 * gradient 0). losses (rows floats) may be NULL; dlogits, when not NULL, receives
 * (softmax - onehot) * grad_scale and may alias logits. Targets must be < vocab. */
FRUGAL_API frugal_status frugal_model_cross_entropy(int32_t device, const float* logits, const int32_t* targets,
                                                    int64_t rows, int64_t vocab, float* losses, float* dlogits,
                                                    float grad_scale, void* stream);

/* y += alpha * x over n elements (residual connections). */
FRUGAL_API frugal_status frugal_model_axpy(int32_t device, float* y, const float* x, int64_t n, float alpha,
                                           void* stream);

/* dst[r, j] = scale[j] * src[r, idx[j]] for src [rows, cols], dst [rows, k] (scale NULL: 1).
 * With Grass's selection (indices and scales from frugal_optimizer_get_selection) this forms the
 * compressed gradient of a linear layer without its full weight gradient: rows selected,
 * Gc = gather(dY)^T X; columns selected, Gc = dY^T gather(X). Indices must lie in [0, cols). */
FRUGAL_API frugal_status frugal_model_gather_columns(int32_t device, const float* src, int64_t rows, int64_t cols,
                                                     const int32_t* idx, const float* scale, int64_t k, float* dst,
                                                     void* stream);

#ifdef __cplusplus
}
#endif
#endif
