// The model ops' C ABI (frugal_model.h): each entry point checks its arguments, then calls the
// device's ModelBackend (core/model_backend.h) from the registry (core/devices.h), inside the
// core's guard (core/api_guard.h) that turns exceptions into a status plus the thread's last
// error. Validation happens before any work, so a failed call writes nothing.
#include <cmath>
#include <string>

#include "core/api_guard.h"
#include "core/devices.h"
#include "core/errors.h"
#include "core/model_backend.h"
#include "frugal_model.h"

using namespace frugal;
using namespace frugal::model;

namespace {

std::string str(int64_t v) { return std::to_string(v); }

// Float buffers must hold whole, naturally aligned elements.
void need_f32(const void* p, const char* name) {
  need(p, name);
  if ((uintptr_t)p % 4) invalid(std::string(name) + ": pointer is not aligned to 4-byte elements");
}
void positive(int64_t v, const char* name) {
  if (v <= 0) invalid(std::string(name) + ": expected a positive size, got " + str(v));
}
void non_negative(int64_t v, const char* name) {
  if (v < 0) invalid(std::string(name) + ": expected a size >= 0, got " + str(v));
}
void float_dtype(int32_t d, const char* name) {
  if (d != FRUGAL_F32 && d != FRUGAL_BF16 && d != FRUGAL_F16)
    invalid(std::string(name) + ": expected a float dtype (0 float32, 1 bfloat16, 2 float16), got " + str(d));
}
void typed(const void* p, int32_t dtype, const char* pointer_name, const char* dtype_name) {
  float_dtype(dtype, dtype_name);
  need(p, pointer_name);
  if ((uintptr_t)p % (dtype == FRUGAL_F32 ? 4 : 2))
    invalid(std::string(pointer_name) + ": pointer is not aligned to its elements");
}
void finite(float v, const char* name) {
  if (!std::isfinite(v)) invalid(std::string(name) + ": expected a finite number");
}

AttentionDesc attention_desc(const frugal_attention_shape* s) {
  need(s, "shape");
  positive(s->batch, "shape.batch");
  positive(s->seq, "shape.seq");
  positive(s->heads, "shape.heads");
  positive(s->head_dim, "shape.head_dim");
  finite(s->scale, "shape.scale");
  AttentionDesc a;
  a.batch = s->batch;
  a.seq = s->seq;
  a.heads = s->heads;
  a.head_dim = s->head_dim;
  a.scale = s->scale != 0.f ? s->scale : 1.f / std::sqrt((float)s->head_dim);
  return a;
}

// Ids and targets are checked where the host can read them (the CPU); on a GPU that would need a
// sync, so the kernels treat out-of-range entries as padding instead (documented in
// frugal_model.h: the bench's tokenizers never produce them).
void check_ids(const ModelBackend* ops, const int32_t* ids, int64_t n, int64_t limit, const char* name,
               bool allow_negative) {
  if (!ops->buffers_on_host()) return;
  for (int64_t i = 0; i < n; i++) {
    int32_t v = ids[i];
    if (v >= limit || (v < 0 && !allow_negative))
      invalid(std::string(name) + "[" + str(i) + "] = " + str(v) + " is outside [" + (allow_negative ? "-1" : "0") +
              ", " + str(limit) + ")");
  }
}

// Each op's checks, then its one call through the interface; the C entry points below wrap them.
void checked_gemm(int32_t device, int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const void* a, frugal_dtype a_dtype, int64_t lda, const void* b, frugal_dtype b_dtype, int64_t ldb,
                  float beta, void* c, frugal_dtype c_dtype, int64_t ldc, void* stream) {
  non_negative(m, "m");
  non_negative(n, "n");
  non_negative(k, "k");
  finite(alpha, "alpha");
  finite(beta, "beta");
  if (m == 0 || n == 0) return;
  typed(c, c_dtype, "c", "c_dtype");
  if (ldc < n) invalid("ldc: expected >= n (" + str(n) + "), got " + str(ldc));
  if (k > 0) {
    typed(a, a_dtype, "a", "a_dtype");
    typed(b, b_dtype, "b", "b_dtype");
    int64_t a_cols = trans_a ? m : k, b_cols = trans_b ? k : n;
    if (lda < a_cols) invalid("lda: expected >= " + str(a_cols) + " (columns of A as stored), got " + str(lda));
    if (ldb < b_cols) invalid("ldb: expected >= " + str(b_cols) + " (columns of B as stored), got " + str(ldb));
  }
  GemmDesc g;
  g.trans_a = trans_a != 0;
  g.trans_b = trans_b != 0;
  g.m = m;
  g.n = n;
  g.k = k;
  g.alpha = alpha;
  g.a = a;
  g.a_dtype = a_dtype;
  g.lda = lda;
  g.b = b;
  g.b_dtype = b_dtype;
  g.ldb = ldb;
  g.beta = beta;
  g.c = c;
  g.c_dtype = c_dtype;
  g.ldc = ldc;
  ModelBackend* ops = model_backend_for(device);
  ops->gemm(g, stream);
}

void checked_embedding_forward(int32_t device, const int32_t* ids, int64_t n, const void* table, frugal_dtype dtype,
                               int64_t vocab, int64_t dim, float* out, void* stream) {
  non_negative(n, "n");
  positive(vocab, "vocab");
  positive(dim, "dim");
  if (n == 0) return;
  need_f32(ids, "ids");
  typed(table, dtype, "table", "dtype");
  need_f32(out, "out");
  ModelBackend* ops = model_backend_for(device);
  check_ids(ops, ids, n, vocab, "ids", false);
  ops->embedding_forward(ids, n, table, dtype, vocab, dim, out, stream);
}

void checked_embedding_backward(int32_t device, const int32_t* ids, int64_t n, const float* dout, void* dtable,
                                frugal_dtype dtype, int64_t vocab, int64_t dim, int32_t accumulate, void* stream) {
  non_negative(n, "n");
  positive(vocab, "vocab");
  positive(dim, "dim");
  typed(dtable, dtype, "dtable", "dtype");
  if (n > 0) {
    need_f32(ids, "ids");
    need_f32(dout, "dout");
  }
  ModelBackend* ops = model_backend_for(device);
  check_ids(ops, ids, n, vocab, "ids", false);
  ops->embedding_backward(ids, n, dout, dtable, dtype, vocab, dim, accumulate != 0, stream);
}

void checked_rmsnorm_forward(int32_t device, const float* x, const void* w, frugal_dtype w_dtype, float* y, float* rstd,
                             int64_t rows, int64_t dim, float eps, void* stream) {
  non_negative(rows, "rows");
  positive(dim, "dim");
  if (!(eps > 0.f) || !std::isfinite(eps)) invalid("eps: expected a finite number > 0");
  if (rows == 0) return;
  need_f32(x, "x");
  typed(w, w_dtype, "w", "w_dtype");
  need_f32(y, "y");
  need_f32(rstd, "rstd");
  ModelBackend* ops = model_backend_for(device);
  ops->rmsnorm_forward(x, w, w_dtype, y, rstd, rows, dim, eps, stream);
}

void checked_rmsnorm_backward(int32_t device, const float* x, const void* w, frugal_dtype w_dtype, const float* rstd,
                              const float* dy, float* dx, int32_t accumulate_dx, void* dw, frugal_dtype dw_dtype,
                              int32_t accumulate_dw, int64_t rows, int64_t dim, void* stream) {
  non_negative(rows, "rows");
  positive(dim, "dim");
  if (dw) typed(dw, dw_dtype, "dw", "dw_dtype");
  if (rows == 0 && !dw) return;
  if (rows > 0) {
    need_f32(x, "x");
    typed(w, w_dtype, "w", "w_dtype");
    need_f32(rstd, "rstd");
    need_f32(dy, "dy");
    if (dx) need_f32(dx, "dx");
  }
  ModelBackend* ops = model_backend_for(device);
  ops->rmsnorm_backward(x, w, w_dtype, rstd, dy, dx, accumulate_dx != 0, dw, dw_dtype, accumulate_dw != 0, rows, dim,
                        stream);
}

void checked_rope(int32_t device, float* x, const frugal_attention_shape* shape, float theta, int32_t inverse,
                  void* stream) {
  AttentionDesc a = attention_desc(shape);
  if (a.head_dim % 2) invalid("shape.head_dim: rotary embedding needs an even head_dim, got " + str(a.head_dim));
  if (!(theta > 1.f) || !std::isfinite(theta)) invalid("theta: expected a finite number > 1");
  need_f32(x, "x");
  ModelBackend* ops = model_backend_for(device);
  ops->rope(x, a, theta, inverse != 0, stream);
}

void checked_attention_forward(int32_t device, const float* q, const float* k, const float* v, float* out, float* lse,
                               const frugal_attention_shape* shape, void* stream) {
  AttentionDesc a = attention_desc(shape);
  need_f32(q, "q");
  need_f32(k, "k");
  need_f32(v, "v");
  need_f32(out, "out");
  need_f32(lse, "lse");
  ModelBackend* ops = model_backend_for(device);
  ops->attention_forward(q, k, v, out, lse, a, stream);
}

void checked_attention_backward(int32_t device, const float* q, const float* k, const float* v, const float* out,
                                const float* lse, const float* dout, float* dq, float* dk, float* dv,
                                const frugal_attention_shape* shape, void* stream) {
  AttentionDesc a = attention_desc(shape);
  need_f32(q, "q");
  need_f32(k, "k");
  need_f32(v, "v");
  need_f32(out, "out");
  need_f32(lse, "lse");
  need_f32(dout, "dout");
  need_f32(dq, "dq");
  need_f32(dk, "dk");
  need_f32(dv, "dv");
  ModelBackend* ops = model_backend_for(device);
  ops->attention_backward(q, k, v, out, lse, dout, dq, dk, dv, a, stream);
}

void checked_swiglu_forward(int32_t device, const float* gate, const float* up, float* out, int64_t n, void* stream) {
  non_negative(n, "n");
  if (n == 0) return;
  need_f32(gate, "gate");
  need_f32(up, "up");
  need_f32(out, "out");
  ModelBackend* ops = model_backend_for(device);
  ops->swiglu_forward(gate, up, out, n, stream);
}

void checked_swiglu_backward(int32_t device, const float* gate, const float* up, const float* dout, float* dgate,
                             float* dup, int64_t n, void* stream) {
  non_negative(n, "n");
  if (n == 0) return;
  need_f32(gate, "gate");
  need_f32(up, "up");
  need_f32(dout, "dout");
  need_f32(dgate, "dgate");
  need_f32(dup, "dup");
  ModelBackend* ops = model_backend_for(device);
  ops->swiglu_backward(gate, up, dout, dgate, dup, n, stream);
}

void checked_cross_entropy(int32_t device, const float* logits, const int32_t* targets, int64_t rows, int64_t vocab,
                           float* losses, float* dlogits, float grad_scale, void* stream) {
  non_negative(rows, "rows");
  positive(vocab, "vocab");
  finite(grad_scale, "grad_scale");
  if (rows == 0) return;
  need_f32(logits, "logits");
  need_f32(targets, "targets");
  if (losses) need_f32(losses, "losses");
  if (dlogits) need_f32(dlogits, "dlogits");
  if (!losses && !dlogits) invalid("losses, dlogits: expected at least one output buffer");
  ModelBackend* ops = model_backend_for(device);
  check_ids(ops, targets, rows, vocab, "targets", true);
  ops->cross_entropy(logits, targets, rows, vocab, losses, dlogits, grad_scale, stream);
}

void checked_axpy(int32_t device, float* y, const float* x, int64_t n, float alpha, void* stream) {
  non_negative(n, "n");
  finite(alpha, "alpha");
  if (n == 0) return;
  need_f32(y, "y");
  need_f32(x, "x");
  ModelBackend* ops = model_backend_for(device);
  ops->axpy(y, x, n, alpha, stream);
}

void checked_gather_columns(int32_t device, const float* src, int64_t rows, int64_t cols, const int32_t* idx,
                            const float* scale, int64_t k, float* dst, void* stream) {
  non_negative(rows, "rows");
  positive(cols, "cols");
  non_negative(k, "k");
  if (rows == 0 || k == 0) return;
  need_f32(src, "src");
  need_f32(idx, "idx");
  if (scale) need_f32(scale, "scale");
  need_f32(dst, "dst");
  ModelBackend* ops = model_backend_for(device);
  check_ids(ops, idx, k, cols, "idx", false);
  ops->gather_columns(src, rows, cols, idx, scale, k, dst, stream);
}

}  // namespace

// frugal_model_<op>(device, arguments, stream) for every entry of FRUGAL_MODEL_C_API: the
// arguments are FRUGAL_MODEL_C_ARGS_<op>'s, and checked_<op> above must take them in that order.
#define FRUGAL_C_PARAM(kind, type, name, js) , type name
#define FRUGAL_C_NAME(kind, type, name, js) , name
#define FRUGAL_C_ENTRY(op, js)                                                                             \
  frugal_status frugal_model_##op(int32_t device FRUGAL_MODEL_C_ARGS_##op(FRUGAL_C_PARAM), void* stream) { \
    return guarded([&] { checked_##op(device FRUGAL_MODEL_C_ARGS_##op(FRUGAL_C_NAME), stream); });         \
  }

extern "C" {
FRUGAL_MODEL_C_API(FRUGAL_C_ENTRY)
}  // extern "C"
