// The model ops' C ABI (frugal_model.h): each entry point checks its arguments, then calls the
// device's ModelBackend (core/model_backend.h) from the registry (core/devices.h), inside the
// core's guard (core/api_guard.h) that turns exceptions into a status plus the thread's last
// error. Validation happens before any work, so a failed call writes nothing. Every size made
// from several arguments (element counts, strided extents) is multiplied with overflow checks
// (core/checked_size.h), and the extent of every buffer an op touches is handed to the calling
// thread's buffer check, if its binding installed one (core/buffer_check.h: the addon's, which
// holds CPU addresses to memory it knows).
#include <cmath>
#include <initializer_list>
#include <string>

#include "core/api_guard.h"
#include "core/buffer_check.h"
#include "core/checked_size.h"
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

// One buffer an op reads or writes: its argument name, address, and extent in elements of
// `element` bytes (a null pointer, or no elements, is not handed on).
struct Span {
  const char* name;
  const void* ptr;
  int64_t elems;
  int64_t element;
};
constexpr int64_t F32_BYTES = 4;
int64_t bytes_of(int32_t float_dtype) { return float_dtype == FRUGAL_F32 ? 4 : 2; }
// After every other check, before anything reads them (check_ids included).
void check_spans(int32_t device, std::initializer_list<Span> spans) {
  for (const Span& s : spans)
    if (s.ptr && s.elems > 0) check_buffer(device, s.name, s.ptr, (uint64_t)s.elems * (uint64_t)s.element);
}

// An attention shape, checked, with the sizes its buffers have.
struct AttentionSizes {
  AttentionDesc desc;
  int64_t elems;  // q, k, v, out and their gradients: batch * seq * heads * head_dim floats
  int64_t lse;    // batch * heads * seq floats
};

AttentionSizes attention_sizes(const frugal_attention_shape* s) {
  need(s, "shape");
  positive(s->batch, "shape.batch");
  positive(s->seq, "shape.seq");
  positive(s->heads, "shape.heads");
  positive(s->head_dim, "shape.head_dim");
  finite(s->scale, "shape.scale");
  AttentionSizes z;
  z.elems = checked_product("shape.batch * shape.seq * shape.heads * shape.head_dim",
                            {s->batch, s->seq, s->heads, s->head_dim});
  z.lse = z.elems / s->head_dim;
  // The seq x seq scores of one head, which the CPU attention forms per (batch, head).
  checked_product("shape.seq * shape.seq", {s->seq, s->seq});
  AttentionDesc& a = z.desc;
  a.batch = s->batch;
  a.seq = s->seq;
  a.heads = s->heads;
  a.head_dim = s->head_dim;
  a.scale = s->scale != 0.f ? s->scale : 1.f / std::sqrt((float)s->head_dim);
  return z;
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
  const int64_t c_elems = checked_extent("c: (m - 1) * ldc + n", m, n, ldc);
  int64_t a_elems = 0, b_elems = 0;
  if (k > 0) {
    typed(a, a_dtype, "a", "a_dtype");
    typed(b, b_dtype, "b", "b_dtype");
    int64_t a_cols = trans_a ? m : k, b_cols = trans_b ? k : n;
    if (lda < a_cols) invalid("lda: expected >= " + str(a_cols) + " (columns of A as stored), got " + str(lda));
    if (ldb < b_cols) invalid("ldb: expected >= " + str(b_cols) + " (columns of B as stored), got " + str(ldb));
    a_elems =
        trans_a ? checked_extent("a: (k - 1) * lda + m", k, m, lda) : checked_extent("a: (m - 1) * lda + k", m, k, lda);
    b_elems =
        trans_b ? checked_extent("b: (n - 1) * ldb + k", n, k, ldb) : checked_extent("b: (k - 1) * ldb + n", k, n, ldb);
  }
  check_spans(device, {{"a", a, a_elems, bytes_of(a_dtype)},
                       {"b", b, b_elems, bytes_of(b_dtype)},
                       {"c", c, c_elems, bytes_of(c_dtype)}});
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
  const int64_t table_elems = checked_product("vocab * dim", {vocab, dim});
  if (n == 0) return;
  need_f32(ids, "ids");
  typed(table, dtype, "table", "dtype");
  need_f32(out, "out");
  check_spans(device, {{"ids", ids, n, 4},
                       {"table", table, table_elems, bytes_of(dtype)},
                       {"out", out, checked_product("n * dim", {n, dim}), F32_BYTES}});
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
  check_spans(device, {{"ids", ids, n, 4},
                       {"dout", dout, checked_product("n * dim", {n, dim}), F32_BYTES},
                       {"dtable", dtable, checked_product("vocab * dim", {vocab, dim}), bytes_of(dtype)}});
  ModelBackend* ops = model_backend_for(device);
  check_ids(ops, ids, n, vocab, "ids", false);
  ops->embedding_backward(ids, n, dout, dtable, dtype, vocab, dim, accumulate != 0, stream);
}

void checked_rmsnorm_forward(int32_t device, const float* x, const void* w, frugal_dtype w_dtype, float* y, float* rstd,
                             int64_t rows, int64_t dim, float eps, void* stream) {
  non_negative(rows, "rows");
  positive(dim, "dim");
  if (!(eps > 0.f) || !std::isfinite(eps)) invalid("eps: expected a finite number > 0");
  const int64_t elems = checked_product("rows * dim", {rows, dim});
  if (rows == 0) return;
  need_f32(x, "x");
  typed(w, w_dtype, "w", "w_dtype");
  need_f32(y, "y");
  need_f32(rstd, "rstd");
  check_spans(device, {{"x", x, elems, F32_BYTES},
                       {"w", w, dim, bytes_of(w_dtype)},
                       {"y", y, elems, F32_BYTES},
                       {"rstd", rstd, rows, F32_BYTES}});
  ModelBackend* ops = model_backend_for(device);
  ops->rmsnorm_forward(x, w, w_dtype, y, rstd, rows, dim, eps, stream);
}

void checked_rmsnorm_backward(int32_t device, const float* x, const void* w, frugal_dtype w_dtype, const float* rstd,
                              const float* dy, float* dx, int32_t accumulate_dx, void* dw, frugal_dtype dw_dtype,
                              int32_t accumulate_dw, int64_t rows, int64_t dim, void* stream) {
  non_negative(rows, "rows");
  positive(dim, "dim");
  const int64_t elems = checked_product("rows * dim", {rows, dim});
  if (dw) typed(dw, dw_dtype, "dw", "dw_dtype");
  if (rows == 0 && !dw) return;
  if (rows > 0) {
    need_f32(x, "x");
    typed(w, w_dtype, "w", "w_dtype");
    need_f32(rstd, "rstd");
    need_f32(dy, "dy");
    if (dx) need_f32(dx, "dx");
  }
  // With no rows only dw is touched (zeroed, or left as it is when accumulating).
  const int64_t rows_elems = rows > 0 ? elems : 0;
  check_spans(device, {{"x", x, rows_elems, F32_BYTES},
                       {"w", w, rows > 0 ? dim : 0, bytes_of(w_dtype)},
                       {"rstd", rstd, rows, F32_BYTES},
                       {"dy", dy, rows_elems, F32_BYTES},
                       {"dx", dx, rows_elems, F32_BYTES},
                       {"dw", dw, dim, bytes_of(dw_dtype)}});
  ModelBackend* ops = model_backend_for(device);
  ops->rmsnorm_backward(x, w, w_dtype, rstd, dy, dx, accumulate_dx != 0, dw, dw_dtype, accumulate_dw != 0, rows, dim,
                        stream);
}

void checked_rope(int32_t device, float* x, const frugal_attention_shape* shape, float theta, int32_t inverse,
                  void* stream) {
  const AttentionSizes z = attention_sizes(shape);
  const AttentionDesc& a = z.desc;
  if (a.head_dim % 2) invalid("shape.head_dim: rotary embedding needs an even head_dim, got " + str(a.head_dim));
  if (!(theta > 1.f) || !std::isfinite(theta)) invalid("theta: expected a finite number > 1");
  need_f32(x, "x");
  check_spans(device, {{"x", x, z.elems, F32_BYTES}});
  ModelBackend* ops = model_backend_for(device);
  ops->rope(x, a, theta, inverse != 0, stream);
}

void checked_attention_forward(int32_t device, const float* q, const float* k, const float* v, float* out, float* lse,
                               const frugal_attention_shape* shape, void* stream) {
  const AttentionSizes z = attention_sizes(shape);
  need_f32(q, "q");
  need_f32(k, "k");
  need_f32(v, "v");
  need_f32(out, "out");
  need_f32(lse, "lse");
  check_spans(device, {{"q", q, z.elems, F32_BYTES},
                       {"k", k, z.elems, F32_BYTES},
                       {"v", v, z.elems, F32_BYTES},
                       {"out", out, z.elems, F32_BYTES},
                       {"lse", lse, z.lse, F32_BYTES}});
  ModelBackend* ops = model_backend_for(device);
  ops->attention_forward(q, k, v, out, lse, z.desc, stream);
}

void checked_attention_backward(int32_t device, const float* q, const float* k, const float* v, const float* out,
                                const float* lse, const float* dout, float* dq, float* dk, float* dv,
                                const frugal_attention_shape* shape, void* stream) {
  const AttentionSizes z = attention_sizes(shape);
  need_f32(q, "q");
  need_f32(k, "k");
  need_f32(v, "v");
  need_f32(out, "out");
  need_f32(lse, "lse");
  need_f32(dout, "dout");
  need_f32(dq, "dq");
  need_f32(dk, "dk");
  need_f32(dv, "dv");
  check_spans(device, {{"q", q, z.elems, F32_BYTES},
                       {"k", k, z.elems, F32_BYTES},
                       {"v", v, z.elems, F32_BYTES},
                       {"out", out, z.elems, F32_BYTES},
                       {"lse", lse, z.lse, F32_BYTES},
                       {"dout", dout, z.elems, F32_BYTES},
                       {"dq", dq, z.elems, F32_BYTES},
                       {"dk", dk, z.elems, F32_BYTES},
                       {"dv", dv, z.elems, F32_BYTES}});
  ModelBackend* ops = model_backend_for(device);
  ops->attention_backward(q, k, v, out, lse, dout, dq, dk, dv, z.desc, stream);
}

void checked_swiglu_forward(int32_t device, const float* gate, const float* up, float* out, int64_t n, void* stream) {
  non_negative(n, "n");
  checked_product("n", {n});
  if (n == 0) return;
  need_f32(gate, "gate");
  need_f32(up, "up");
  need_f32(out, "out");
  check_spans(device, {{"gate", gate, n, F32_BYTES}, {"up", up, n, F32_BYTES}, {"out", out, n, F32_BYTES}});
  ModelBackend* ops = model_backend_for(device);
  ops->swiglu_forward(gate, up, out, n, stream);
}

void checked_swiglu_backward(int32_t device, const float* gate, const float* up, const float* dout, float* dgate,
                             float* dup, int64_t n, void* stream) {
  non_negative(n, "n");
  checked_product("n", {n});
  if (n == 0) return;
  need_f32(gate, "gate");
  need_f32(up, "up");
  need_f32(dout, "dout");
  need_f32(dgate, "dgate");
  need_f32(dup, "dup");
  check_spans(device, {{"gate", gate, n, F32_BYTES},
                       {"up", up, n, F32_BYTES},
                       {"dout", dout, n, F32_BYTES},
                       {"dgate", dgate, n, F32_BYTES},
                       {"dup", dup, n, F32_BYTES}});
  ModelBackend* ops = model_backend_for(device);
  ops->swiglu_backward(gate, up, dout, dgate, dup, n, stream);
}

void checked_cross_entropy(int32_t device, const float* logits, const int32_t* targets, int64_t rows, int64_t vocab,
                           float* losses, float* dlogits, float grad_scale, void* stream) {
  non_negative(rows, "rows");
  positive(vocab, "vocab");
  finite(grad_scale, "grad_scale");
  const int64_t elems = checked_product("rows * vocab", {rows, vocab});
  if (rows == 0) return;
  need_f32(logits, "logits");
  need_f32(targets, "targets");
  if (losses) need_f32(losses, "losses");
  if (dlogits) need_f32(dlogits, "dlogits");
  if (!losses && !dlogits) invalid("losses, dlogits: expected at least one output buffer");
  check_spans(device, {{"logits", logits, elems, F32_BYTES},
                       {"targets", targets, rows, 4},
                       {"losses", losses, rows, F32_BYTES},
                       {"dlogits", dlogits, elems, F32_BYTES}});
  ModelBackend* ops = model_backend_for(device);
  check_ids(ops, targets, rows, vocab, "targets", true);
  ops->cross_entropy(logits, targets, rows, vocab, losses, dlogits, grad_scale, stream);
}

void checked_axpy(int32_t device, float* y, const float* x, int64_t n, float alpha, void* stream) {
  non_negative(n, "n");
  checked_product("n", {n});
  finite(alpha, "alpha");
  if (n == 0) return;
  need_f32(y, "y");
  need_f32(x, "x");
  check_spans(device, {{"y", y, n, F32_BYTES}, {"x", x, n, F32_BYTES}});
  ModelBackend* ops = model_backend_for(device);
  ops->axpy(y, x, n, alpha, stream);
}

void checked_gather_columns(int32_t device, const float* src, int64_t rows, int64_t cols, const int32_t* idx,
                            const float* scale, int64_t k, float* dst, void* stream) {
  non_negative(rows, "rows");
  positive(cols, "cols");
  non_negative(k, "k");
  const int64_t src_elems = checked_product("rows * cols", {rows, cols});
  const int64_t dst_elems = checked_product("rows * k", {rows, k});
  if (rows == 0 || k == 0) return;
  need_f32(src, "src");
  need_f32(idx, "idx");
  if (scale) need_f32(scale, "scale");
  need_f32(dst, "dst");
  check_spans(device, {{"src", src, src_elems, F32_BYTES},
                       {"idx", idx, k, 4},
                       {"scale", scale, k, F32_BYTES},
                       {"dst", dst, dst_elems, F32_BYTES}});
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
