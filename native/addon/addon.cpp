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

// cudaDeviceInfo(device) -> {name, totalMemory, ccMajor, ccMinor, multiprocessors}
Napi::Value CudaDeviceInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 1, "cudaDeviceInfo");
  frugal_device_info dev;
  std::memset(&dev, 0, sizeof(dev));
  check(env, frugal_cuda_device_info(device_value(env, info[0], "device"), &dev));
  dev.name[sizeof(dev.name) - 1] = 0;
  Napi::Object out = Napi::Object::New(env);
  out.Set("name", dev.name);
  out.Set("totalMemory", Napi::Number::New(env, (double)dev.total_memory));
  out.Set("ccMajor", dev.cc_major);
  out.Set("ccMinor", dev.cc_minor);
  out.Set("multiprocessors", dev.multiprocessors);
  dev.unusable_reason[sizeof(dev.unusable_reason) - 1] = 0;
  out.Set("usable", Napi::Boolean::New(env, dev.usable != 0));
  out.Set("unusableReason", dev.unusable_reason);
  return out;
}

Napi::Value CudaMathAvailable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 1, "cudaMathAvailable");
  return Napi::Boolean::New(env, frugal_cuda_math_available(device_value(env, info[0], "device")) != 0);
}

Napi::Value CudaMathStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 1, "cudaMathStatus");
  return Napi::String::New(env, frugal_cuda_math_status(device_value(env, info[0], "device")));
}

// ---- CPU threads ----

// setNumThreads(threads): 1..256, or 0 for the default (FRUGAL_NUM_THREADS, else every core).
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 1, "setNumThreads");
  check(env, frugal_set_num_threads((int32_t)integer_value(env, info[0], "threads", 0, 256)));
  return env.Undefined();
}

Napi::Value NumThreads(const Napi::CallbackInfo& info) {
  int32_t threads = 0;
  check(info.Env(), frugal_get_num_threads(&threads));
  return Napi::Number::New(info.Env(), threads);
}

// ---- streams ----

// streamCreate(device) -> bigint
Napi::Value StreamCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 1, "streamCreate");
  void* stream = nullptr;
  check(env, frugal_stream_create(device_value(env, info[0], "device"), &stream));
  return pointer_to_js(env, stream);
}

// streamDestroy(device, stream)
Napi::Value StreamDestroy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 2, "streamDestroy");
  int32_t device = device_value(env, info[0], "device");
  check(env, frugal_stream_destroy(device, pointer_value(env, info[1], "stream", false)));
  return env.Undefined();
}

// synchronize(device, stream | null): null waits for the whole device's legacy default stream.
Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 1, "synchronize");
  int32_t device = device_value(env, info[0], "device");
  check(env, frugal_synchronize(device, pointer_value(env, info[1], "stream", true)));
  return env.Undefined();
}

// ---- timing events ----
// Events cross as bigint handles; the TS Event class owns and destroys them.

// eventCreate(device) -> bigint
Napi::Value EventCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 1, "eventCreate");
  frugal_event* event = nullptr;
  check(env, frugal_event_create(device_value(env, info[0], "device"), &event));
  return pointer_to_js(env, event);
}

// eventRecord(event, stream | null)
Napi::Value EventRecord(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 1, "eventRecord");
  auto* event = static_cast<frugal_event*>(pointer_value(env, info[0], "event", false));
  check(env, frugal_event_record(event, pointer_value(env, info[1], "stream", true)));
  return env.Undefined();
}

// eventElapsedMs(start, end) -> number (waits for end)
Napi::Value EventElapsedMs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 2, "eventElapsedMs");
  auto* start = static_cast<frugal_event*>(pointer_value(env, info[0], "start", false));
  auto* end = static_cast<frugal_event*>(pointer_value(env, info[1], "end", false));
  float ms = 0.f;
  check(env, frugal_event_elapsed_ms(start, end, &ms));
  return Napi::Number::New(env, ms);
}

// eventDestroy(event)
Napi::Value EventDestroy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 1, "eventDestroy");
  check(env, frugal_event_destroy(static_cast<frugal_event*>(pointer_value(env, info[0], "event", false))));
  return env.Undefined();
}

// ---- memory ----

// alloc(device, bytes, category) -> bigint
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 3, "alloc");
  int32_t device = device_value(env, info[0], "device");
  uint64_t bytes = u64_value(env, info[1], "bytes");
  auto category = (frugal_mem_category)integer_value(env, info[2], "category", 0, FRUGAL_MEM_CATEGORIES - 1);
  void* ptr = nullptr;
  check(env, frugal_alloc(device, bytes, category, &ptr));
  EnvAllocations::of(env).add(ptr, device);
  return pointer_to_js(env, ptr);
}

// free(device, ptr)
Napi::Value Free(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 2, "free");
  int32_t device = device_value(env, info[0], "device");
  void* ptr = pointer_value(env, info[1], "ptr", false);
  check(env, frugal_free(device, ptr));
  EnvAllocations::of(env).remove(ptr);
  return env.Undefined();
}

// allocationOf(device, ptr, bytes) -> {base: bigint, serial: bigint} | null: the live library
// allocation holding [ptr, ptr + bytes). Views into library memory keep its serial and check it
// (allocationSerial) before every use, so a view of freed memory throws instead of reading it.
Napi::Value AllocationOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 3, "allocationOf");
  int32_t device = device_value(env, info[0], "device");
  void* ptr = pointer_value(env, info[1], "ptr", false);
  uint64_t bytes = u64_value(env, info[2], "bytes");
  const void* base = nullptr;
  // Only memory a caller could hold as a tensor: never the optimizer's state or workspace.
  uint64_t serial = frugal::tracked_containing(device, ptr, bytes, &base, true);
  if (serial == 0) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("base", pointer_to_js(env, base));
  out.Set("serial", Napi::BigInt::New(env, serial));
  return out;
}

// allocationSerial(device, base) -> bigint: the serial of the live allocation at base, 0n if none.
Napi::Value AllocationSerial(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 2, "allocationSerial");
  int32_t device = device_value(env, info[0], "device");
  void* base = pointer_value(env, info[1], "base", false);
  return Napi::BigInt::New(env, frugal::tracked_serial(device, base));
}

Napi::Array counts_to_js(Napi::Env env, const uint64_t* values) {
  Napi::Array out = Napi::Array::New(env, FRUGAL_MEM_CATEGORIES);
  for (uint32_t i = 0; i < FRUGAL_MEM_CATEGORIES; ++i) out.Set(i, Napi::Number::New(env, (double)values[i]));
  return out;
}

// memoryStats(device) -> {current: number[3], peak: number[3], currentTotal, peakTotal}
Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 1, "memoryStats");
  frugal_memory_stats stats;
  std::memset(&stats, 0, sizeof(stats));
  check(env, frugal_get_memory_stats(device_value(env, info[0], "device"), &stats));
  Napi::Object out = Napi::Object::New(env);
  out.Set("current", counts_to_js(env, stats.current));
  out.Set("peak", counts_to_js(env, stats.peak));
  out.Set("currentTotal", Napi::Number::New(env, (double)stats.current_total));
  out.Set("peakTotal", Napi::Number::New(env, (double)stats.peak_total));
  return out;
}

Napi::Value ResetPeakMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 1, "resetPeakMemory");
  check(env, frugal_reset_peak_memory(device_value(env, info[0], "device")));
  return env.Undefined();
}

// copy(dst, dstDevice, src, srcDevice, bytes, stream | null): device/host pointers both sides.
Napi::Value Copy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 5, "copy");
  void* dst = pointer_value(env, info[0], "dst", false);
  int32_t dst_device = device_value(env, info[1], "dstDevice");
  void* src = pointer_value(env, info[2], "src", false);
  int32_t src_device = device_value(env, info[3], "srcDevice");
  uint64_t bytes = u64_value(env, info[4], "bytes");
  void* stream = pointer_value(env, info[5], "stream", true);
  CpuSpan dst_span(env, dst_device, dst, bytes, "dst");
  CpuSpan src_span(env, src_device, src, bytes, "src");
  check(env, frugal_copy(dst, dst_device, src, src_device, bytes, stream));
  return env.Undefined();
}

// copyFromHost(dst, dstDevice, hostBuffer, hostByteOffset, bytes, stream | null)
// The host side is a JS buffer (its backing store at a byte offset), read before this returns
// for the CPU and for pageable-memory CUDA copies.
Napi::Value CopyFromHost(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 5, "copyFromHost");
  void* dst = pointer_value(env, info[0], "dst", false);
  int32_t dst_device = device_value(env, info[1], "dstDevice");
  uint64_t bytes = u64_value(env, info[4], "bytes");
  uint8_t* src = host_range(env, info[2], info[3], bytes, "host buffer");
  void* stream = pointer_value(env, info[5], "stream", true);
  if (bytes == 0) return env.Undefined();
  CpuSpan dst_span(env, dst_device, dst, bytes, "dst");
  check(env, frugal_copy(dst, dst_device, src, FRUGAL_CPU, bytes, stream));
  return env.Undefined();
}

// copyToHost(hostBuffer, hostByteOffset, src, srcDevice, bytes, stream | null); synchronous.
Napi::Value CopyToHost(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 5, "copyToHost");
  uint64_t bytes = u64_value(env, info[4], "bytes");
  uint8_t* dst = host_range(env, info[0], info[1], bytes, "host buffer");
  void* src = pointer_value(env, info[2], "src", false);
  int32_t src_device = device_value(env, info[3], "srcDevice");
  void* stream = pointer_value(env, info[5], "stream", true);
  if (bytes == 0) return env.Undefined();
  CpuSpan src_span(env, src_device, src, bytes, "src");
  check(env, frugal_copy(dst, FRUGAL_CPU, src, src_device, bytes, stream));
  return env.Undefined();
}

// hostAddress(buffer) -> bigint: where a JS buffer's bytes live, so host memory can be borrowed
// as a CPU-device tensor. The caller keeps the buffer alive as long as the address is used.
Napi::Value HostAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 1, "hostAddress");
  HostBytes host = host_bytes(env, info[0], "buffer");
  HostRanges::add(env, info[0], host.data, host.length);
  return pointer_to_js(env, host.data);
}

// hostView(buffer) -> {address: bigint, byteLength: number}: hostAddress plus the length of the
// bytes there, both as the engine knows them (a JS byteLength or byteOffset can be redefined).
Napi::Value HostView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 1, "hostView");
  HostBytes host = host_bytes(env, info[0], "buffer");
  HostRanges::add(env, info[0], host.data, host.length);
  Napi::Object out = Napi::Object::New(env);
  out.Set("address", pointer_to_js(env, host.data));
  out.Set("byteLength", Napi::Number::New(env, (double)host.length));
  return out;
}

// ---- fills, random, casts ----

// fill(device, ptr, dtype, count, value, stream | null)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 5, "fill");
  int32_t device = device_value(env, info[0], "device");
  void* ptr = pointer_value(env, info[1], "ptr", false);
  frugal_dtype dtype = dtype_value(env, info[2], "dtype");
  uint64_t count = u64_value(env, info[3], "count");
  float value = (float)number_value(env, info[4], "value");
  void* stream = pointer_value(env, info[5], "stream", true);
  CpuSpan span(env, device, ptr, span_bytes(env, count, dtype, "count"), "ptr");
  check(env, frugal_fill(device, ptr, dtype, count, value, stream));
  return env.Undefined();
}

// random(device, ptr, dtype, count, dist, seed, a, b, stream | null)
Napi::Value Random(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 8, "random");
  int32_t device = device_value(env, info[0], "device");
  void* ptr = pointer_value(env, info[1], "ptr", false);
  frugal_dtype dtype = dtype_value(env, info[2], "dtype");
  uint64_t count = u64_value(env, info[3], "count");
  int32_t dist = (int32_t)integer_value(env, info[4], "dist", 0, 1);
  uint64_t seed = u64_value(env, info[5], "seed");
  float a = (float)number_value(env, info[6], "a");
  float b = (float)number_value(env, info[7], "b");
  void* stream = pointer_value(env, info[8], "stream", true);
  CpuSpan span(env, device, ptr, span_bytes(env, count, dtype, "count"), "ptr");
  check(env, frugal_random(device, ptr, dtype, count, dist, seed, a, b, stream));
  return env.Undefined();
}

// cast(device, src, srcDtype, dst, dstDtype, count, stream | null)
Napi::Value Cast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_args(env, info, 6, "cast");
  int32_t device = device_value(env, info[0], "device");
  void* src = pointer_value(env, info[1], "src", false);
  frugal_dtype src_dtype = dtype_value(env, info[2], "srcDtype");
  void* dst = pointer_value(env, info[3], "dst", false);
  frugal_dtype dst_dtype = dtype_value(env, info[4], "dstDtype");
  uint64_t count = u64_value(env, info[5], "count");
  void* stream = pointer_value(env, info[6], "stream", true);
  CpuSpan src_span(env, device, src, span_bytes(env, count, src_dtype, "count"), "src");
  CpuSpan dst_span(env, device, dst, span_bytes(env, count, dst_dtype, "count"), "dst");
  check(env, frugal_cast(device, src, src_dtype, dst, dst_dtype, count, stream));
  return env.Undefined();
}

// groupOptionsDefault() -> the core's defaults, keyed by C field name.
Napi::Value GroupOptionsDefault(const Napi::CallbackInfo& info) {
  frugal_group_options options;
  frugal_group_options_default(&options);
  return options_to_js(info.Env(), options);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::Function::New<Version>(env, "version"));
  exports.Set("cudaDeviceCount", Napi::Function::New<CudaDeviceCount>(env, "cudaDeviceCount"));
  exports.Set("cudaMathStatus", Napi::Function::New<CudaMathStatus>(env, "cudaMathStatus"));
  exports.Set("cudaUnavailableReason", Napi::Function::New<CudaUnavailableReason>(env, "cudaUnavailableReason"));
  exports.Set("cudaDeviceInfo", Napi::Function::New<CudaDeviceInfo>(env, "cudaDeviceInfo"));
  exports.Set("cudaMathAvailable", Napi::Function::New<CudaMathAvailable>(env, "cudaMathAvailable"));
  exports.Set("setNumThreads", Napi::Function::New<SetNumThreads>(env, "setNumThreads"));
  exports.Set("numThreads", Napi::Function::New<NumThreads>(env, "numThreads"));
  exports.Set("streamCreate", Napi::Function::New<StreamCreate>(env, "streamCreate"));
  exports.Set("streamDestroy", Napi::Function::New<StreamDestroy>(env, "streamDestroy"));
  exports.Set("synchronize", Napi::Function::New<Synchronize>(env, "synchronize"));
  exports.Set("eventCreate", Napi::Function::New<EventCreate>(env, "eventCreate"));
  exports.Set("eventRecord", Napi::Function::New<EventRecord>(env, "eventRecord"));
  exports.Set("eventElapsedMs", Napi::Function::New<EventElapsedMs>(env, "eventElapsedMs"));
  exports.Set("eventDestroy", Napi::Function::New<EventDestroy>(env, "eventDestroy"));
  exports.Set("alloc", Napi::Function::New<Alloc>(env, "alloc"));
  exports.Set("free", Napi::Function::New<Free>(env, "free"));
  exports.Set("allocationOf", Napi::Function::New<AllocationOf>(env, "allocationOf"));
  exports.Set("allocationSerial", Napi::Function::New<AllocationSerial>(env, "allocationSerial"));
  exports.Set("memoryStats", Napi::Function::New<MemoryStats>(env, "memoryStats"));
  exports.Set("resetPeakMemory", Napi::Function::New<ResetPeakMemory>(env, "resetPeakMemory"));
  exports.Set("copy", Napi::Function::New<Copy>(env, "copy"));
  exports.Set("copyFromHost", Napi::Function::New<CopyFromHost>(env, "copyFromHost"));
  exports.Set("copyToHost", Napi::Function::New<CopyToHost>(env, "copyToHost"));
  exports.Set("hostAddress", Napi::Function::New<HostAddress>(env, "hostAddress"));
  exports.Set("hostView", Napi::Function::New<HostView>(env, "hostView"));
  exports.Set("fill", Napi::Function::New<Fill>(env, "fill"));
  exports.Set("random", Napi::Function::New<Random>(env, "random"));
  exports.Set("cast", Napi::Function::New<Cast>(env, "cast"));
  exports.Set("groupOptionsDefault", Napi::Function::New<GroupOptionsDefault>(env, "groupOptionsDefault"));
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
