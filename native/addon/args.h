// JS value -> C value conversions for the addon, each validating its input and throwing a JS
// TypeError/RangeError that names the argument, so a bad call never reaches the core (or crashes
// the process) with a half-converted value.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "frugal.h"
#include "native_memory.h"
#include "schema.generated.h"

namespace frugal_addon {

inline const char* status_name(frugal_status status) {
  switch (status) {
    case FRUGAL_OK: return "FRUGAL_OK";
    case FRUGAL_ERR_INVALID_ARGUMENT: return "FRUGAL_ERR_INVALID_ARGUMENT";
    case FRUGAL_ERR_OUT_OF_MEMORY: return "FRUGAL_ERR_OUT_OF_MEMORY";
    case FRUGAL_ERR_DEVICE: return "FRUGAL_ERR_DEVICE";
    case FRUGAL_ERR_UNSUPPORTED: return "FRUGAL_ERR_UNSUPPORTED";
    case FRUGAL_ERR_STATE: return "FRUGAL_ERR_STATE";
  }
  return "FRUGAL_ERR_UNKNOWN";
}

// Every C call goes through this: a failed status becomes a JS Error whose message is the core's
// own (it already names the argument), with the status name as `code` for programmatic checks.
// It also reports the native memory the call allocated or freed to the GC (native_memory.h).
// The JS Error for a failed status: the core's message (from the thread that made the call), or
// the status when there is none.
inline Napi::Error status_error(Napi::Env env, frugal_status status, const char* message) {
  std::string text = (message && *message) ? message : std::string("frugal: call failed with ") + status_name(status);
  Napi::Error error = Napi::Error::New(env, text);
  error.Set("code", Napi::String::New(env, status_name(status)));
  return error;
}

inline void check(Napi::Env env, frugal_status status) {
  report_native_memory(env);
  if (status == FRUGAL_OK) return;
  throw status_error(env, status, frugal_last_error());
}

[[noreturn]] inline void type_error(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}
[[noreturn]] inline void range_error(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, message);
}

inline std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsBigInt()) return "a bigint";
  if (v.IsNumber()) return "the number " + v.ToString().Utf8Value();
  if (v.IsString()) return "a string";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsArray()) return "an array";
  if (v.IsTypedArray()) return "a typed array";
  if (v.IsArrayBuffer()) return "an ArrayBuffer";
  if (v.IsFunction()) return "a function";
  return "an object";
}

inline double number_value(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsNumber()) type_error(env, name + ": expected a number, got " + describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) range_error(env, name + ": expected a finite number, got " + v.ToString().Utf8Value());
  return d;
}

inline int64_t integer_value(Napi::Env env, const Napi::Value& v, const std::string& name, int64_t lo, int64_t hi) {
  double d = number_value(env, v, name);
  if (d != std::floor(d) || d < (double)lo || d > (double)hi) {
    range_error(env, name + ": expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                         v.ToString().Utf8Value());
  }
  return (int64_t)d;
}

// Counts and byte sizes: a non-negative safe integer number, or a bigint.
inline uint64_t u64_value(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (v.IsBigInt()) {
    bool lossless = false;
    uint64_t u = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) range_error(env, name + ": expected a bigint in [0, 2^64), got " + v.ToString().Utf8Value());
    return u;
  }
  return (uint64_t)integer_value(env, v, name, 0, 9007199254740991LL);
}

inline bool flag_value(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value();
  return integer_value(env, v, name, 0, 1) != 0;
}

// Pointers cross the boundary as bigint. null/undefined (or 0n) is NULL, accepted only where the
// C API gives NULL a meaning (the default stream, "no gradient yet").
inline void* pointer_value(Napi::Env env, const Napi::Value& v, const std::string& name, bool nullable) {
  if (nullable && (v.IsNull() || v.IsUndefined())) return nullptr;
  if (!v.IsBigInt()) type_error(env, name + ": expected a pointer as a bigint, got " + describe(v));
  bool lossless = false;
  uint64_t u = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) range_error(env, name + ": pointer " + v.ToString().Utf8Value() + " is not a 64-bit address");
  if (u == 0 && !nullable) range_error(env, name + ": null pointer");
  return reinterpret_cast<void*>((uintptr_t)u);
}

inline Napi::Value pointer_to_js(Napi::Env env, const void* p) {
  return Napi::BigInt::New(env, (uint64_t)(uintptr_t)p);
}

inline int32_t device_value(Napi::Env env, const Napi::Value& v, const std::string& name) {
  return (int32_t)integer_value(env, v, name, FRUGAL_CPU, 1 << 20);
}

inline frugal_dtype dtype_value(Napi::Env env, const Napi::Value& v, const std::string& name) {
  return (frugal_dtype)integer_value(env, v, name, 0, FRUGAL_DTYPE_MAX);
}

// A host buffer: an ArrayBuffer or any ArrayBuffer view (typed array, DataView), as its backing
// store's bytes starting where the view starts.
struct HostBytes {
  uint8_t* data;
  size_t length;
};

// The lengths and offsets come from the engine (napi_get_*_info), never from JS properties, which
// a subclass or an own property can redefine. Works for SharedArrayBuffer-backed views too.
inline HostBytes host_bytes(Napi::Env env, const Napi::Value& v, const std::string& name) {
  void* data = nullptr;
  size_t length = 0;
  if (v.IsArrayBuffer()) {
    if (napi_get_arraybuffer_info(env, v, &data, &length) == napi_ok) return {static_cast<uint8_t*>(data), length};
  } else if (v.IsTypedArray()) {
    napi_typedarray_type type;
    size_t count = 0;
    if (napi_get_typedarray_info(env, v, &type, &count, &data, nullptr, nullptr) == napi_ok) {
      size_t size = 1;
      switch (type) {
        case napi_int16_array:
        case napi_uint16_array: size = 2; break;
        case napi_int32_array:
        case napi_uint32_array:
        case napi_float32_array: size = 4; break;
        case napi_float64_array:
        case napi_bigint64_array:
        case napi_biguint64_array: size = 8; break;
        default: size = 1;
      }
      // Float16Array (newer engines) reports a type this switch does not know: refuse it.
      if (type > napi_biguint64_array) type_error(env, name + ": unsupported typed array type");
      return {static_cast<uint8_t*>(data), count * size};
    }
  } else if (v.IsDataView()) {
    if (napi_get_dataview_info(env, v, &length, &data, nullptr, nullptr) == napi_ok)
      return {static_cast<uint8_t*>(data), length};
  }
  type_error(env, name + ": expected an ArrayBuffer or a typed array, got " + describe(v));
}

// [offset, offset + bytes) of a host buffer, bounds-checked.
inline uint8_t* host_range(Napi::Env env, const Napi::Value& buffer, const Napi::Value& offset, uint64_t bytes,
                           const std::string& name) {
  HostBytes host = host_bytes(env, buffer, name);
  uint64_t off = u64_value(env, offset, name + " byte offset");
  if (off > host.length || bytes > host.length - off) {
    range_error(env, name + ": range [" + std::to_string(off) + ", " + std::to_string(off + bytes) +
                         ") is outside the buffer's " + std::to_string(host.length) + " bytes");
  }
  return host.data + off;
}

inline void require_args(Napi::Env env, const Napi::CallbackInfo& info, size_t n, const char* fn) {
  if (info.Length() < n) {
    type_error(
        env, std::string(fn) + ": expected " + std::to_string(n) + " arguments, got " + std::to_string(info.Length()));
  }
}

// One binding call's arguments, each converted by the functions above under its name (so every
// message names the argument); the constructor refuses fewer than `required` arguments.
struct Args {
  Napi::Env env;
  const Napi::CallbackInfo& info;
  Args(const Napi::CallbackInfo& i, size_t required, const char* fn) : env(i.Env()), info(i) {
    require_args(env, i, required, fn);
  }
  int32_t device(size_t i, const char* name = "device") const { return device_value(env, info[i], name); }
  void* ptr(size_t i, const char* name) const { return pointer_value(env, info[i], name, false); }
  void* nullable(size_t i, const char* name) const { return pointer_value(env, info[i], name, true); }
  void* stream(size_t i) const { return pointer_value(env, info[i], "stream", true); }
  int64_t size(size_t i, const char* name) const { return integer_value(env, info[i], name, 0, 9007199254740991LL); }
  int64_t integer(size_t i, const std::string& name, int64_t lo, int64_t hi) const {
    return integer_value(env, info[i], name, lo, hi);
  }
  uint64_t u64(size_t i, const char* name) const { return u64_value(env, info[i], name); }
  frugal_dtype dtype(size_t i, const char* name) const { return dtype_value(env, info[i], name); }
  float num(size_t i, const char* name) const { return (float)number_value(env, info[i], name); }
  int32_t flag(size_t i, const char* name) const { return flag_value(env, info[i], name) ? 1 : 0; }
  // The C call's status as a JS Error (args.h check()), else undefined.
  Napi::Value done(frugal_status status) const {
    check(env, status);
    return env.Undefined();
  }
};

// A module's functions by name, registered in one loop (addon.cpp, model_bindings.cpp).
struct Binding {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};
template <size_t N>
void attach(Napi::Env env, Napi::Object target, const Binding (&list)[N]) {
  for (const Binding& b : list) target.Set(b.name, Napi::Function::New(env, b.fn, b.name));
}

}  // namespace frugal_addon
