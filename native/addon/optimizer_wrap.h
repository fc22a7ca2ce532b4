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
#include "step_worker.h"

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
                           InstanceMethod<&OptimizerWrap::StepAsync>("stepAsync"),
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
  void check_cpu_span(Napi::Env env, const void* ptr, uint64_t bytes, frugal_dtype dtype, const std::string& name) {
    const uintptr_t size = dtype == FRUGAL_F32 || dtype == FRUGAL_I32 ? 4 : 2;
    if (ptr && reinterpret_cast<uintptr_t>(ptr) % size == 0) CpuSpan span(env, device_, ptr, bytes, name);
  }
  // A param's data and grad (b: its element count and dtypes), checked as above.
  void check_cpu(Napi::Env env, const ParamBuffers& b, const void* data, const void* grad, const std::string& prefix,
                 const char* count_name) {
    check_cpu_span(env, data, span_bytes(env, b.numel, b.dtype, count_name), b.dtype, prefix + "data");
    check_cpu_span(env, grad, span_bytes(env, b.numel, b.grad_dtype, count_name), b.grad_dtype, prefix + "grad");
  }

  // A stepAsync runs the core on another thread: until it settles, every call is refused (the
  // core is not to be used from two threads at once, nor destroyed under a running step).
  bool step_in_flight_ = false;

  frugal_optimizer* live(Napi::Env env) {
    if (!handle_) throw Napi::Error::New(env, "optimizer: destroyed");
    if (step_in_flight_)
      throw Napi::Error::New(env, "optimizer: refused while a stepAsync() is in flight; await it first");
    return handle_;
  }
  static int32_t index(const Args& a, size_t i, const char* name) { return (int32_t)a.integer(i, name, -1, INT32_MAX); }

  // addGroup(options) -> group index
  Napi::Value AddGroup(const Napi::CallbackInfo& info) {
    Args a(info, 1, "addGroup");
    frugal_group_options options = options_from_js(a.env, info[0], "options");
    int32_t group = -1;
    check(a.env, frugal_optimizer_add_group(live(a.env), &options, &group));
    return Napi::Number::New(a.env, group);
  }

  // setGroupOptions(group, options)
  Napi::Value SetGroupOptions(const Napi::CallbackInfo& info) {
    Args a(info, 2, "setGroupOptions");
    int32_t group = index(a, 0, "group");
    frugal_group_options options = options_from_js(a.env, info[1], "options");
    return a.done(frugal_optimizer_set_group_options(live(a.env), group, &options));
  }

  // addParam(group, {data, dtype, grad, gradDtype, shape, blockId}) -> param index
  Napi::Value AddParam(const Napi::CallbackInfo& info) {
    Args a(info, 2, "addParam");
    Napi::Env env = a.env;
    int32_t group = index(a, 0, "group");
    if (!info[1].IsObject())
      type_error(env, "param: expected an object {data, dtype, grad, gradDtype, shape, blockId}");
    Napi::Object d = info[1].As<Napi::Object>();
    frugal_param_desc desc;
    frugal_param_desc_default(&desc);
    desc.data = pointer_value(env, d.Get("data"), "param.data", false);
    desc.dtype = dtype_value(env, d.Get("dtype"), "param.dtype");
    desc.grad = pointer_value(env, d.Get("grad"), "param.grad", true);
    Napi::Value grad_dtype = d.Get("gradDtype");
    desc.grad_dtype = grad_dtype.IsUndefined() ? desc.dtype : dtype_value(env, grad_dtype, "param.gradDtype");
    shape_value(env, d.Get("shape"), &desc);
    Napi::Value block_id = d.Get("blockId");
    desc.block_id = block_id.IsUndefined() ? 0 : (int32_t)integer_value(env, block_id, "param.blockId", 0, INT32_MAX);
    const uint64_t numel = element_count(env, desc);
    ParamBuffers b{numel, desc.data, desc.dtype, desc.grad, desc.grad_dtype};
    check_cpu(env, b, desc.data, desc.grad, "param.", "param.shape");
    int32_t param = -1;
    check(env, frugal_optimizer_add_param(live(env), group, &desc, &param));
    buffers_[param] = b;
    return Napi::Number::New(env, param);
  }

  // param.shape -> desc->ndim and desc->shape.
  static void shape_value(Napi::Env env, const Napi::Value& shape, frugal_param_desc* desc) {
    if (!shape.IsArray()) type_error(env, "param.shape: expected an array of dimensions, got " + describe(shape));
    Napi::Array dims = shape.As<Napi::Array>();
    if (dims.Length() > FRUGAL_MAX_DIMS) {
      range_error(env, "param.shape: at most " + std::to_string(FRUGAL_MAX_DIMS) + " dimensions, got " +
                           std::to_string(dims.Length()));
    }
    desc->ndim = (int32_t)dims.Length();
    for (uint32_t i = 0; i < dims.Length(); ++i) {
      desc->shape[i] = integer_value(env, dims.Get(i), "param.shape[" + std::to_string(i) + "]", 0, INT64_C(1) << 53);
    }
  }
  // The param's element count; more than 2^53 is refused.
  static uint64_t element_count(Napi::Env env, const frugal_param_desc& desc) {
    uint64_t numel = 1;
    for (int32_t i = 0; i < desc.ndim; ++i) {
      const uint64_t dim = (uint64_t)desc.shape[i];
      if (dim != 0 && numel > (UINT64_C(1) << 53) / dim) range_error(env, "param.shape: more than 2^53 elements");
      numel *= dim;
    }
    return numel;
  }

  // setBuffers(param, data, grad | null)
  Napi::Value SetBuffers(const Napi::CallbackInfo& info) {
    Args a(info, 2, "setBuffers");
    int32_t param = index(a, 0, "param");
    void* data = a.ptr(1, "data");
    void* grad = a.nullable(2, "grad");
    auto known = buffers_.find(param);
    if (known != buffers_.end()) check_cpu(a.env, known->second, data, grad, "", "param");
    check(a.env, frugal_optimizer_set_buffers(live(a.env), param, data, grad));
    if (known != buffers_.end()) {
      known->second.data = data;
      known->second.grad = grad;
    }
    return a.env.Undefined();
  }

  // setCompressedGrad(param, gc | null, dtype)
  Napi::Value SetCompressedGrad(const Napi::CallbackInfo& info) {
    Args a(info, 2, "setCompressedGrad");
    int32_t param = index(a, 0, "param");
    void* gc = a.nullable(1, "compressedGrad");
    frugal_dtype dtype = info[2].IsUndefined() ? FRUGAL_F32 : a.dtype(2, "compressedGrad dtype");
    // Its length follows the selection, which the core checks; here: at least its first element.
    check_cpu_span(a.env, gc, span_bytes(a.env, 1, dtype, "compressedGrad"), dtype, "compressedGrad");
    check(a.env, frugal_optimizer_set_compressed_grad(live(a.env), param, gc, dtype));
    auto known = buffers_.find(param);
    if (known == buffers_.end()) return a.env.Undefined();
    known->second.compressed = gc;
    known->second.compressed_dtype = dtype;
    return a.env.Undefined();
  }

  // setClip(maxNorm)
  Napi::Value SetClip(const Napi::CallbackInfo& info) {
    Args a(info, 1, "setClip");
    return a.done(frugal_optimizer_set_clip(live(a.env), a.num(0, "maxGradNorm")));
  }

  // setNonFinite(policy): 0 propagate, 1 skip, 2 error (frugal_nonfinite).
  Napi::Value SetNonFinite(const Napi::CallbackInfo& info) {
    Args a(info, 1, "setNonFinite");
    return a.done(frugal_optimizer_set_nonfinite(live(a.env), (int32_t)a.integer(0, "nonFinite", 0, 2)));
  }

  // skippedSteps(stream | null): a device counter, read with a sync of the stream.
  Napi::Value SkippedSteps(const Napi::CallbackInfo& info) {
    Args a(info, 0, "skippedSteps");
    int64_t out = 0;
    check(a.env, frugal_optimizer_skipped_steps(live(a.env), a.stream(0), &out));
    return Napi::Number::New(a.env, (double)out);
  }

  // setSkippedSteps(count, stream | null)
  Napi::Value SetSkippedSteps(const Napi::CallbackInfo& info) {
    Args a(info, 1, "setSkippedSteps");
    int64_t count = a.integer(0, "skippedSteps", 0, INT64_C(1) << 53);
    return a.done(frugal_optimizer_set_skipped_steps(live(a.env), count, a.stream(1)));
  }

  // Every CPU buffer a step touches, checked again and held until the step is over: it may have
  // been freed since it was set (by another thread's teardown, too).
  StepWorker::Held hold_step_buffers(Napi::Env env) {
    StepWorker::Held held;
    if (device_ != FRUGAL_CPU) return held;
    for (const auto& [param, b] : buffers_) {
      const std::string at = "param " + std::to_string(param) + " ";
      held.push_back(
          std::make_unique<CpuSpan>(env, device_, b.data, span_bytes(env, b.numel, b.dtype, "param"), at + "data"));
      if (b.grad)
        held.push_back(std::make_unique<CpuSpan>(env, device_, b.grad, span_bytes(env, b.numel, b.grad_dtype, "param"),
                                                 at + "grad"));
      if (b.compressed) {
        held.push_back(std::make_unique<CpuSpan>(
            env, device_, b.compressed, span_bytes(env, 1, b.compressed_dtype, "param"), at + "compressedGrad"));
      }
    }
    return held;
  }

  // As in the core: a compressed gradient serves the one step it was given for, failed or not.
  void forget_compressed() {
    for (auto& entry : buffers_) entry.second.compressed = nullptr;
  }

  // step(stream | null): enqueued on the stream, no host sync.
  Napi::Value Step(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    void* stream = pointer_value(env, info[0], "stream", true);
    frugal_optimizer* handle = live(env);
    StepWorker::Held held = hold_step_buffers(env);
    frugal_status status = frugal_optimizer_step(handle, stream);
    forget_compressed();
    check(env, status);
    return env.Undefined();
  }

  // stepAsync(stream | null, wait) -> Promise: the step on libuv's thread pool; it resolves once
  // the step is done on the CPU, enqueued on a GPU (done, with wait), and rejects with step()'s
  // Error. Until then every other call on this optimizer is refused (live()).
  Napi::Value StepAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    void* stream = pointer_value(env, info[0], "stream", true);
    bool wait = info[1].IsUndefined() ? false : flag_value(env, info[1], "wait");
    frugal_optimizer* handle = live(env);
    StepWorker::Held held = hold_step_buffers(env);
    forget_compressed();  // the core forgets it after this step too
    auto* worker = new StepWorker(info.This().As<Napi::Object>(), handle, device_, stream, wait, std::move(held),
                                  [this] { step_in_flight_ = false; });
    step_in_flight_ = true;
    worker->Queue();  // deletes itself once settled
    return worker->Promise();
  }

  Napi::Value NeedsRefresh(const Napi::CallbackInfo& info) {
    Args a(info, 1, "needsRefresh");
    int32_t out = 0;
    check(a.env, frugal_optimizer_needs_refresh(live(a.env), index(a, 0, "param"), &out));
    return Napi::Boolean::New(a.env, out != 0);
  }

  // setSelection(param, Int32Array indices, Float32Array scales | null)
  Napi::Value SetSelection(const Napi::CallbackInfo& info) {
    Args a(info, 2, "setSelection");
    int32_t param = index(a, 0, "param");
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      type_error(a.env, "selection indices: expected an Int32Array, got " + describe(info[1]));
    }
    Napi::Int32Array indices = info[1].As<Napi::Int32Array>();
    const float* scales = nullptr;
    if (!info[2].IsUndefined() && !info[2].IsNull()) {
      if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        type_error(a.env, "selection scales: expected a Float32Array or null, got " + describe(info[2]));
      }
      Napi::Float32Array given = info[2].As<Napi::Float32Array>();
      if (given.ElementLength() != indices.ElementLength()) {
        range_error(a.env, "selection scales: " + std::to_string(given.ElementLength()) + " scales for " +
                               std::to_string(indices.ElementLength()) + " indices");
      }
      scales = given.Data();
    }
    const auto count = (int64_t)indices.ElementLength();
    return a.done(frugal_optimizer_set_selection(live(a.env), param, indices.Data(), count, scales));
  }

  // getSelection(param) -> {kind, active, axis, count, indices: bigint, scales: bigint}
  Napi::Value GetSelection(const Napi::CallbackInfo& info) {
    Args a(info, 1, "getSelection");
    frugal_selection_info sel = {};
    check(a.env, frugal_optimizer_get_selection(live(a.env), index(a, 0, "param"), &sel));
    Napi::Object out = Napi::Object::New(a.env);
    out.Set("kind", sel.kind);
    out.Set("active", Napi::Boolean::New(a.env, sel.active != 0));
    out.Set("axis", sel.axis);
    out.Set("count", Napi::Number::New(a.env, (double)sel.count));
    out.Set("indices", pointer_to_js(a.env, sel.indices_device));
    out.Set("scales", pointer_to_js(a.env, sel.scales_device));
    return out;
  }

  // stateBytes(param) -> number; param -1 for all.
  Napi::Value StateBytes(const Napi::CallbackInfo& info) {
    Args a(info, 0, "stateBytes");
    int32_t param = info[0].IsUndefined() ? -1 : index(a, 0, "param");
    uint64_t bytes = 0;
    check(a.env, frugal_optimizer_state_bytes(live(a.env), param, &bytes));
    return Napi::Number::New(a.env, (double)bytes);
  }

  // stateTensors(param) -> [{name, data: bigint, dtype, count}]
  Napi::Value StateTensors(const Napi::CallbackInfo& info) {
    Args a(info, 1, "stateTensors");
    frugal_state_tensor tensors[16];
    int32_t count = 0;
    check(a.env, frugal_optimizer_state_tensors(live(a.env), index(a, 0, "param"), tensors, 16, &count));
    if (count > 16) count = 16;
    Napi::Array out = Napi::Array::New(a.env, (size_t)count);
    for (int32_t i = 0; i < count; ++i) {
      Napi::Object t = Napi::Object::New(a.env);
      tensors[i].name[sizeof(tensors[i].name) - 1] = 0;
      t.Set("name", tensors[i].name);
      t.Set("data", pointer_to_js(a.env, tensors[i].data));
      t.Set("dtype", (int32_t)tensors[i].dtype);
      t.Set("count", Napi::Number::New(a.env, (double)tensors[i].count));
      out.Set((uint32_t)i, t);
    }
    return out;
  }

  // getCounters(param) -> {step, stateStep, active, kind, axis, selectionCount}
  Napi::Value GetCounters(const Napi::CallbackInfo& info) {
    Args a(info, 1, "getCounters");
    frugal_param_counters c = {};
    check(a.env, frugal_optimizer_get_counters(live(a.env), index(a, 0, "param"), &c));
    Napi::Object out = Napi::Object::New(a.env);
    out.Set("step", Napi::Number::New(a.env, (double)c.step));
    out.Set("stateStep", Napi::Number::New(a.env, (double)c.state_step));
    out.Set("active", Napi::Boolean::New(a.env, c.active != 0));
    out.Set("kind", c.kind);
    out.Set("axis", c.axis);
    out.Set("selectionCount", Napi::Number::New(a.env, (double)c.selection_count));
    return out;
  }

  // restoreParam(param, counters)
  Napi::Value RestoreParam(const Napi::CallbackInfo& info) {
    Args a(info, 2, "restoreParam");
    Napi::Env env = a.env;
    int32_t param = index(a, 0, "param");
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
    return a.done(frugal_optimizer_restore_param(live(env), param, &c));
  }

  // verifyState(param): checks restored indices against the param's shape, rebuilds the mask
  Napi::Value VerifyState(const Napi::CallbackInfo& info) {
    Args a(info, 1, "verifyState");
    return a.done(frugal_optimizer_verify_state(live(a.env), index(a, 0, "param"), nullptr));
  }

  // getGroupState(group) -> {step, rng: [bigint x4]}
  Napi::Value GetGroupState(const Napi::CallbackInfo& info) {
    Args a(info, 1, "getGroupState");
    int64_t step = 0;
    uint64_t rng[4] = {0, 0, 0, 0};
    check(a.env, frugal_optimizer_get_group_state(live(a.env), index(a, 0, "group"), &step, rng));
    Napi::Object out = Napi::Object::New(a.env);
    out.Set("step", Napi::Number::New(a.env, (double)step));
    Napi::Array words = Napi::Array::New(a.env, 4);
    for (uint32_t i = 0; i < 4; ++i) words.Set(i, Napi::BigInt::New(a.env, rng[i]));
    out.Set("rng", words);
    return out;
  }

  // setGroupState(group, step, rng: [bigint x4])
  Napi::Value SetGroupState(const Napi::CallbackInfo& info) {
    Args a(info, 3, "setGroupState");
    int32_t group = index(a, 0, "group");
    int64_t step = a.integer(1, "step", 0, INT64_C(1) << 53);
    if (!info[2].IsArray() || info[2].As<Napi::Array>().Length() != 4) {
      type_error(a.env, "rng: expected an array of 4 bigints, got " + describe(info[2]));
    }
    Napi::Array words = info[2].As<Napi::Array>();
    uint64_t rng[4];
    for (uint32_t i = 0; i < 4; ++i) rng[i] = u64_value(a.env, words.Get(i), "rng[" + std::to_string(i) + "]");
    return a.done(frugal_optimizer_set_group_state(live(a.env), group, step, rng));
  }

  Napi::Value Destroy(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (handle_) {
      live(env);  // refused while a stepAsync runs on the handle
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
