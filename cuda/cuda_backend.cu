// The CUDA backend: device discovery (core/cuda_api.h), streams, memory, and the Backend methods,
// which set the device and hand each call to its launcher (tensor_kernels, optimizer_kernels,
// reduce_kernels, linalg). The CUDA runtime is linked statically, so this file is loaded on
// machines with no driver or GPU: every query there must fail softly (count 0, a reason) and
// nothing may abort.
#include <cuda_runtime.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/cuda_api.h"
#include "core/memory.h"
#include "arch_support.h"
#include "cuda_check.cuh"
#include "library_status.h"
#include "device_env.cuh"
#include "linalg.cuh"
#include "math_libs.h"
#include "optimizer_kernels.cuh"
#include "pinned_staging.h"
#include "reduce_kernels.cuh"
#include "tensor_kernels.cuh"

namespace frugal {
namespace cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* what) {
  cudaGetLastError();  // clear it, so the next launch check does not report it again (sticky ones stay)
  const frugal_status status = err == cudaErrorMemoryAllocation ? FRUGAL_ERR_OUT_OF_MEMORY : FRUGAL_ERR_DEVICE;
  std::string message =
      std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err) + " (" + cudaGetErrorName(err) + ")";
  const bool attributed = std::strstr(what, "earlier asynchronous work") || std::strstr(what, "FRUGAL_SYNC_LAUNCHES");
  if (is_async_error(err) && !attributed)
    message +=
        "; this kind of error is raised by device work while it runs, so it may come from earlier asynchronous work "
        "(a kernel or copy enqueued before this call); run with FRUGAL_SYNC_LAUNCHES=1 to report it under the "
        "kernel that faulted";
  fail(status, message);
}

namespace {

// "13.0" for a CUDA version number such as 13000.
std::string cuda_version_text(int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); }

// The oldest driver this build's runtime works with. CUDA 13's runtime (linked statically here)
// needs a driver of the 580 series; a CUDA 12 build needs 530 for the kernels' large parameter
// lists (CUDA 12.1), which CMakeLists.txt requires of the toolkit.
const char* required_driver() { return CUDART_VERSION >= 13000 ? "580" : "530"; }

// The installed driver, in words: its version (from the kernel module) and the CUDA version it
// supports, or that there is none.
std::string installed_driver() {
  std::string module_version;
  std::ifstream proc("/proc/driver/nvidia/version");
  std::string line;
  if (proc && std::getline(proc, line)) {
    // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  570.86.15  Wed ..."
    const size_t at = line.find("Kernel Module");
    if (at != std::string::npos) {
      size_t b = line.find_first_not_of(' ', at + 13), e = b == std::string::npos ? b : line.find(' ', b);
      if (b != std::string::npos) module_version = line.substr(b, e == std::string::npos ? std::string::npos : e - b);
    }
  }
  int supported = 0;
  if (cudaDriverGetVersion(&supported) != cudaSuccess) {
    cudaGetLastError();
    supported = 0;
  }
  if (supported == 0 && module_version.empty()) return "no NVIDIA driver is installed (libcuda.so.1 was not found)";
  std::string text =
      "the installed driver is " + (module_version.empty() ? std::string("of unknown version") : module_version);
  if (supported) text += " (supports CUDA " + cuda_version_text(supported) + ")";
  return text;
}

std::string driver_requirement() {
  return "this build's CUDA " + cuda_version_text(CUDART_VERSION) + " runtime needs NVIDIA driver " +
         required_driver() + " or newer";
}

std::string describe_unavailable(cudaError_t err) {
  switch (err) {
    case cudaErrorNoDevice: return "no CUDA-capable GPU was found (" + installed_driver() + ")";
    case cudaErrorInsufficientDriver:
      return "the NVIDIA driver is missing or too old: " + installed_driver() + "; " + driver_requirement();
    default:
      return std::string("CUDA initialization failed: ") + cudaGetErrorString(err) + " (" + cudaGetErrorName(err) +
             "); " + installed_driver() + "; " + driver_requirement();
  }
}

// Empty when this build has code the device can run; else why not (see arch_support.h).
std::string unusable_reason(int ordinal) {
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, ordinal) != cudaSuccess) {
    cudaGetLastError();
    return "";  // the caller's own queries report the failure
  }
  if (build_runs_on(prop.major, prop.minor)) return "";
  return std::string(prop.name) + " has compute capability " + std::to_string(prop.major) + "." +
         std::to_string(prop.minor) + ", and this build has GPU code for " + lowest_build_arch() +
         " and newer only (FRUGAL_CUDA_ARCHS=" + build_arch_list() + "), so none of its kernels could run there";
}

// FRUGAL_POOL_RELEASE_BYTES: how much unused memory the device's default pool (cudaMallocAsync,
// used for per-call scratch) keeps after a synchronization instead of returning it to the driver.
// CUDA's default, 0, unmaps and remaps the scratch at every synchronization; the default here
// keeps up to 256 MiB. A byte count; "max" keeps everything.
uint64_t pool_release_bytes() {
  const char* v = std::getenv("FRUGAL_POOL_RELEASE_BYTES");
  if (!v || !*v) return 256ull << 20;
  if (std::strcmp(v, "max") == 0) return ~0ull;
  char* end = nullptr;
  errno = 0;
  const unsigned long long bytes = std::strtoull(v, &end, 10);
  // strtoull accepts "-1" (as 2^64 - 1) and saturates out-of-range values: both refused.
  if (*end || v[0] == '-' || v[0] < '0' || v[0] > '9' || errno == ERANGE)
    invalid(std::string("FRUGAL_POOL_RELEASE_BYTES: expected a byte count (an integer from 0 to 2^64 - 1) or 'max', "
                        "got '") +
            v + "'");
  return bytes;
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

// Throws Error(FRUGAL_ERR_DEVICE) unless `ordinal` exists and this build can run on it.
void require_usable(int ordinal) {
  require_device(ordinal);
  const std::string why = unusable_reason(ordinal);
  if (!why.empty()) fail(FRUGAL_ERR_DEVICE, "device: cuda:" + std::to_string(ordinal) + " is not usable: " + why);
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int ordinal) : ordinal_(ordinal), name_("cuda:" + std::to_string(ordinal)) {
    const std::string unusable = unusable_reason(ordinal_);
    if (!unusable.empty()) fail(FRUGAL_ERR_DEVICE, unusable);
    DeviceGuard device(ordinal_);
    check(cudaDeviceGetAttribute(&sm_count_, cudaDevAttrMultiProcessorCount, ordinal_), "multiprocessor count query");
    if (sm_count_ < 1) sm_count_ = 1;
    int major = 0;
    check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, ordinal_), "compute capability query");
    // cuBLAS's own recommendation: 32 MiB from Hopper on, 4 MiB before.
    blas_workspace_bytes_ = major >= 9 ? (32u << 20) : (4u << 20);
    configure_pool();
    math_.bind_blas_workspace = [this](void* blas, cudaStream_t stream) { bind_blas_workspace(blas, stream); };
    math_.release_cached_memory = [this] { release_cached_memory(); };
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

  // src may be reused (or freed) as soon as this returns: the bytes are first copied into pinned
  // staging memory that stays reserved until the DMA completes, or the copy is synchronous when
  // too large to stage (pinned_staging.h). A pageable cudaMemcpyAsync gives no such guarantee on
  // every platform.
  void copy_from_host(void* dst, const void* src, size_t bytes, StreamHandle s) override {
    if (!bytes) return;
    DeviceGuard device(ordinal_);
    check_pending("copy to device");
    staging_.copy_to_device(dst, src, bytes, stream(s));
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
    launch_fill(env(s, "fill"), p, dtype, n, value);
  }

  void random(void* p, int32_t dtype, int64_t n, int32_t dist, uint64_t seed, float a, float b,
              StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_random(env(s, "random"), p, dtype, n, dist, seed, a, b);
  }

  void cast(const void* src, int32_t src_dtype, void* dst, int32_t dst_dtype, int64_t n, StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_cast(env(s, "cast"), src, src_dtype, dst, dst_dtype, n);
  }

  void to_f32_scaled(const void* src, int32_t dtype, float* dst, int64_t n, const float* gscale,
                     StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_to_f32_scaled(env(s, "to_f32_scaled"), src, dtype, dst, n, gscale);
  }

  // ---- optimizer arithmetic ----
  void elementwise_step(const ElementwiseJob* jobs, size_t count, const float* gscale, StreamHandle s) override {
    if (!count) return;
    DeviceGuard device(ordinal_);
    launch_elementwise_step(env(s, "elementwise step"), jobs, count, gscale);
  }

  void indexed_step(const IndexedJob& job, const float* gscale, StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_indexed_step(env(s, "indexed step"), job, gscale);
  }

  void compressed_direction(float* gc, void* m, void* v, int32_t state_dtype, int64_t n, const RuleScalars& rule,
                            const float* gate, StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_compressed_direction(env(s, "compressed direction"), gc, m, v, state_dtype, n, rule, gate);
  }

  void dense_apply(const DenseApplyJob& job, const float* gscale, StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_dense_apply(env(s, "dense apply"), job, gscale);
  }

  void gemm(const GemmArgs& args, StreamHandle s) override {
    DeviceGuard device(ordinal_);
    run_gemm(env(s, "gemm"), math_, args);
  }

  // ---- reductions ----
  void sum_squares(const void* const* ptrs, const int32_t* dtypes, const int64_t* ns, size_t count, double* acc,
                   StreamHandle s) override {
    if (!count) return;
    DeviceGuard device(ordinal_);
    launch_sum_squares(env(s, "sum of squares"), ptrs, dtypes, ns, count, acc);
  }

  void step_scalars(const double* sumsq, float max_norm, int32_t skip_nonfinite, float* out, int64_t* skipped,
                    StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_step_scalars(env(s, "step scalars"), sumsq, max_norm, skip_nonfinite, out, skipped);
  }

  void line_norms(const void* g, int32_t dtype, int64_t rows, int64_t cols, int32_t axis, float* out,
                  StreamHandle s) override {
    DeviceGuard device(ordinal_);
    launch_line_norms(env(s, "line norms"), g, dtype, rows, cols, axis, out);
  }

  bool svd(const float* a, int64_t m, int64_t n, float* u, float* s, float* vt, StreamHandle st) override {
    DeviceGuard device(ordinal_);
    return run_svd(env(st, "svd"), math_, a, m, n, u, s, vt);
  }

  // ---- what cuda_api.h's queries need ----
  // Whether cuBLAS and cuSOLVER are in use (loaded, and no handle failed for good).
  bool math_usable() {
    std::lock_guard<std::mutex> lock(math_.mutex);
    return !math_.blas_failed && !math_.solver_failed;
  }
  std::string math_status() {
    std::lock_guard<std::mutex> lock(math_.mutex);
    std::string blas_why, solver_why;
    const bool blas = cuda_libs::cublas_loaded(&blas_why), solver = cuda_libs::cusolver_loaded(&solver_why);
    return library_status("cuBLAS", blas ? cuda_libs::cublas_path() : "", math_.blas != nullptr,
                          blas ? math_.blas_error : blas_why) +
           "; " +
           library_status("cuSOLVER", solver ? cuda_libs::cusolver_path() : "", math_.solver != nullptr,
                          solver ? math_.solver_error : solver_why) +
           (pools_ ? "; the default memory pool keeps " + std::to_string(pool_release_bytes_) + " bytes" : "");
  }
  // A stream we created is going away: its cuBLAS workspace goes with it (after its work).
  // Borrowed streams (Stream.fromHandle, frugal_* calls given a caller's stream) and the default
  // stream never pass through here: we cannot know when a caller destroys its stream, so their
  // workspaces (one per distinct handle, blas_workspace_bytes_ each) live as long as the backend,
  // counted in the ledger as workspace. A program that borrows many short-lived streams should
  // create them through frugal-optim instead (docs/ARCHITECTURE.md, "cuBLAS workspaces").
  void forget_stream(cudaStream_t s) {
    std::lock_guard<std::mutex> lock(math_.mutex);
    auto it = blas_workspaces_.find(s);
    if (it == blas_workspaces_.end()) return;
    check(cudaStreamSynchronize(s), "stream synchronize (before freeing its cuBLAS workspace)");
    blas_workspaces_.erase(it);
  }

 private:
  static cudaStream_t stream(StreamHandle s) { return static_cast<cudaStream_t>(s); }
  // Every launching call goes through here first, so an error left by earlier asynchronous work is
  // reported as such before anything new is enqueued (cuda_check.cuh).
  DeviceEnv env(StreamHandle s, const char* op) const {
    check_pending(op);
    return DeviceEnv{ordinal_, sm_count_, stream(s)};
  }

  static std::string library_status(const char* name, const std::string& path, bool created, const std::string& error) {
    if (!error.empty()) return std::string(name) + " not in use: " + error;
    return std::string(name) + " loaded from " + (path.empty() ? "an unknown path" : path) +
           (created ? ", handle created" : ", handle not created yet");
  }

  void configure_pool() {
    int pools = 0;
    if (cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, ordinal_) != cudaSuccess) cudaGetLastError();
    pool_release_bytes_ = pool_release_bytes();  // parsed (and a bad value refused) either way
    pools_ = pools != 0;
    if (!pools_) return;
    cudaMemPool_t pool;
    check(cudaDeviceGetDefaultMemPool(&pool, ordinal_), "default memory pool query");
    uint64_t threshold = pool_release_bytes_;
    check(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold), "memory pool release threshold");
  }

  // Before retrying a failed library allocation: the pool's cached memory goes back to the driver.
  void release_cached_memory() {
    int pools = 0;
    if (cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, ordinal_) != cudaSuccess || !pools) {
      cudaGetLastError();
      return;
    }
    cudaMemPool_t pool;
    if (cudaDeviceGetDefaultMemPool(&pool, ordinal_) == cudaSuccess && cudaDeviceSynchronize() == cudaSuccess)
      cudaMemPoolTrimTo(pool, 0);
    cudaGetLastError();
  }

  // Called under math_.mutex right after cublasSetStream: each stream gets its own workspace,
  // allocated once and counted in the ledger as workspace, as cuBLAS requires for results that
  // do not depend on what other streams run.
  void bind_blas_workspace(void* blas, cudaStream_t s) {
    auto it = blas_workspaces_.find(s);
    if (it == blas_workspaces_.end())
      it = blas_workspaces_.emplace(s, Buffer(ordinal_, blas_workspace_bytes_, FRUGAL_MEM_WORKSPACE)).first;
    cuda_libs::check_blas(cuda_libs::blas_set_workspace(blas, it->second.get(), it->second.bytes()),
                          "cublasSetWorkspace");
  }

  const int ordinal_;
  const std::string name_;
  int sm_count_ = 1;
  size_t blas_workspace_bytes_ = 4u << 20;
  uint64_t pool_release_bytes_ = 0;
  bool pools_ = false;  // the device has a default memory pool (cudaMallocAsync)
  MathHandles math_;
  std::map<cudaStream_t, Buffer> blas_workspaces_;  // guarded by math_.mutex
  PinnedStaging staging_;
};

// The backend of `ordinal` if it was already created (queries must not create contexts).
CudaBackend* existing_backend(int ordinal);

// One backend per device for the life of the process. They are never deleted: tearing them down
// at exit would race the static CUDA runtime's own shutdown.
std::mutex backends_mutex;
std::vector<CudaBackend*> backends;

CudaBackend* existing_backend(int ordinal) {
  std::lock_guard<std::mutex> lock(backends_mutex);
  return ordinal >= 0 && (size_t)ordinal < backends.size() ? backends[ordinal] : nullptr;
}

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
  if (why) *why = count == 0 ? cuda::describe_unavailable(cudaErrorNoDevice) : "";
  return count;
}

void cuda_device_info(int ordinal, frugal_device_info* out) {
  cuda::require_device(ordinal);
  cudaDeviceProp prop;
  cuda::check(cudaGetDeviceProperties(&prop, ordinal), "device properties query");
  std::memset(out, 0, sizeof(*out));
  // The name's length bounded by both buffers (out is zeroed, so the copy stays terminated).
  const size_t name_len = std::min(strnlen(prop.name, sizeof(prop.name)), sizeof(out->name) - 1);
  std::memcpy(out->name, prop.name, name_len);
  out->total_memory = (uint64_t)prop.totalGlobalMem;
  out->cc_major = prop.major;
  out->cc_minor = prop.minor;
  out->multiprocessors = prop.multiProcessorCount;
  const std::string why = cuda::unusable_reason(ordinal);
  out->usable = why.empty() ? 1 : 0;
  std::strncpy(out->unusable_reason, why.c_str(), sizeof(out->unusable_reason) - 1);
}

void* cuda_stream_create(int ordinal) {
  cuda::require_usable(ordinal);
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
  if (cuda::CudaBackend* b = cuda::existing_backend(ordinal)) b->forget_stream(static_cast<cudaStream_t>(stream));
  cuda::check(cudaStreamDestroy(static_cast<cudaStream_t>(stream)), "stream destroy");
}

void* cuda_event_create(int ordinal) {
  cuda::require_usable(ordinal);
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
  cuda::check(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start), static_cast<cudaEvent_t>(end)),
              "event elapsed time");
  return ms;
}

void cuda_event_destroy(int ordinal, void* event) {
  if (!event) return;
  cuda::DeviceGuard device(ordinal);
  cuda::check(cudaEventDestroy(static_cast<cudaEvent_t>(event)), "event destroy");
}

bool cuda_math_available(int ordinal) {
  if (ordinal < 0 || ordinal >= cuda_device_count(nullptr)) return false;
  if (!cuda_libs::cublas_loaded() || !cuda_libs::cusolver_loaded()) return false;
  cuda::CudaBackend* b = cuda::existing_backend(ordinal);
  return !b || b->math_usable();
}

std::string cuda_math_status(int ordinal) {
  std::string why;
  const int count = cuda_device_count(&why);
  if (ordinal < 0 || ordinal >= count)
    return "device: cuda:" + std::to_string(ordinal) + " does not exist (" + cuda::devices_phrase(count, why) + ")";
  if (cuda::CudaBackend* b = cuda::existing_backend(ordinal)) return b->math_status();
  // Nothing has run on the device yet: what loading the libraries gives (handles come on first use).
  std::string blas_why, solver_why;
  const bool blas = cuda_libs::cublas_loaded(&blas_why), solver = cuda_libs::cusolver_loaded(&solver_why);
  return (blas ? "cuBLAS loaded from " + cuda_libs::cublas_path() : blas_why + "; GEMMs use the fallback kernel") +
         "; " +
         (solver ? "cuSOLVER loaded from " + cuda_libs::cusolver_path() : solver_why + "; SVDs run on the host") +
         "; no handle created yet";
}

Backend* cuda_backend(int ordinal, std::string* why) {
  std::string reason;
  const int count = cuda_device_count(&reason);
  if (ordinal < 0 || ordinal >= count) {
    if (why)
      *why =
          "device: cuda:" + std::to_string(ordinal) + " does not exist (" + cuda::devices_phrase(count, reason) + ")";
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(cuda::backends_mutex);
  if (cuda::backends.size() < (size_t)count) cuda::backends.resize((size_t)count, nullptr);
  if (!cuda::backends[ordinal]) {
    try {
      cuda::backends[ordinal] = new cuda::CudaBackend(ordinal);
    } catch (const Error& e) {
      // A bad setting (FRUGAL_POOL_RELEASE_BYTES) is the caller's to fix, not a device fault:
      // it stays an invalid-argument error naming the variable.
      if (e.status() == FRUGAL_ERR_INVALID_ARGUMENT) throw;
      if (why) *why = e.what();
      return nullptr;
    }
  }
  if (why) why->clear();
  return cuda::backends[ordinal];
}

}  // namespace frugal
