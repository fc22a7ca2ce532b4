// frugal_group_options <-> a JS object whose keys are the C field names. One table describes
// every field (generated from the schema), so the conversion both ways and the unknown-key check cannot drift apart.
// Value ranges are the core's to check (it names the field); this layer checks types only.
#pragma once
#include <napi.h>

#include <cstddef>
#include <string>

#include "args.h"
#include "schema.generated.h"

namespace frugal_addon {

enum class FieldKind { F32, F64, I32, FLAG, ENUM, U64 };

struct OptionField {
  const char* name;
  FieldKind kind;
  size_t offset;
  int32_t enum_max;  // ENUM: values 0..enum_max
};

static_assert(sizeof(frugal_rule) == sizeof(int32_t), "enums are stored as int32");

// The fields come from schema/options.json (schema.generated.h), so adding an option is a schema edit.
#define FRUGAL_FIELD(name, kind, max) {#name, FieldKind::kind, offsetof(frugal_group_options, name), max},
inline const OptionField* option_fields(size_t* count) {
  static const OptionField fields[] = {FRUGAL_GROUP_OPTION_FIELDS(FRUGAL_FIELD)};
  *count = sizeof(fields) / sizeof(fields[0]);
  return fields;
}
#undef FRUGAL_FIELD

// Starts from the core's defaults and overwrites the fields present in `obj`.
inline frugal_group_options options_from_js(Napi::Env env, const Napi::Value& value, const std::string& name) {
  if (!value.IsObject() || value.IsArray())
    type_error(env, name + ": expected an options object, got " + describe(value));
  Napi::Object obj = value.As<Napi::Object>();
  frugal_group_options out;
  frugal_group_options_default(&out);
  size_t count = 0;
  const OptionField* fields = option_fields(&count);

  Napi::Array keys = obj.GetPropertyNames();
  for (uint32_t k = 0; k < keys.Length(); ++k) {
    std::string key = keys.Get(k).ToString().Utf8Value();
    const OptionField* field = nullptr;
    for (size_t i = 0; i < count; ++i) {
      if (key == fields[i].name) field = &fields[i];
    }
    if (!field) type_error(env, name + ": unknown field '" + key + "'");
    Napi::Value v = obj.Get(key);
    if (v.IsUndefined()) continue;
    std::string what = name + "." + key;
    char* base = reinterpret_cast<char*>(&out) + field->offset;
    switch (field->kind) {
      case FieldKind::F32: *reinterpret_cast<float*>(base) = (float)number_value(env, v, what); break;
      case FieldKind::F64: *reinterpret_cast<double*>(base) = number_value(env, v, what); break;
      case FieldKind::I32:
        *reinterpret_cast<int32_t*>(base) = (int32_t)integer_value(env, v, what, INT32_MIN, INT32_MAX);
        break;
      case FieldKind::FLAG: *reinterpret_cast<int32_t*>(base) = flag_value(env, v, what) ? 1 : 0; break;
      case FieldKind::ENUM:
        *reinterpret_cast<int32_t*>(base) = (int32_t)integer_value(env, v, what, 0, field->enum_max);
        break;
      case FieldKind::U64: *reinterpret_cast<uint64_t*>(base) = u64_value(env, v, what); break;
    }
  }
  return out;
}

inline Napi::Object options_to_js(Napi::Env env, const frugal_group_options& options) {
  Napi::Object obj = Napi::Object::New(env);
  size_t count = 0;
  const OptionField* fields = option_fields(&count);
  const char* base = reinterpret_cast<const char*>(&options);
  for (size_t i = 0; i < count; ++i) {
    const char* p = base + fields[i].offset;
    switch (fields[i].kind) {
      case FieldKind::F32: obj.Set(fields[i].name, Napi::Number::New(env, *reinterpret_cast<const float*>(p))); break;
      case FieldKind::F64: obj.Set(fields[i].name, Napi::Number::New(env, *reinterpret_cast<const double*>(p))); break;
      case FieldKind::I32:
      case FieldKind::ENUM:
        obj.Set(fields[i].name, Napi::Number::New(env, *reinterpret_cast<const int32_t*>(p)));
        break;
      case FieldKind::FLAG:
        obj.Set(fields[i].name, Napi::Boolean::New(env, *reinterpret_cast<const int32_t*>(p) != 0));
        break;
      case FieldKind::U64:
        obj.Set(fields[i].name, Napi::BigInt::New(env, *reinterpret_cast<const uint64_t*>(p)));
        break;
    }
  }
  return obj;
}

}  // namespace frugal_addon
