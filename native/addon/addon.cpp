// The Node-API addon: a thin layer from JS values to the C API in frugal.h. No math here: each
// function validates its JS arguments (args.h), calls one C function and turns a failed status
// into a JS Error carrying frugal_last_error(). Pointers (device memory, host memory on the CPU
// device, streams) cross as bigint.
#include <napi.h>

#include <cstring>
#include <string>

#include "args.h"
#include "cpu_pointers.h"
#include "frugal.h"
#include "group_options.h"
#include "optimizer_wrap.h"
#include "core/api_guard.h"
#include "core/devices.h"
#include "core/workspace_pool.h"

// The model ops (native/addon/model_bindings.cpp, frugal_model.h) attach themselves as
// exports.model. Weak, so the addon links and loads whether or not sources.json lists them.
#if defined(__GNUC__)
__attribute__((weak)) void RegisterModelBindings(Napi::Env env, Napi::Object exports);
#else
void RegisterModelBindings(Napi::Env env, Napi::Object exports);
#endif

namespace frugal_addon {
void RegisterDebugBindings(Napi::Env env, Napi::Object exports);  // debug_bindings.cpp
namespace {

// ---- library and devices ----

Napi::Value Version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), frugal_version()); }

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  int32_t count = 0;
  check(info.Env(), frugal_cuda_device_count(&count));
  return Napi::Number::New(info.Env(), count);
}

Napi::Value CudaUnavailableReason(const Napi::CallbackInfo& info) {
  const char* why = frugal_cuda_unavailable_reason();
  return Napi::String::New(info.Env(), why ? why : "");
}

// cudaDeviceInfo(device) -> {name, totalMemory, ccMajor, ccMinor, multiprocessors, usable, unusableReason}
Napi::Value CudaDeviceInfo(const Napi::CallbackInfo& info) {
  Args a(info, 1, "cudaDeviceInfo");
  frugal_device_info dev;
  std::memset(&dev, 0, sizeof(dev));
  check(a.env, frugal_cuda_device_info(a.device(0), &dev));
  dev.name[sizeof(dev.name) - 1] = 0;
  dev.unusable_reason[sizeof(dev.unusable_reason) - 1] = 0;
  Napi::Object out = Napi::Object::New(a.env);
  out.Set("name", dev.name);
  out.Set("totalMemory", Napi::Number::New(a.env, (double)dev.total_memory));
  out.Set("ccMajor", dev.cc_major);
  out.Set("ccMinor", dev.cc_minor);
  out.Set("multiprocessors", dev.multiprocessors);
  out.Set("usable", Napi::Boolean::New(a.env, dev.usable != 0));
  out.Set("unusableReason", dev.unusable_reason);
  return out;
}

Napi::Value CudaMathAvailable(const Napi::CallbackInfo& info) {
  Args a(info, 1, "cudaMathAvailable");
  return Napi::Boolean::New(a.env, frugal_cuda_math_available(a.device(0)) != 0);
}

Napi::Value CudaMathStatus(const Napi::CallbackInfo& info) {
  Args a(info, 1, "cudaMathStatus");
  return Napi::String::New(a.env, frugal_cuda_math_status(a.device(0)));
}

// ---- CPU threads ----

// setNumThreads(threads): 1..256, or 0 for the default (FRUGAL_NUM_THREADS, else every core).
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Args a(info, 1, "setNumThreads");
  return a.done(frugal_set_num_threads((int32_t)a.integer(0, "threads", 0, 256)));
}

Napi::Value NumThreads(const Napi::CallbackInfo& info) {
  int32_t threads = 0;
  check(info.Env(), frugal_get_num_threads(&threads));
  return Napi::Number::New(info.Env(), threads);
}

// ---- streams and timing events (bigint handles; the TS classes own and destroy them) ----

// streamCreate(device) -> bigint
Napi::Value StreamCreate(const Napi::CallbackInfo& info) {
  Args a(info, 1, "streamCreate");
  void* stream = nullptr;
  check(a.env, frugal_stream_create(a.device(0), &stream));
  return pointer_to_js(a.env, stream);
}

// streamDestroy(device, stream)
Napi::Value StreamDestroy(const Napi::CallbackInfo& info) {
  Args a(info, 2, "streamDestroy");
  return a.done(frugal_stream_destroy(a.device(0), a.ptr(1, "stream")));
}

// synchronize(device, stream | null): null waits for the whole device's legacy default stream.
Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  Args a(info, 1, "synchronize");
  return a.done(frugal_synchronize(a.device(0), a.stream(1)));
}

// eventCreate(device) -> bigint
Napi::Value EventCreate(const Napi::CallbackInfo& info) {
  Args a(info, 1, "eventCreate");
  frugal_event* event = nullptr;
  check(a.env, frugal_event_create(a.device(0), &event));
  return pointer_to_js(a.env, event);
}

frugal_event* event_arg(const Args& a, size_t i, const char* name) {
  return static_cast<frugal_event*>(a.ptr(i, name));
}

// eventRecord(event, stream | null)
Napi::Value EventRecord(const Napi::CallbackInfo& info) {
  Args a(info, 1, "eventRecord");
  return a.done(frugal_event_record(event_arg(a, 0, "event"), a.stream(1)));
}

// eventElapsedMs(start, end) -> number (waits for end)
Napi::Value EventElapsedMs(const Napi::CallbackInfo& info) {
  Args a(info, 2, "eventElapsedMs");
  float ms = 0.f;
  check(a.env, frugal_event_elapsed_ms(event_arg(a, 0, "start"), event_arg(a, 1, "end"), &ms));
  return Napi::Number::New(a.env, ms);
}

// eventDestroy(event)
Napi::Value EventDestroy(const Napi::CallbackInfo& info) {
  Args a(info, 1, "eventDestroy");
  return a.done(frugal_event_destroy(event_arg(a, 0, "event")));
}

// ---- memory ----

// alloc(device, bytes, category) -> bigint
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  Args a(info, 3, "alloc");
  int32_t device = a.device(0);
  uint64_t bytes = a.u64(1, "bytes");
  auto category = (frugal_mem_category)a.integer(2, "category", 0, FRUGAL_MEM_CATEGORIES - 1);
  void* ptr = nullptr;
  check(a.env, frugal_alloc(device, bytes, category, &ptr));
  EnvAllocations::of(a.env).add(ptr, device);
  return pointer_to_js(a.env, ptr);
}

// free(device, ptr)
Napi::Value Free(const Napi::CallbackInfo& info) {
  Args a(info, 2, "free");
  void* ptr = a.ptr(1, "ptr");
  check(a.env, frugal_free(a.device(0), ptr));
  EnvAllocations::of(a.env).remove(ptr);
  return a.env.Undefined();
}

// allocationOf(device, ptr, bytes) -> {base: bigint, serial: bigint} | null: the live library
// allocation holding [ptr, ptr + bytes). Views into library memory keep its serial and check it
// (allocationSerial) before every use, so a view of freed memory throws instead of reading it.
Napi::Value AllocationOf(const Napi::CallbackInfo& info) {
  Args a(info, 3, "allocationOf");
  const void* base = nullptr;
  // Only memory a caller could hold as a tensor: never the optimizer's state or workspace.
  uint64_t serial = frugal::tracked_containing(a.device(0), a.ptr(1, "ptr"), a.u64(2, "bytes"), &base, true);
  if (serial == 0) return a.env.Null();
  Napi::Object out = Napi::Object::New(a.env);
  out.Set("base", pointer_to_js(a.env, base));
  out.Set("serial", Napi::BigInt::New(a.env, serial));
  return out;
}

// allocationSerial(device, base) -> bigint: the serial of the live allocation at base, 0n if none.
Napi::Value AllocationSerial(const Napi::CallbackInfo& info) {
  Args a(info, 2, "allocationSerial");
  return Napi::BigInt::New(a.env, frugal::tracked_serial(a.device(0), a.ptr(1, "base")));
}

Napi::Array counts_to_js(Napi::Env env, const uint64_t* values) {
  Napi::Array out = Napi::Array::New(env, FRUGAL_MEM_CATEGORIES);
  for (uint32_t i = 0; i < FRUGAL_MEM_CATEGORIES; ++i) out.Set(i, Napi::Number::New(env, (double)values[i]));
  return out;
}

// memoryStats(device) -> {current: number[], peak: number[], currentTotal, peakTotal}
Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  Args a(info, 1, "memoryStats");
  frugal_memory_stats stats;
  std::memset(&stats, 0, sizeof(stats));
  check(a.env, frugal_get_memory_stats(a.device(0), &stats));
  Napi::Object out = Napi::Object::New(a.env);
  out.Set("current", counts_to_js(a.env, stats.current));
  out.Set("peak", counts_to_js(a.env, stats.peak));
  out.Set("currentTotal", Napi::Number::New(a.env, (double)stats.current_total));
  out.Set("peakTotal", Napi::Number::New(a.env, (double)stats.peak_total));
  return out;
}

Napi::Value ResetPeakMemory(const Napi::CallbackInfo& info) {
  Args a(info, 1, "resetPeakMemory");
  return a.done(frugal_reset_peak_memory(a.device(0)));
}

// releaseWorkspace(device): frees the device's shared optimizer workspace (core/workspace_pool.h).
Napi::Value ReleaseWorkspace(const Napi::CallbackInfo& info) {
  Args a(info, 1, "releaseWorkspace");
  int32_t device = a.device(0);
  return a.done(frugal::guarded([&] {
    frugal::check_device(device);
    frugal::WorkspacePool::release(device);
  }));
}

// ---- copies, fills, random, casts ----

// A pointer argument with the one after it: the device it is on, or its elements' dtype (a
// braced list converts them in order, so the first bad one is the one named).
struct Placed {
  void* ptr;
  int32_t device;
};
Placed placed(const Args& a, size_t i, const char* name, const char* device) {
  return {a.ptr(i, name), a.device(i + 1, device)};
}
struct Typed {
  void* ptr;
  frugal_dtype dtype;
};
Typed typed(const Args& a, size_t i, const char* name, const char* dtype) {
  return {a.ptr(i, name), a.dtype(i + 1, dtype)};
}

// copy(dst, dstDevice, src, srcDevice, bytes, stream | null): device/host pointers both sides.
Napi::Value Copy(const Napi::CallbackInfo& info) {
  Args a(info, 5, "copy");
  const Placed dst = placed(a, 0, "dst", "dstDevice");
  const Placed src = placed(a, 2, "src", "srcDevice");
  const uint64_t bytes = a.u64(4, "bytes");
  void* stream = a.stream(5);
  CpuSpan dst_span(a.env, dst.device, dst.ptr, bytes, "dst");
  CpuSpan src_span(a.env, src.device, src.ptr, bytes, "src");
  return a.done(frugal_copy(dst.ptr, dst.device, src.ptr, src.device, bytes, stream));
}

// copyFromHost(dst, dstDevice, hostBuffer, hostByteOffset, bytes, stream | null)
// The host side is a JS buffer (its backing store at a byte offset), read before this returns
// for the CPU and for pageable-memory CUDA copies.
Napi::Value CopyFromHost(const Napi::CallbackInfo& info) {
  Args a(info, 5, "copyFromHost");
  const Placed dst = placed(a, 0, "dst", "dstDevice");
  const uint64_t bytes = a.u64(4, "bytes");
  uint8_t* src = host_range(a.env, info[2], info[3], bytes, "host buffer");
  void* stream = a.stream(5);
  if (bytes == 0) return a.env.Undefined();
  CpuSpan dst_span(a.env, dst.device, dst.ptr, bytes, "dst");
  return a.done(frugal_copy(dst.ptr, dst.device, src, FRUGAL_CPU, bytes, stream));
}

// copyToHost(hostBuffer, hostByteOffset, src, srcDevice, bytes, stream | null); synchronous.
Napi::Value CopyToHost(const Napi::CallbackInfo& info) {
  Args a(info, 5, "copyToHost");
  const uint64_t bytes = a.u64(4, "bytes");
  uint8_t* dst = host_range(a.env, info[0], info[1], bytes, "host buffer");
  const Placed src = placed(a, 2, "src", "srcDevice");
  void* stream = a.stream(5);
  if (bytes == 0) return a.env.Undefined();
  CpuSpan src_span(a.env, src.device, src.ptr, bytes, "src");
  return a.done(frugal_copy(dst, FRUGAL_CPU, src.ptr, src.device, bytes, stream));
}

// hostView(buffer) -> {address: bigint, byteLength: number}: where a JS buffer's bytes live and
// how many, both as the engine knows them (a JS byteLength or byteOffset can be redefined), so
// host memory can be borrowed as a CPU-device tensor. The caller keeps the buffer alive as long
// as the address is used. hostAddress(buffer) -> bigint is its address alone.
Napi::Object host_view(const Napi::CallbackInfo& info, const char* fn) {
  Args a(info, 1, fn);
  HostBytes host = host_bytes(a.env, info[0], "buffer");
  HostRanges::add(a.env, info[0], host.data, host.length);
  Napi::Object out = Napi::Object::New(a.env);
  out.Set("address", pointer_to_js(a.env, host.data));
  out.Set("byteLength", Napi::Number::New(a.env, (double)host.length));
  return out;
}
Napi::Value HostView(const Napi::CallbackInfo& info) { return host_view(info, "hostView"); }
Napi::Value HostAddress(const Napi::CallbackInfo& info) { return host_view(info, "hostAddress").Get("address"); }

// count elements of a typed pointer on a device, checked (cpu_pointers.h) for the call.
CpuSpan elements(const Args& a, int32_t device, const Typed& t, uint64_t count, const char* name) {
  return CpuSpan(a.env, device, t.ptr, span_bytes(a.env, count, t.dtype, "count"), name);
}

// fill(device, ptr, dtype, count, value, stream | null)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  Args a(info, 5, "fill");
  const int32_t device = a.device(0);
  const Typed t = typed(a, 1, "ptr", "dtype");
  const uint64_t count = a.u64(3, "count");
  const float value = a.num(4, "value");
  void* stream = a.stream(5);
  CpuSpan span = elements(a, device, t, count, "ptr");
  return a.done(frugal_fill(device, t.ptr, t.dtype, count, value, stream));
}

// random(device, ptr, dtype, count, dist, seed, a, b, stream | null)
Napi::Value Random(const Napi::CallbackInfo& info) {
  Args a(info, 8, "random");
  const int32_t device = a.device(0);
  const Typed t = typed(a, 1, "ptr", "dtype");
  const uint64_t count = a.u64(3, "count");
  const int32_t dist = (int32_t)a.integer(4, "dist", 0, 1);
  const uint64_t seed = a.u64(5, "seed");
  const float lo = a.num(6, "a"), hi = a.num(7, "b");
  CpuSpan span = elements(a, device, t, count, "ptr");
  return a.done(frugal_random(device, t.ptr, t.dtype, count, dist, seed, lo, hi, a.stream(8)));
}

// cast(device, src, srcDtype, dst, dstDtype, count, stream | null)
Napi::Value Cast(const Napi::CallbackInfo& info) {
  Args a(info, 6, "cast");
  const int32_t device = a.device(0);
  const Typed src = typed(a, 1, "src", "srcDtype");
  const Typed dst = typed(a, 3, "dst", "dstDtype");
  const uint64_t count = a.u64(5, "count");
  void* stream = a.stream(6);
  CpuSpan src_span = elements(a, device, src, count, "src");
  CpuSpan dst_span = elements(a, device, dst, count, "dst");
  return a.done(frugal_cast(device, src.ptr, src.dtype, dst.ptr, dst.dtype, count, stream));
}

// groupOptionsDefault() -> the core's defaults, keyed by C field name.
Napi::Value GroupOptionsDefault(const Napi::CallbackInfo& info) {
  frugal_group_options options;
  frugal_group_options_default(&options);
  return options_to_js(info.Env(), options);
}

const Binding kFunctions[] = {
    {"version", Version},
    {"cudaDeviceCount", CudaDeviceCount},
    {"cudaMathStatus", CudaMathStatus},
    {"cudaUnavailableReason", CudaUnavailableReason},
    {"cudaDeviceInfo", CudaDeviceInfo},
    {"cudaMathAvailable", CudaMathAvailable},
    {"setNumThreads", SetNumThreads},
    {"numThreads", NumThreads},
    {"streamCreate", StreamCreate},
    {"streamDestroy", StreamDestroy},
    {"synchronize", Synchronize},
    {"eventCreate", EventCreate},
    {"eventRecord", EventRecord},
    {"eventElapsedMs", EventElapsedMs},
    {"eventDestroy", EventDestroy},
    {"alloc", Alloc},
    {"free", Free},
    {"allocationOf", AllocationOf},
    {"allocationSerial", AllocationSerial},
    {"memoryStats", MemoryStats},
    {"resetPeakMemory", ResetPeakMemory},
    {"releaseWorkspace", ReleaseWorkspace},
    {"copy", Copy},
    {"copyFromHost", CopyFromHost},
    {"copyToHost", CopyToHost},
    {"hostAddress", HostAddress},
    {"hostView", HostView},
    {"fill", Fill},
    {"random", Random},
    {"cast", Cast},
    {"groupOptionsDefault", GroupOptionsDefault},
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  attach(env, exports, kFunctions);
  exports.Set("NativeOptimizer", OptimizerWrap::Define(env));
  if (RegisterModelBindings) RegisterModelBindings(env, exports);
  RegisterDebugBindings(env, exports);
#ifdef FRUGAL_ADDON_CUDA
  exports.Set("builtWithCuda", Napi::Boolean::New(env, true));
#else
  exports.Set("builtWithCuda", Napi::Boolean::New(env, false));
#endif
  return exports;
}

}  // namespace
}  // namespace frugal_addon

// NODE_API_MODULE pastes the function name into an identifier, so it must be unqualified.
static Napi::Object InitFrugal(Napi::Env env, Napi::Object exports) { return frugal_addon::Init(env, exports); }
NODE_API_MODULE(frugal, InitFrugal)
