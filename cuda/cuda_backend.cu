// The CUDA backend: device discovery (core/cuda_api.h), streams, memory, and the Backend methods,
// which set the device and hand each call to its launcher (tensor_kernels, optimizer_kernels,
// reduce_kernels, linalg). The CUDA runtime is linked statically, so this file is loaded on
// machines with no driver or GPU: every query there must fail softly (count 0, a reason) and
// nothing may abort.
#include <cuda_runtime.h>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/cuda_api.h"
#include "cuda_check.cuh"
#include "device_env.cuh"
#include "linalg.cuh"
#include "math_libs.h"
#include "optimizer_kernels.cuh"
#include "reduce_kernels.cuh"
#include "tensor_kernels.cuh"

namespace frugal {
namespace cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* what) {
  cudaGetLastError();  // clear it, so the next launch check does not report it again
  const frugal_status status = err == cudaErrorMemoryAllocation ? FRUGAL_ERR_OUT_OF_MEMORY : FRUGAL_ERR_DEVICE;
  fail(status, std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err) + " (" + cudaGetErrorName(err) +
                   ")");
}

namespace {

std::string describe_unavailable(cudaError_t err) {
  switch (err) {
    case cudaErrorNoDevice:
      return "no CUDA-capable GPU was found";
    case cudaErrorInsufficientDriver:
      return "the NVIDIA driver is missing or older than this build's CUDA runtime (" +
             std::to_string(CUDART_VERSION / 1000) + "." + std::to_string(CUDART_VERSION % 1000 / 10) + ")";
    default:
      return std::string("CUDA initialization failed: ") + cudaGetErrorString(err) + " (" + cudaGetErrorName(err) + ")";
  }
}

std::string devices_phrase(int count, const std::string& why) {
  std::string phrase = std::to_string(count) + (count == 1 ? " CUDA device" : " CUDA devices");
  if (count == 0 && !why.empty()) phrase += ": " + why;
  return phrase;
}

// Throws Error(FRUGAL_ERR_DEVICE) unless `ordinal` names an existing device.
void require_device(int ordinal) {
  std::string why;
  const int count = cuda_device_count(&why);
  if (ordinal < 0 || ordinal >= count)
    fail(FRUGAL_ERR_DEVICE,
         "device: cuda:" + std::to_string(ordinal) + " does not exist (" + devices_phrase(count, why) + ")");
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int ordinal) : ordinal_(ordinal), name_("cuda:" + std::to_string(ordinal)) {
    DeviceGuard device(ordinal_);
    check(cudaDeviceGetAttribute(&sm_count_, cudaDevAttrMultiProcessorCount, ordinal_), "multiprocessor count query");
    if (sm_count_ < 1) sm_count_ = 1;
  }

  const char* name() const override { return name_.c_str(); }
  bool is_cuda() const override { return true; }

  // ---- memory ----
  void* alloc(size_t bytes) override {
    DeviceGuard device(ordinal_);
    void* ptr = nullptr;
    const cudaError_t err = cudaMalloc(&ptr, bytes ? bytes : 1);  // 0 bytes still yields a distinct pointer
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      return nullptr;
    }
    check(err, "cudaMalloc");
    return ptr;
  }

  // Never throws: release runs from destructors and finalizers, where nothing can be done about a
  // failure (typically the runtime already shutting down at exit). A sticky device fault still
  // surfaces at the next checked call.
  void release(void* ptr) override {
    if (!ptr) return;
    try {
      DeviceGuard device(ordinal_);
      if (cudaFree(ptr) != cudaSuccess) cudaGetLastError();
    } catch (...) {
    }
  }

  void zero(void* ptr, size_t bytes, StreamHandle s) override {
    if (!bytes) return;
    DeviceGuard device(ordinal_);
    check(cudaMemsetAsync(ptr, 0, bytes, stream(s)), "cudaMemsetAsync");
  }

  // From pageable host memory the copy is staged before this returns, so src may be reused at once.
  void copy_from_host(void* dst, const void* src, size_t bytes, StreamHandle s) override {
    if (!bytes) return;
    DeviceGuard device(ordinal_);
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream(s)), "copy to device");
  }

  void copy_to_host(void* dst, const void* src, size_t bytes, StreamHandle s) override {
    if (!bytes) return;
    DeviceGuard device(ordinal_);
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream(s)), "copy to host");
    check(cudaStreamSynchronize(stream(s)), "copy to host (stream sync)");
  }

  void copy_within(void* dst, const void* src, size_t bytes, StreamHandle s) override {
    if (!bytes) return;
    DeviceGuard device(ordinal_);
    // cudaMemcpyDefault: unified addressing infers the direction, peer devices included.
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream(s)), "device copy");
  }

  void synchronize(StreamHandle s) override {
    DeviceGuard device(ordinal_);
    check(cudaStreamSynchronize(stream(s)), "stream synchronize");
  }

  // Non-blocking streams do not wait for the legacy stream, so freeing needs the whole device idle.
  void synchronize_device() override {
    DeviceGuard device(ordinal_);
    check(cudaDeviceSynchronize(), "device synchronize");
  }

  // ---- fills and conversions ----
  void fill(void* p, int32_t dtype, int64_t n, float value, StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_fill(env(s), p, dtype, n, value);
  }

  void random(void* p, int32_t dtype, int64_t n, int32_t dist, uint64_t seed, float a, float b,
              StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_random(env(s), p, dtype, n, dist, seed, a, b);
  }

  void cast(const void* src, int32_t src_dtype, void* dst, int32_t dst_dtype, int64_t n, StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_cast(env(s), src, src_dtype, dst, dst_dtype, n);
  }

  void to_f32_scaled(const void* src, int32_t dtype, float* dst, int64_t n, const float* gscale,
                     StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_to_f32_scaled(env(s), src, dtype, dst, n, gscale);
  }

  // ---- optimizer arithmetic ----
  void elementwise_step(const ElementwiseJob* jobs, size_t count, const float* gscale, StreamHandle s) override {
    if (!count) return;
    DeviceGuard device(ordinal_);
    launch_elementwise_step(env(s), jobs, count, gscale);
  }

  void indexed_step(const IndexedJob& job, const float* gscale, StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_indexed_step(env(s), job, gscale);
  }

  void compressed_direction(float* gc, void* m, void* v, int32_t state_dtype, int64_t n, const RuleScalars& rule,
                            const float* gate, StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_compressed_direction(env(s), gc, m, v, state_dtype, n, rule, gate);
  }

  void dense_apply(const DenseApplyJob& job, const float* gscale, StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_dense_apply(env(s), job, gscale);
  }

  void gemm(const GemmArgs& args, StreamHandle s) override {
    DeviceGuard device(ordinal_);
    run_gemm(env(s), math_, args);
  }

  // ---- reductions ----
  void sum_squares(const void* const* ptrs, const int32_t* dtypes, const int64_t* ns, size_t count, double* acc,
                   StreamHandle s) override {
    if (!count) return;
    DeviceGuard device(ordinal_);
    launch_sum_squares(env(s), ptrs, dtypes, ns, count, acc);
  }

  void step_scalars(const double* sumsq, float max_norm, int32_t skip_nonfinite, float* out, int64_t* skipped,
                    StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_step_scalars(env(s), sumsq, max_norm, skip_nonfinite, out, skipped);
  }

  void line_norms(const void* g, int32_t dtype, int64_t rows, int64_t cols, int32_t axis, float* out,
                  StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_line_norms(env(s), g, dtype, rows, cols, axis, out);
  }

  bool svd(const float* a, int64_t m, int64_t n, float* u, float* s, float* vt, StreamHandle st) override {
    DeviceGuard device(ordinal_);
    return run_svd(env(st), math_, a, m, n, u, s, vt);
  }

 private:
  static cudaStream_t stream(StreamHandle s) { return static_cast<cudaStream_t>(s); }
  DeviceEnv env(StreamHandle s) const { return DeviceEnv{ordinal_, sm_count_, stream(s)}; }

  const int ordinal_;
  const std::string name_;
  int sm_count_ = 1;
  MathHandles math_;
};

}  // namespace
}  // namespace cuda

int cuda_device_count(std::string* why) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    if (why) *why = cuda::describe_unavailable(err);
    return 0;
  }
  if (why) *why = count == 0 ? "no CUDA-capable GPU was found" : "";
  return count;
}

void cuda_device_info(int ordinal, frugal_device_info* out) {
  cuda::require_device(ordinal);
  cudaDeviceProp prop;
  cuda::check(cudaGetDeviceProperties(&prop, ordinal), "device properties query");
  std::memset(out, 0, sizeof(*out));
  std::strncpy(out->name, prop.name, sizeof(out->name) - 1);
  out->total_memory = (uint64_t)prop.totalGlobalMem;
  out->cc_major = prop.major;
  out->cc_minor = prop.minor;
  out->multiprocessors = prop.multiProcessorCount;
}

void* cuda_stream_create(int ordinal) {
  cuda::require_device(ordinal);
  cuda::DeviceGuard device(ordinal);
  cudaStream_t stream = nullptr;
  // Non-blocking: no implicit ordering with the legacy default stream, which other libraries use.
  cuda::check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "stream create");
  return stream;
}

void cuda_stream_destroy(int ordinal, void* stream) {
  if (!stream) return;
  cuda::require_device(ordinal);
  cuda::DeviceGuard device(ordinal);
  cuda::check(cudaStreamDestroy(static_cast<cudaStream_t>(stream)), "stream destroy");
}

void* cuda_event_create(int ordinal) {
  cuda::require_device(ordinal);
  cuda::DeviceGuard device(ordinal);
  cudaEvent_t event = nullptr;
  cuda::check(cudaEventCreate(&event), "event create");
  return event;
}

void cuda_event_record(int ordinal, void* event, void* stream) {
  cuda::DeviceGuard device(ordinal);
  cuda::check(cudaEventRecord(static_cast<cudaEvent_t>(event), static_cast<cudaStream_t>(stream)), "event record");
}

float cuda_event_elapsed_ms(int ordinal, void* start, void* end) {
  cuda::DeviceGuard device(ordinal);
  cuda::check(cudaEventSynchronize(static_cast<cudaEvent_t>(end)), "event synchronize");
  float ms = 0.f;
  cuda::check(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start), static_cast<cudaEvent_t>(end)), "event elapsed time");
  return ms;
}

void cuda_event_destroy(int ordinal, void* event) {
  if (!event) return;
  cuda::DeviceGuard device(ordinal);
  cuda::check(cudaEventDestroy(static_cast<cudaEvent_t>(event)), "event destroy");
}

bool cuda_math_available(int ordinal) {
  if (ordinal < 0 || ordinal >= cuda_device_count(nullptr)) return false;
  return cuda_libs::cublas_loaded() && cuda_libs::cusolver_loaded();
}

Backend* cuda_backend(int ordinal, std::string* why) {
  std::string reason;
  const int count = cuda_device_count(&reason);
  if (ordinal < 0 || ordinal >= count) {
    if (why) *why = "device: cuda:" + std::to_string(ordinal) + " does not exist (" + cuda::devices_phrase(count, reason) + ")";
    return nullptr;
  }
  // One backend per device for the life of the process. They are never deleted: tearing them down
  // at exit would race the static CUDA runtime's own shutdown.
  static std::mutex mutex;
  static std::vector<Backend*> backends;
  std::lock_guard<std::mutex> lock(mutex);
  if (backends.size() < (size_t)count) backends.resize((size_t)count, nullptr);
  if (!backends[ordinal]) {
    try {
      backends[ordinal] = new cuda::CudaBackend(ordinal);
    } catch (const Error& e) {
      if (why) *why = e.what();
      return nullptr;
    }
  }
  if (why) why->clear();
  return backends[ordinal];
}

}  // namespace frugal
