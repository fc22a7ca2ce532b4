// Node-API bindings of the model ops (frugal_model.h), attached to the addon's exports as
// `model`: one JS function per C function, arguments in the same order, pointers as bigint,
// every failed status thrown as a JS Error carrying frugal_last_error() (args.h's check()).
// The addon's init calls RegisterModelBindings(env, exports).
#include <napi.h>

#include "args.h"
#include "frugal_model.h"

namespace frugal_addon {
namespace {

template <typename T> T* as(void* p) { return static_cast<T*>(p); }

// {batch, seq, heads, headDim, scale?}
frugal_attention_shape attention_shape(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject() || v.IsArray()) type_error(env, "shape: expected {batch, seq, heads, headDim, scale?}, got " + describe(v));
  Napi::Object o = v.As<Napi::Object>();
  frugal_attention_shape s;
  s.batch = integer_value(env, o.Get("batch"), "shape.batch", 1, 1LL << 40);
  s.seq = integer_value(env, o.Get("seq"), "shape.seq", 1, 1LL << 40);
  s.heads = integer_value(env, o.Get("heads"), "shape.heads", 1, 1LL << 40);
  s.head_dim = integer_value(env, o.Get("headDim"), "shape.headDim", 1, 1LL << 40);
  Napi::Value scale = o.Get("scale");
  s.scale = scale.IsUndefined() ? 0.f : (float)number_value(env, scale, "shape.scale");
  return s;
}

// gemm(device, transA, transB, m, n, k, alpha, a, aDtype, lda, b, bDtype, ldb, beta, c, cDtype, ldc, stream?)
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Args a(info, 17, "model.gemm");
  check(a.env, frugal_model_gemm(a.device(0), a.flag(1, "transA"), a.flag(2, "transB"), a.size(3, "m"),
                                 a.size(4, "n"), a.size(5, "k"), a.num(6, "alpha"), a.ptr(7, "a"),
                                 a.dtype(8, "aDtype"), a.size(9, "lda"), a.ptr(10, "b"), a.dtype(11, "bDtype"),
                                 a.size(12, "ldb"), a.num(13, "beta"), a.ptr(14, "c"), a.dtype(15, "cDtype"),
                                 a.size(16, "ldc"), a.stream(17)));
  return a.env.Undefined();
}

// embeddingForward(device, ids, n, table, dtype, vocab, dim, out, stream?)
Napi::Value EmbeddingForward(const Napi::CallbackInfo& info) {
  Args a(info, 8, "model.embeddingForward");
  check(a.env, frugal_model_embedding_forward(a.device(0), as<const int32_t>(a.ptr(1, "ids")), a.size(2, "n"),
                                              a.ptr(3, "table"), a.dtype(4, "dtype"), a.size(5, "vocab"),
                                              a.size(6, "dim"), as<float>(a.ptr(7, "out")), a.stream(8)));
  return a.env.Undefined();
}

// embeddingBackward(device, ids, n, dout, dtable, dtype, vocab, dim, accumulate, stream?)
Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  Args a(info, 9, "model.embeddingBackward");
  check(a.env, frugal_model_embedding_backward(a.device(0), as<const int32_t>(a.ptr(1, "ids")), a.size(2, "n"),
                                               as<const float>(a.ptr(3, "dout")), a.ptr(4, "dtable"),
                                               a.dtype(5, "dtype"), a.size(6, "vocab"), a.size(7, "dim"),
                                               a.flag(8, "accumulate"), a.stream(9)));
  return a.env.Undefined();
}

// rmsnormForward(device, x, w, wDtype, y, rstd, rows, dim, eps, stream?)
Napi::Value RmsnormForward(const Napi::CallbackInfo& info) {
  Args a(info, 9, "model.rmsnormForward");
  check(a.env, frugal_model_rmsnorm_forward(a.device(0), as<const float>(a.ptr(1, "x")), a.ptr(2, "w"),
                                            a.dtype(3, "wDtype"), as<float>(a.ptr(4, "y")),
                                            as<float>(a.ptr(5, "rstd")), a.size(6, "rows"), a.size(7, "dim"),
                                            a.num(8, "eps"), a.stream(9)));
  return a.env.Undefined();
}

// rmsnormBackward(device, x, w, wDtype, rstd, dy, dx|null, accumulateDx, dw|null, dwDtype, accumulateDw,
//                 rows, dim, stream?)
Napi::Value RmsnormBackward(const Napi::CallbackInfo& info) {
  Args a(info, 13, "model.rmsnormBackward");
  check(a.env, frugal_model_rmsnorm_backward(
                   a.device(0), as<const float>(a.ptr(1, "x")), a.ptr(2, "w"), a.dtype(3, "wDtype"),
                   as<const float>(a.ptr(4, "rstd")), as<const float>(a.ptr(5, "dy")), as<float>(a.nullable(6, "dx")),
                   a.flag(7, "accumulateDx"), a.nullable(8, "dw"), a.dtype(9, "dwDtype"), a.flag(10, "accumulateDw"),
                   a.size(11, "rows"), a.size(12, "dim"), a.stream(13)));
  return a.env.Undefined();
}

// rope(device, x, shape, theta, inverse, stream?)
Napi::Value Rope(const Napi::CallbackInfo& info) {
  Args a(info, 5, "model.rope");
  frugal_attention_shape s = attention_shape(a.env, info[2]);
  check(a.env, frugal_model_rope(a.device(0), as<float>(a.ptr(1, "x")), &s, a.num(3, "theta"),
                                 a.flag(4, "inverse"), a.stream(5)));
  return a.env.Undefined();
}

// attentionForward(device, q, k, v, out, lse, shape, stream?)
Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  Args a(info, 7, "model.attentionForward");
  frugal_attention_shape s = attention_shape(a.env, info[6]);
  check(a.env, frugal_model_attention_forward(a.device(0), as<const float>(a.ptr(1, "q")),
                                              as<const float>(a.ptr(2, "k")), as<const float>(a.ptr(3, "v")),
                                              as<float>(a.ptr(4, "out")), as<float>(a.ptr(5, "lse")), &s,
                                              a.stream(7)));
  return a.env.Undefined();
}

// attentionBackward(device, q, k, v, out, lse, dout, dq, dk, dv, shape, stream?)
Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  Args a(info, 11, "model.attentionBackward");
  frugal_attention_shape s = attention_shape(a.env, info[10]);
  check(a.env, frugal_model_attention_backward(
                   a.device(0), as<const float>(a.ptr(1, "q")), as<const float>(a.ptr(2, "k")),
                   as<const float>(a.ptr(3, "v")), as<const float>(a.ptr(4, "out")), as<const float>(a.ptr(5, "lse")),
                   as<const float>(a.ptr(6, "dout")), as<float>(a.ptr(7, "dq")), as<float>(a.ptr(8, "dk")),
                   as<float>(a.ptr(9, "dv")), &s, a.stream(11)));
  return a.env.Undefined();
}

// swigluForward(device, gate, up, out, n, stream?)
Napi::Value SwigluForward(const Napi::CallbackInfo& info) {
  Args a(info, 5, "model.swigluForward");
  check(a.env, frugal_model_swiglu_forward(a.device(0), as<const float>(a.ptr(1, "gate")),
                                           as<const float>(a.ptr(2, "up")), as<float>(a.ptr(3, "out")),
                                           a.size(4, "n"), a.stream(5)));
  return a.env.Undefined();
}

// swigluBackward(device, gate, up, dout, dgate, dup, n, stream?)
Napi::Value SwigluBackward(const Napi::CallbackInfo& info) {
  Args a(info, 7, "model.swigluBackward");
  check(a.env, frugal_model_swiglu_backward(a.device(0), as<const float>(a.ptr(1, "gate")),
                                            as<const float>(a.ptr(2, "up")), as<const float>(a.ptr(3, "dout")),
                                            as<float>(a.ptr(4, "dgate")), as<float>(a.ptr(5, "dup")),
                                            a.size(6, "n"), a.stream(7)));
  return a.env.Undefined();
}

// crossEntropy(device, logits, targets, rows, vocab, losses|null, dlogits|null, gradScale, stream?)
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  Args a(info, 8, "model.crossEntropy");
  check(a.env, frugal_model_cross_entropy(a.device(0), as<const float>(a.ptr(1, "logits")),
                                          as<const int32_t>(a.ptr(2, "targets")), a.size(3, "rows"),
                                          a.size(4, "vocab"), as<float>(a.nullable(5, "losses")),
                                          as<float>(a.nullable(6, "dlogits")), a.num(7, "gradScale"), a.stream(8)));
  return a.env.Undefined();
}

// axpy(device, y, x, n, alpha, stream?)
Napi::Value Axpy(const Napi::CallbackInfo& info) {
  Args a(info, 5, "model.axpy");
  check(a.env, frugal_model_axpy(a.device(0), as<float>(a.ptr(1, "y")), as<const float>(a.ptr(2, "x")),
                                 a.size(3, "n"), a.num(4, "alpha"), a.stream(5)));
  return a.env.Undefined();
}

// gatherColumns(device, src, rows, cols, idx, scale|null, k, dst, stream?)
Napi::Value GatherColumns(const Napi::CallbackInfo& info) {
  Args a(info, 8, "model.gatherColumns");
  check(a.env, frugal_model_gather_columns(a.device(0), as<const float>(a.ptr(1, "src")), a.size(2, "rows"),
                                           a.size(3, "cols"), as<const int32_t>(a.ptr(4, "idx")),
                                           as<const float>(a.nullable(5, "scale")), a.size(6, "k"),
                                           as<float>(a.ptr(7, "dst")), a.stream(8)));
  return a.env.Undefined();
}

const Binding kModelFunctions[] = {
    {"gemm", Gemm},
    {"embeddingForward", EmbeddingForward},
    {"embeddingBackward", EmbeddingBackward},
    {"rmsnormForward", RmsnormForward},
    {"rmsnormBackward", RmsnormBackward},
    {"rope", Rope},
    {"attentionForward", AttentionForward},
    {"attentionBackward", AttentionBackward},
    {"swigluForward", SwigluForward},
    {"swigluBackward", SwigluBackward},
    {"crossEntropy", CrossEntropy},
    {"axpy", Axpy},
    {"gatherColumns", GatherColumns},
};

void attach_model_functions(Napi::Env env, Napi::Object exports) {
  Napi::Object model = Napi::Object::New(env);
  attach(env, model, kModelFunctions);
  exports.Set("model", model);
}

}  // namespace
}  // namespace frugal_addon

// At global scope, so addon.cpp needs only a forward declaration:
//   void RegisterModelBindings(Napi::Env env, Napi::Object exports);
void RegisterModelBindings(Napi::Env env, Napi::Object exports) { frugal_addon::attach_model_functions(env, exports); }
