// Node-API bindings of the model ops (frugal_model.h), attached to the addon's exports as
// `model`: one JS function per C function, arguments in the same order, pointers as bigint,
// every failed status thrown as a JS Error carrying frugal_last_error() (args.h's check()). The
// functions are expanded from the C API's list (FRUGAL_MODEL_C_API in core/model_backend.h), so an
// op needs nothing here. Each call runs under a KnownSpans check (cpu_pointers.h): on the CPU,
// every buffer the op touches (its extent worked out by the C API) must be memory the addon knows.
// The addon's init calls RegisterModelBindings(env, exports).
#include <napi.h>

#include "args.h"
#include "core/model_backend.h"
#include "cpu_pointers.h"
#include "frugal_model.h"

namespace frugal_addon {
namespace {

// {batch, seq, heads, headDim, scale?}
frugal_attention_shape attention_shape(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject() || v.IsArray())
    type_error(env, "shape: expected {batch, seq, heads, headDim, scale?}, got " + describe(v));
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

// Reads JS argument i as the C API's argument of the given kind (core/model_backend.h) into
// arg_<C name>: one statement per argument, so they are read, and their errors reported, left to
// right.
#define FRUGAL_JS_ARG_PTR(type, name, js) type arg_##name = static_cast<type>(a.ptr(i++, #js));
#define FRUGAL_JS_ARG_NULLABLE(type, name, js) type arg_##name = static_cast<type>(a.nullable(i++, #js));
#define FRUGAL_JS_ARG_DTYPE(type, name, js) type arg_##name = a.dtype(i++, #js);
#define FRUGAL_JS_ARG_SIZE(type, name, js) type arg_##name = a.size(i++, #js);
#define FRUGAL_JS_ARG_FLAG(type, name, js) type arg_##name = a.flag(i++, #js);
#define FRUGAL_JS_ARG_NUM(type, name, js) type arg_##name = a.num(i++, #js);
#define FRUGAL_JS_ARG_SHAPE(type, name, js)                                      \
  frugal_attention_shape arg_##name##_value = attention_shape(a.env, info[i++]); \
  type arg_##name = &arg_##name##_value;
#define FRUGAL_JS_ARG(kind, type, name, js) FRUGAL_JS_ARG_##kind(type, name, js)
#define FRUGAL_JS_COUNT(kind, type, name, js) +1
#define FRUGAL_JS_NAME(kind, type, name, js) , arg_##name

// model.<jsName>(device, arguments..., stream?) for every C function: the arguments in the C
// order, each checked by kind, then the C call (its buffers checked by KnownSpans); its failure
// is thrown.
#define FRUGAL_JS_FUNCTION(op, js)                                                            \
  Napi::Value op##_binding(const Napi::CallbackInfo& info) {                                  \
    Args a(info, 1 FRUGAL_MODEL_C_ARGS_##op(FRUGAL_JS_COUNT), "model." #js);                  \
    size_t i = 1;                                                                             \
    int32_t device = a.device(0);                                                             \
    FRUGAL_MODEL_C_ARGS_##op(FRUGAL_JS_ARG) void* stream = a.stream(i);                       \
    KnownSpans spans;                                                                         \
    frugal::ScopedBufferCheck installed(&spans);                                              \
    check(a.env, frugal_model_##op(device FRUGAL_MODEL_C_ARGS_##op(FRUGAL_JS_NAME), stream)); \
    return a.env.Undefined();                                                                 \
  }
FRUGAL_MODEL_C_API(FRUGAL_JS_FUNCTION)

#define FRUGAL_JS_ENTRY(op, js) {#js, op##_binding},
const Binding kModelFunctions[] = {FRUGAL_MODEL_C_API(FRUGAL_JS_ENTRY)};

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
