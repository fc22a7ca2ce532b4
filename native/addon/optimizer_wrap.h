// The JS class around a frugal_optimizer handle: one method per C function, arguments validated,
// results as plain JS values. The handle is destroyed by destroy() or, as a backstop, when the
// JS object is garbage collected.
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "cpu_pointers.h"
#include "group_options.h"

namespace frugal_addon {

class OptimizerWrap : public Napi::ObjectWrap<OptimizerWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeOptimizer",
                       {
                           InstanceMethod<&OptimizerWrap::AddGroup>("addGroup"),
                           InstanceMethod<&OptimizerWrap::SetGroupOptions>("setGroupOptions"),
                           InstanceMethod<&OptimizerWrap::AddParam>("addParam"),
                           InstanceMethod<&OptimizerWrap::SetBuffers>("setBuffers"),
                           InstanceMethod<&OptimizerWrap::SetCompressedGrad>("setCompressedGrad"),
                           InstanceMethod<&OptimizerWrap::SetClip>("setClip"),
                           InstanceMethod<&OptimizerWrap::SetNonFinite>("setNonFinite"),
                           InstanceMethod<&OptimizerWrap::SkippedSteps>("skippedSteps"),
                           InstanceMethod<&OptimizerWrap::SetSkippedSteps>("setSkippedSteps"),
                           InstanceMethod<&OptimizerWrap::Step>("step"),
                           InstanceMethod<&OptimizerWrap::NeedsRefresh>("needsRefresh"),
                           InstanceMethod<&OptimizerWrap::SetSelection>("setSelection"),
                           InstanceMethod<&OptimizerWrap::GetSelection>("getSelection"),
                           InstanceMethod<&OptimizerWrap::StateBytes>("stateBytes"),
                           InstanceMethod<&OptimizerWrap::StateTensors>("stateTensors"),
                           InstanceMethod<&OptimizerWrap::GetCounters>("getCounters"),
                           InstanceMethod<&OptimizerWrap::RestoreParam>("restoreParam"),
                           InstanceMethod<&OptimizerWrap::VerifyState>("verifyState"),
                           InstanceMethod<&OptimizerWrap::GetGroupState>("getGroupState"),
                           InstanceMethod<&OptimizerWrap::SetGroupState>("setGroupState"),
                           InstanceMethod<&OptimizerWrap::Destroy>("destroy"),
                           InstanceAccessor<&OptimizerWrap::Destroyed>("destroyed"),
                           InstanceAccessor<&OptimizerWrap::Device>("device"),
                       });
  }

  // new NativeOptimizer(device)
  explicit OptimizerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<OptimizerWrap>(info) {
    Napi::Env env = info.Env();
    require_args(env, info, 1, "NativeOptimizer");
    device_ = device_value(env, info[0], "device");
    check(env, frugal_optimizer_create(device_, &handle_));
  }

  ~OptimizerWrap() override {
    if (handle_) frugal_optimizer_destroy(handle_);
    handle_ = nullptr;
  }

 private:
  frugal_optimizer* handle_ = nullptr;
  int32_t device_ = FRUGAL_CPU;
  // Each param's buffers as last set, so that on the CPU every step checks (and leases for its
  // length) the memory it will read and write: see cpu_pointers.h.
  struct ParamBuffers {
    uint64_t numel;
    void* data;
    frugal_dtype dtype;
    void* grad;
    frugal_dtype grad_dtype;
    void* compressed = nullptr;
    frugal_dtype compressed_dtype = FRUGAL_F32;
  };
  std::unordered_map<int32_t, ParamBuffers> buffers_;

  // A misaligned pointer is left to the core, which refuses it with its own message.
  void check_cpu(Napi::Env env, const void* ptr, uint64_t bytes, frugal_dtype dtype, const std::string& name) {
    const uintptr_t size = dtype == FRUGAL_F32 || dtype == FRUGAL_I32 ? 4 : 2;
    if (ptr && reinterpret_cast<uintptr_t>(ptr) % size == 0) CpuSpan span(env, device_, ptr, bytes, name);
  }

  frugal_optimizer* live(Napi::Env env) {
    if (!handle_) throw Napi::Error::New(env, "optimizer: destroyed");
    return handle_;
  }
  int32_t index_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
    return (int32_t)integer_value(info.Env(), info[i], name, -1, INT32_MAX);
  }

  // addGroup(options) -> group index
  Napi::Value AddGroup(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 1, "addGroup");
    frugal_group_options options = options_from_js(env, info[0], "options");
    int32_t group = -1;
    check(env, frugal_optimizer_add_group(live(env), &options, &group));
    return Napi::Number::New(env, group);
  }

  // setGroupOptions(group, options)
  Napi::Value SetGroupOptions(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 2, "setGroupOptions");
    int32_t group = index_arg(info, 0, "group");
    frugal_group_options options = options_from_js(env, info[1], "options");
    check(env, frugal_optimizer_set_group_options(live(env), group, &options));
    return env.Undefined();
  }

  // addParam(group, {data, dtype, grad, gradDtype, shape, blockId}) -> param index
  Napi::Value AddParam(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 2, "addParam");
    int32_t group = index_arg(info, 0, "group");
    if (!info[1].IsObject()) type_error(env, "param: expected an object {data, dtype, grad, gradDtype, shape, blockId}");
    Napi::Object d = info[1].As<Napi::Object>();
    frugal_param_desc desc;
    frugal_param_desc_default(&desc);
    desc.data = pointer_value(env, d.Get("data"), "param.data", false);
    desc.dtype = dtype_value(env, d.Get("dtype"), "param.dtype");
    desc.grad = pointer_value(env, d.Get("grad"), "param.grad", true);
    Napi::Value grad_dtype = d.Get("gradDtype");
    desc.grad_dtype = grad_dtype.IsUndefined() ? desc.dtype : dtype_value(env, grad_dtype, "param.gradDtype");
    Napi::Value shape = d.Get("shape");
    if (!shape.IsArray()) type_error(env, "param.shape: expected an array of dimensions, got " + describe(shape));
    Napi::Array dims = shape.As<Napi::Array>();
    if (dims.Length() > FRUGAL_MAX_DIMS) {
      range_error(env, "param.shape: at most " + std::to_string(FRUGAL_MAX_DIMS) + " dimensions, got " +
                           std::to_string(dims.Length()));
    }
    desc.ndim = (int32_t)dims.Length();
    for (uint32_t i = 0; i < dims.Length(); ++i) {
      desc.shape[i] = integer_value(env, dims.Get(i), "param.shape[" + std::to_string(i) + "]", 0, INT64_C(1) << 53);
    }
    Napi::Value block_id = d.Get("blockId");
    desc.block_id = block_id.IsUndefined() ? 0 : (int32_t)integer_value(env, block_id, "param.blockId", 0, INT32_MAX);
    uint64_t numel = 1;
    for (int32_t i = 0; i < desc.ndim; ++i) {
      const uint64_t d = (uint64_t)desc.shape[i];
      if (d != 0 && numel > (UINT64_C(1) << 53) / d) range_error(env, "param.shape: more than 2^53 elements");
      numel *= d;
    }
    check_cpu(env, desc.data, span_bytes(env, numel, desc.dtype, "param.shape"), desc.dtype, "param.data");
    check_cpu(env, desc.grad, span_bytes(env, numel, desc.grad_dtype, "param.shape"), desc.grad_dtype, "param.grad");
    int32_t param = -1;
    check(env, frugal_optimizer_add_param(live(env), group, &desc, &param));
    buffers_[param] = ParamBuffers{numel, desc.data, desc.dtype, desc.grad, desc.grad_dtype};
    return Napi::Number::New(env, param);
  }

  // setBuffers(param, data, grad | null)
  Napi::Value SetBuffers(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 2, "setBuffers");
    int32_t param = index_arg(info, 0, "param");
    void* data = pointer_value(env, info[1], "data", false);
    void* grad = pointer_value(env, info[2], "grad", true);
    auto known = buffers_.find(param);
    if (known != buffers_.end()) {
      check_cpu(env, data, span_bytes(env, known->second.numel, known->second.dtype, "param"), known->second.dtype, "data");
      check_cpu(env, grad, span_bytes(env, known->second.numel, known->second.grad_dtype, "param"), known->second.grad_dtype, "grad");
    }
    check(env, frugal_optimizer_set_buffers(live(env), param, data, grad));
    if (known != buffers_.end()) {
      known->second.data = data;
      known->second.grad = grad;
    }
    return env.Undefined();
  }

  // setCompressedGrad(param, gc | null, dtype)
  Napi::Value SetCompressedGrad(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 2, "setCompressedGrad");
    int32_t param = index_arg(info, 0, "param");
    void* gc = pointer_value(env, info[1], "compressedGrad", true);
    frugal_dtype dtype = info[2].IsUndefined() ? FRUGAL_F32 : dtype_value(env, info[2], "compressedGrad dtype");
    // Its length follows the selection, which the core checks; here: at least its first element.
    check_cpu(env, gc, span_bytes(env, 1, dtype, "compressedGrad"), dtype, "compressedGrad");
    check(env, frugal_optimizer_set_compressed_grad(live(env), param, gc, dtype));
    auto known = buffers_.find(param);
    if (known != buffers_.end()) {
      known->second.compressed = gc;
      known->second.compressed_dtype = dtype;
    }
    return env.Undefined();
  }

  // setClip(maxNorm)
  Napi::Value SetClip(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 1, "setClip");
    float max_norm = (float)number_value(env, info[0], "maxGradNorm");
    check(env, frugal_optimizer_set_clip(live(env), max_norm));
    return env.Undefined();
  }

  // setNonFinite(policy): 0 propagate, 1 skip, 2 error (frugal_nonfinite).
  Napi::Value SetNonFinite(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 1, "setNonFinite");
    int32_t policy = (int32_t)integer_value(env, info[0], "nonFinite", 0, 2);
    check(env, frugal_optimizer_set_nonfinite(live(env), policy));
    return env.Undefined();
  }

  // skippedSteps(stream | null): a device counter, read with a sync of the stream.
  Napi::Value SkippedSteps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    void* stream = pointer_value(env, info[0], "stream", true);
    int64_t out = 0;
    check(env, frugal_optimizer_skipped_steps(live(env), stream, &out));
    return Napi::Number::New(env, (double)out);
  }

  // setSkippedSteps(count, stream | null)
  Napi::Value SetSkippedSteps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 1, "setSkippedSteps");
    int64_t count = integer_value(env, info[0], "skippedSteps", 0, INT64_C(1) << 53);
    void* stream = pointer_value(env, info[1], "stream", true);
    check(env, frugal_optimizer_set_skipped_steps(live(env), count, stream));
    return env.Undefined();
  }

  // step(stream | null): enqueued on the stream, no host sync.
  Napi::Value Step(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    void* stream = pointer_value(env, info[0], "stream", true);
    // Every CPU buffer the step touches is checked again and held until it returns: it may have
    // been freed since it was set (by another thread's teardown, too).
    std::vector<std::unique_ptr<CpuSpan>> held;
    if (device_ == FRUGAL_CPU) {
      for (const auto& [param, b] : buffers_) {
        const std::string at = "param " + std::to_string(param) + " ";
        held.push_back(std::make_unique<CpuSpan>(env, device_, b.data, span_bytes(env, b.numel, b.dtype, "param"), at + "data"));
        if (b.grad) held.push_back(std::make_unique<CpuSpan>(env, device_, b.grad, span_bytes(env, b.numel, b.grad_dtype, "param"), at + "grad"));
        if (b.compressed) {
          held.push_back(std::make_unique<CpuSpan>(env, device_, b.compressed, span_bytes(env, 1, b.compressed_dtype, "param"), at + "compressedGrad"));
        }
      }
    }
    frugal_status status = frugal_optimizer_step(live(env), stream);
    // As in the core: a compressed gradient serves the one step it was given for, failed or not.
    for (auto& entry : buffers_) entry.second.compressed = nullptr;
    check(env, status);
    return env.Undefined();
  }

  Napi::Value NeedsRefresh(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 1, "needsRefresh");
    int32_t out = 0;
    check(env, frugal_optimizer_needs_refresh(live(env), index_arg(info, 0, "param"), &out));
    return Napi::Boolean::New(env, out != 0);
  }

  // setSelection(param, Int32Array indices, Float32Array scales | null)
  Napi::Value SetSelection(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 2, "setSelection");
    int32_t param = index_arg(info, 0, "param");
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      type_error(env, "selection indices: expected an Int32Array, got " + describe(info[1]));
    }
    Napi::Int32Array indices = info[1].As<Napi::Int32Array>();
    const float* scales = nullptr;
    if (!info[2].IsUndefined() && !info[2].IsNull()) {
      if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        type_error(env, "selection scales: expected a Float32Array or null, got " + describe(info[2]));
      }
      Napi::Float32Array s = info[2].As<Napi::Float32Array>();
      if (s.ElementLength() != indices.ElementLength()) {
        range_error(env, "selection scales: " + std::to_string(s.ElementLength()) + " scales for " +
                             std::to_string(indices.ElementLength()) + " indices");
      }
      scales = s.Data();
    }
    check(env, frugal_optimizer_set_selection(live(env), param, indices.Data(), (int64_t)indices.ElementLength(),
                                              scales));
    return env.Undefined();
  }

  // getSelection(param) -> {kind, active, axis, count, indices: bigint, scales: bigint}
  Napi::Value GetSelection(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 1, "getSelection");
    frugal_selection_info sel = {};
    check(env, frugal_optimizer_get_selection(live(env), index_arg(info, 0, "param"), &sel));
    Napi::Object out = Napi::Object::New(env);
    out.Set("kind", sel.kind);
    out.Set("active", Napi::Boolean::New(env, sel.active != 0));
    out.Set("axis", sel.axis);
    out.Set("count", Napi::Number::New(env, (double)sel.count));
    out.Set("indices", pointer_to_js(env, sel.indices_device));
    out.Set("scales", pointer_to_js(env, sel.scales_device));
    return out;
  }

  // stateBytes(param) -> number; param -1 for all.
  Napi::Value StateBytes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int32_t param = info[0].IsUndefined() ? -1 : index_arg(info, 0, "param");
    uint64_t bytes = 0;
    check(env, frugal_optimizer_state_bytes(live(env), param, &bytes));
    return Napi::Number::New(env, (double)bytes);
  }

  // stateTensors(param) -> [{name, data: bigint, dtype, count}]
  Napi::Value StateTensors(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 1, "stateTensors");
    int32_t param = index_arg(info, 0, "param");
    frugal_state_tensor tensors[16];
    int32_t count = 0;
    check(env, frugal_optimizer_state_tensors(live(env), param, tensors, 16, &count));
    if (count > 16) count = 16;
    Napi::Array out = Napi::Array::New(env, (size_t)count);
    for (int32_t i = 0; i < count; ++i) {
      Napi::Object t = Napi::Object::New(env);
      tensors[i].name[sizeof(tensors[i].name) - 1] = 0;
      t.Set("name", tensors[i].name);
      t.Set("data", pointer_to_js(env, tensors[i].data));
      t.Set("dtype", (int32_t)tensors[i].dtype);
      t.Set("count", Napi::Number::New(env, (double)tensors[i].count));
      out.Set((uint32_t)i, t);
    }
    return out;
  }

  // getCounters(param) -> {step, stateStep, active, kind, axis, selectionCount}
  Napi::Value GetCounters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 1, "getCounters");
    frugal_param_counters c = {};
    check(env, frugal_optimizer_get_counters(live(env), index_arg(info, 0, "param"), &c));
    Napi::Object out = Napi::Object::New(env);
    out.Set("step", Napi::Number::New(env, (double)c.step));
    out.Set("stateStep", Napi::Number::New(env, (double)c.state_step));
    out.Set("active", Napi::Boolean::New(env, c.active != 0));
    out.Set("kind", c.kind);
    out.Set("axis", c.axis);
    out.Set("selectionCount", Napi::Number::New(env, (double)c.selection_count));
    return out;
  }

  // restoreParam(param, counters)
  Napi::Value RestoreParam(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 2, "restoreParam");
    int32_t param = index_arg(info, 0, "param");
    if (!info[1].IsObject()) type_error(env, "counters: expected an object, got " + describe(info[1]));
    Napi::Object o = info[1].As<Napi::Object>();
    const int64_t max_count = INT64_C(1) << 53;
    frugal_param_counters c = {};
    c.step = integer_value(env, o.Get("step"), "counters.step", 0, max_count);
    c.state_step = integer_value(env, o.Get("stateStep"), "counters.stateStep", 0, max_count);
    c.active = flag_value(env, o.Get("active"), "counters.active") ? 1 : 0;
    c.kind = (int32_t)integer_value(env, o.Get("kind"), "counters.kind", 0, FRUGAL_SELECTION_MAX);
    c.axis = (int32_t)integer_value(env, o.Get("axis"), "counters.axis", 0, 2);
    c.selection_count = integer_value(env, o.Get("selectionCount"), "counters.selectionCount", 0, max_count);
    check(env, frugal_optimizer_restore_param(live(env), param, &c));
    return env.Undefined();
  }

  // verifyState(param): checks restored indices against the param's shape, rebuilds the mask
  Napi::Value VerifyState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 1, "verifyState");
    check(env, frugal_optimizer_verify_state(live(env), index_arg(info, 0, "param"), nullptr));
    return env.Undefined();
  }

  // getGroupState(group) -> {step, rng: [bigint x4]}
  Napi::Value GetGroupState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 1, "getGroupState");
    int64_t step = 0;
    uint64_t rng[4] = {0, 0, 0, 0};
    check(env, frugal_optimizer_get_group_state(live(env), index_arg(info, 0, "group"), &step, rng));
    Napi::Object out = Napi::Object::New(env);
    out.Set("step", Napi::Number::New(env, (double)step));
    Napi::Array words = Napi::Array::New(env, 4);
    for (uint32_t i = 0; i < 4; ++i) words.Set(i, Napi::BigInt::New(env, rng[i]));
    out.Set("rng", words);
    return out;
  }

  // setGroupState(group, step, rng: [bigint x4])
  Napi::Value SetGroupState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    require_args(env, info, 3, "setGroupState");
    int32_t group = index_arg(info, 0, "group");
    int64_t step = integer_value(env, info[1], "step", 0, INT64_C(1) << 53);
    if (!info[2].IsArray() || info[2].As<Napi::Array>().Length() != 4) {
      type_error(env, "rng: expected an array of 4 bigints, got " + describe(info[2]));
    }
    Napi::Array words = info[2].As<Napi::Array>();
    uint64_t rng[4];
    for (uint32_t i = 0; i < 4; ++i) rng[i] = u64_value(env, words.Get(i), "rng[" + std::to_string(i) + "]");
    check(env, frugal_optimizer_set_group_state(live(env), group, step, rng));
    return env.Undefined();
  }

  Napi::Value Destroy(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (handle_) {
      frugal_optimizer* h = handle_;
      handle_ = nullptr;
      check(env, frugal_optimizer_destroy(h));
    }
    return env.Undefined();
  }

  Napi::Value Destroyed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), handle_ == nullptr); }
  Napi::Value Device(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), device_); }
};

}  // namespace frugal_addon
