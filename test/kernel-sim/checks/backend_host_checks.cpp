// cuda/cuda_backend.cu's host glue against the fake runtime of sim/fake_device_runtime.cpp:
// discovery failing softly (no device, old driver) with the reason, device info, ordinals that do
// not exist, the backend cache, allocation failure as nullptr (not an exception, error cleared),
// release never throwing, the device switch restored after each call, and streams and events
// created, used and destroyed in balance. On a GPU the same code meets the real runtime; here its
// decisions are checked one by one.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include "checks.h"
#include "core/cuda_api.h"
#include "core/errors.h"
#include "core/memory.h"
#include "core/optimizer.h"
#include "fake_device.h"
#include "harness.h"
#include "math_libs_fake.h"

namespace ks {

namespace {

bool contains(const std::string& text, const char* needle) { return text.find(needle) != std::string::npos; }

// The message of the frugal::Error fn throws ("" if it throws none).
template <class F>
std::string error_of(F&& fn, frugal_status* status = nullptr) {
  try {
    fn();
  } catch (const frugal::Error& e) {
    if (status) *status = e.status();
    return e.what();
  }
  return "";
}

// A check whose code under test throws where it should not fails (with the message) instead of
// ending the run.
template <class F>
void guarded(const char* what, F&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    record(false, std::string(what) + ": threw unexpectedly", e.what());
  }
}

void check_discovery() {
  namespace fd = sim::fake_device;
  std::string why;
  fd::configure(0, cudaErrorNoDevice);
  record(
      frugal::cuda_device_count(&why) == 0 && contains(why, "no CUDA-capable GPU") && cudaGetLastError() == cudaSuccess,
      "backend: no device: count 0, the reason, the error cleared", why);
  fd::configure(0, cudaErrorInsufficientDriver);
  frugal::cuda_device_count(&why);
  record(contains(why, "driver is missing or too old") && contains(why, "needs NVIDIA driver"),
         "backend: an old driver is named as the reason, with the driver required", why);
  record(frugal::cuda_backend(0, &why) == nullptr && contains(why, "cuda:0 does not exist"),
         "backend: no backend without a device, with the reason", why);
  record(!frugal::cuda_math_available(0), "backend: no math libraries reported without a device");
  fd::set_driver_version(12040);
  frugal::cuda_device_count(&why);
  record(contains(why, "supports CUDA 12.4") && contains(why, "runtime needs NVIDIA driver"),
         "backend: an old driver's CUDA version and the driver required are stated", why);
  fd::set_driver_version(0);
  frugal::cuda_device_count(&why);
  record(contains(why, "no NVIDIA driver is installed"), "backend: no driver at all is said so", why);
  fd::set_driver_version(13000);

  fd::configure(2);
  frugal_device_info info{};
  frugal::cuda_device_info(1, &info);
  record(std::strcmp(info.name, "kernel-sim fake GPU 1") == 0 && info.cc_major == 9 && info.multiprocessors == 132 &&
             info.total_memory == ((uint64_t)80 << 30),
         "backend: device info copies the properties of the device asked for", info.name);
  const std::string missing = error_of([] {
    frugal_device_info other{};
    frugal::cuda_device_info(2, &other);
  });
  record(contains(missing, "cuda:2 does not exist (2 CUDA devices)"),
         "backend: an ordinal past the last device is refused by name", missing);
  record(frugal::cuda_backend(-1, &why) == nullptr && contains(why, "cuda:-1 does not exist"),
         "backend: a negative ordinal is refused", why);
}

void check_backend_calls() {
  namespace fd = sim::fake_device;
  fd::configure(2);
  std::string why;
  frugal::Backend* b1 = frugal::cuda_backend(1, &why);
  record(
      b1 != nullptr && why.empty() && frugal::cuda_backend(1, nullptr) == b1 && std::strcmp(b1->name(), "cuda:1") == 0,
      "backend: one backend per device, cached", why);
  if (!b1) return;
  // Device 0 is current; a call on cuda:1 switches to it and back.
  cudaSetDevice(0);
  void* p = b1->alloc(256);
  record(p && sim::is_device_range(p, 256) && fd::current_device() == 0,
         "backend: alloc on cuda:1 restores device 0 after it");
  void* zero = b1->alloc(0);
  record(zero && zero != p, "backend: a 0-byte alloc is a distinct pointer");
  fd::set_alloc_limit(1 << 20);
  void* big = b1->alloc(2 << 20);
  fd::set_alloc_limit(SIZE_MAX);
  record(big == nullptr && cudaGetLastError() == cudaSuccess,
         "backend: out of memory is nullptr, with the sticky error cleared");
  b1->release(p);
  b1->release(zero);
  int stray = 0;
  const std::string released = error_of([&] { b1->release(&stray); });
  const std::vector<std::string> errors = sim::drain_errors();
  record(released.empty() && errors.size() == 1 && contains(errors[0], "not a live device allocation"),
         "backend: release of a pointer that is not an allocation does not throw (the runtime's error is dropped)");

  const int streams = fd::live_streams(), events = fd::live_events();
  void* s = frugal::cuda_stream_create(1);
  void* e0 = frugal::cuda_event_create(1);
  void* e1 = frugal::cuda_event_create(1);
  frugal::cuda_event_record(1, e0, s);
  frugal::cuda_event_record(1, e1, s);
  const float ms = frugal::cuda_event_elapsed_ms(1, e0, e1);
  frugal::cuda_event_destroy(1, e0);
  frugal::cuda_event_destroy(1, e1);
  frugal::cuda_event_destroy(1, nullptr);
  frugal::cuda_stream_destroy(1, s);
  frugal::cuda_stream_destroy(1, nullptr);
  record(ms == 1.f && fd::live_streams() == streams && fd::live_events() == events && sim::drain_errors().empty() &&
             fd::current_device() == 0,
         "backend: a stream and two events, recorded, timed and destroyed in balance");
  void* unrecorded0 = frugal::cuda_event_create(1);
  void* unrecorded1 = frugal::cuda_event_create(1);
  const std::string timing = error_of([&] { frugal::cuda_event_elapsed_ms(1, unrecorded0, unrecorded1); });
  frugal::cuda_event_destroy(1, unrecorded0);
  frugal::cuda_event_destroy(1, unrecorded1);
  record(contains(timing, "event elapsed time") && contains(timing, "cudaErrorInvalidResourceHandle") &&
             cudaGetLastError() == cudaSuccess,
         "backend: timing unrecorded events is an error naming the call and the CUDA error", timing);
  const std::string bad_stream = error_of([] { frugal::cuda_stream_create(5); });
  record(contains(bad_stream, "cuda:5 does not exist"), "backend: a stream on a device that does not exist is refused",
         bad_stream);
  sim::drain_errors();
}

// Ordinals 2.. of a 16-device fake: each backend is created once per process, so every check
// that needs a fresh one (its handles, its pool setting) takes its own device.
constexpr int kDevices = 16;

frugal::Backend* fresh_backend(int ordinal) {
  std::string why;
  frugal::Backend* b = frugal::cuda_backend(ordinal, &why);
  if (!b) record(false, "backend: cuda:" + std::to_string(ordinal) + " created", why);
  return b;
}

// copy_from_host's contract: the source is the caller's again when it returns. In hold mode the
// fake's DMAs wait, so a copy that still read the caller's memory, or a staging buffer reused
// before its DMA ran, would deliver the wrong bytes.
void check_staging(frugal::Backend* b) {
  namespace fd = sim::fake_device;
  constexpr size_t kBytes = 1000;
  constexpr int kCopies = 6;  // more than PinnedStaging::kMaxBuffers (4): one must be waited for
  std::vector<uint8_t*> dst;
  const int pinned_before = fd::live_pinned(), frees_before = fd::pinned_frees();
  fd::hold_transfers(true);
  for (int i = 0; i < kCopies; ++i) {
    dst.push_back(static_cast<uint8_t*>(sim::device_malloc(kBytes)));
    uint8_t* src = new uint8_t[kBytes];
    std::memset(src, 0x10 + i, kBytes);
    b->copy_from_host(dst.back(), src, kBytes, nullptr);
    std::memset(src, 0xEE, kBytes);  // overwritten, then freed, before the DMA runs
    delete[] src;
  }
  const int queued = fd::queued_transfers();
  const cudaError_t last = cudaPeekAtLastError();
  fd::hold_transfers(false);
  bool delivered = true;
  for (int i = 0; i < kCopies; ++i)
    for (size_t j = 0; j < kBytes; ++j) delivered &= dst[i][j] == 0x10 + i;
  record(delivered,
         "staging: bytes delivered as they were when copy_from_host returned (source overwritten and "
         "freed, staging buffers reused only after their DMA)");
  record(queued > 0, "staging: the fake held the copies (the check above is not vacuous)", std::to_string(queued));
  record(last == cudaSuccess, "staging: a busy buffer's cudaErrorNotReady is not left as the last error",
         cudaGetErrorName(last));
  record(fd::live_pinned() - pinned_before == 4 && fd::pinned_frees() == frees_before,
         "staging: four pinned buffers at most, none freed while in use",
         std::to_string(fd::live_pinned() - pinned_before));

  // A copy larger than the buffers grows one (its old pinned memory freed exactly once), and one
  // over 16 MiB is synchronous: delivered by the time the call returns.
  fd::hold_transfers(true);
  std::vector<uint8_t> mid(200 << 10, 0x5A);
  uint8_t* mid_dst = static_cast<uint8_t*>(sim::device_malloc(mid.size()));
  b->copy_from_host(mid_dst, mid.data(), mid.size(), nullptr);
  std::vector<uint8_t> big((17 << 20), 0x6B);
  uint8_t* big_dst = static_cast<uint8_t*>(sim::device_malloc(big.size()));
  b->copy_from_host(big_dst, big.data(), big.size(), nullptr);
  const bool big_now = big_dst[0] == 0x6B && big_dst[big.size() - 1] == 0x6B;
  std::fill(mid.begin(), mid.end(), 0);
  fd::hold_transfers(false);
  record(big_now, "staging: a copy over 16 MiB is complete when copy_from_host returns");
  record(mid_dst[0] == 0x5A && mid_dst[mid.size() - 1] == 0x5A && fd::pinned_frees() == frees_before + 1 &&
             fd::live_pinned() - pinned_before == 4 && sim::drain_errors().empty(),
         "staging: a grown buffer's old pinned memory is freed once, its new one holds the copy");
  for (uint8_t* d : dst) sim::device_free(d);
  sim::device_free(mid_dst);
  sim::device_free(big_dst);
}

// An error pending from earlier work is reported before the next call enqueues anything, as
// earlier work's, and cleared.
void check_pending_error(frugal::Backend* b) {
  float* p = static_cast<float*>(sim::device_malloc(64));
  sim::record_cuda_error(cudaErrorIllegalAddress);
  const std::string msg = error_of([&] { b->fill(p, FRUGAL_F32, 16, 1.f, nullptr); });
  record(contains(msg, "earlier asynchronous work (the error was pending before fill enqueued anything)") &&
             contains(msg, "cudaErrorIllegalAddress") && cudaGetLastError() == cudaSuccess,
         "backend: a pending error is reported as earlier asynchronous work's, before fill enqueues", msg);
  sim::device_free(p);
}

struct Gemm4 {
  float *a, *b, *c;
  Gemm4() {
    a = static_cast<float*>(sim::device_malloc(16 * sizeof(float)));
    b = static_cast<float*>(sim::device_malloc(16 * sizeof(float)));
    c = static_cast<float*>(sim::device_malloc(16 * sizeof(float)));
    for (int i = 0; i < 16; ++i) a[i] = (float)(i % 5), b[i] = (float)(i % 3) - 1.f, c[i] = 0.f;
  }
  ~Gemm4() {
    sim::device_free(a);
    sim::device_free(b);
    sim::device_free(c);
  }
  frugal::GemmArgs args() const { return {false, false, 4, 4, 4, 1.f, a, 4, b, 4, 0.f, c, 4}; }
  bool right() const {  // C = A B, row-major
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        float want = 0.f;
        for (int l = 0; l < 4; ++l) want += a[i * 4 + l] * b[l * 4 + j];
        if (c[i * 4 + j] != want) return false;
      }
    return true;
  }
};

uint64_t workspace_bytes(int device) { return frugal::memory_stats(device).current[FRUGAL_MEM_WORKSPACE]; }

// cublasSetStream resets a handle to cuBLAS's shared default workspace: each stream gets its own
// (cublasSetWorkspace after every cublasSetStream; the fake reports an sgemm without it, and a
// workspace on two streams), counted in the ledger, and freed when its stream is destroyed.
void check_blas_workspaces(int ordinal) {
  frugal::Backend* b = fresh_backend(ordinal);
  if (!b) return;
  Gemm4 g;
  const int sets = sim::blas_workspace_sets(), bound = sim::blas_streams_with_workspace(),
            shared = sim::blas_default_workspace_gemms();
  const uint64_t ws0 = workspace_bytes(ordinal);
  void* s1 = frugal::cuda_stream_create(ordinal);
  void* s2 = frugal::cuda_stream_create(ordinal);
  b->gemm(g.args(), s1);
  b->gemm(g.args(), s2);
  b->gemm(g.args(), s1);
  const uint64_t per_stream = 32u << 20;  // compute capability 9.0
  record(g.right() && sim::blas_workspace_sets() == sets + 3 && sim::blas_default_workspace_gemms() == shared &&
             sim::blas_streams_with_workspace() == bound + 2 && workspace_bytes(ordinal) == ws0 + 2 * per_stream &&
             sim::drain_errors().empty(),
         "cuBLAS: a workspace set after every cublasSetStream, one per stream, in the ledger",
         std::to_string(sim::blas_workspace_sets() - sets) + " sets, " +
             std::to_string(workspace_bytes(ordinal) - ws0) + " bytes");
  frugal::cuda_stream_destroy(ordinal, s1);
  const bool one_freed =
      workspace_bytes(ordinal) == ws0 + per_stream && sim::blas_streams_with_workspace() == bound + 1;
  frugal::cuda_stream_destroy(ordinal, s2);
  record(one_freed && workspace_bytes(ordinal) == ws0 && sim::blas_streams_with_workspace() == bound &&
             sim::drain_errors().empty(),
         "cuBLAS: a stream's workspace is freed with the stream");
}

// cublasCreate failing: an allocation failure is out of memory (after giving the pool's cached
// memory back and trying again), and a later call succeeds; any other failure is final: GEMMs
// take the fallback kernel, and cuda_math_available / the status say so.
void check_blas_create_failures(int oom_twice, int oom_once, int broken) {
  namespace fd = sim::fake_device;
  Gemm4 g;
  frugal::Backend* b = fresh_backend(oom_twice);
  if (!b) return;
  int trims = fd::pool_trims(), sets = sim::blas_workspace_sets();
  sim::fail_blas_create(3, 2);  // CUBLAS_STATUS_ALLOC_FAILED, the first try and the retry
  frugal_status status = FRUGAL_OK;
  const std::string oom = error_of([&] { b->gemm(g.args(), nullptr); }, &status);
  record(status == FRUGAL_ERR_OUT_OF_MEMORY && contains(oom, "CUBLAS_STATUS_ALLOC_FAILED") &&
             fd::pool_trims() == trims + 1,
         "cuBLAS: cublasCreate out of memory (retried after trimming the pool) is FRUGAL_ERR_OUT_OF_MEMORY", oom);
  b->gemm(g.args(), nullptr);
  record(g.right() && sim::blas_workspace_sets() == sets + 1 && frugal::cuda_math_available(oom_twice),
         "cuBLAS: the call after an out-of-memory creates the handle and uses cuBLAS");

  b = fresh_backend(oom_once);
  if (!b) return;
  trims = fd::pool_trims();
  sets = sim::blas_workspace_sets();
  sim::fail_blas_create(3, 1);
  const std::string retried = error_of([&] { b->gemm(g.args(), nullptr); });
  record(retried.empty() && fd::pool_trims() == trims + 1 && sim::blas_workspace_sets() == sets + 1,
         "cuBLAS: one allocation failure is retried after trimming the pool, and cuBLAS is used", retried);

  b = fresh_backend(broken);
  if (!b) return;
  sets = sim::blas_workspace_sets();
  std::fill(g.c, g.c + 16, -1.f);
  sim::fail_blas_create(1, 1);  // CUBLAS_STATUS_NOT_INITIALIZED
  b->gemm(g.args(), nullptr);
  const std::string text = frugal::cuda_math_status(broken);
  record(g.right() && sim::blas_workspace_sets() == sets && !frugal::cuda_math_available(broken) &&
             contains(text, "cublasCreate failed: CUBLAS_STATUS_NOT_INITIALIZED (1)") && contains(text, "fallback"),
         "cuBLAS: another cublasCreate failure gives the fallback GEMM, math unavailable, and the status says why",
         text);
  sim::fail_blas_create(0, 0);
  sim::drain_errors();
}

// The default pool's release threshold: 256 MiB by default, FRUGAL_POOL_RELEASE_BYTES overrides
// it ("max": everything), and a value that is no byte count (or out of range) is an
// invalid-argument error naming the variable. Without pools nothing is set or reported.
void check_pool(int dflt, int given, int max, int bad, int huge, int no_pools) {
  namespace fd = sim::fake_device;
  unsetenv("FRUGAL_POOL_RELEASE_BYTES");
  fresh_backend(dflt);
  record(fd::pool_release_threshold(dflt) == (256ull << 20) &&
             contains(frugal::cuda_math_status(dflt), "pool keeps 268435456 bytes"),
         "pool: the default release threshold is 256 MiB, and the status says so");
  setenv("FRUGAL_POOL_RELEASE_BYTES", "1048576", 1);
  fresh_backend(given);
  setenv("FRUGAL_POOL_RELEASE_BYTES", "max", 1);
  fresh_backend(max);
  record(fd::pool_release_threshold(given) == 1048576 && fd::pool_release_threshold(max) == ~0ull,
         "pool: FRUGAL_POOL_RELEASE_BYTES sets the threshold ('max': all)");
  for (const auto& [ordinal, value] :
       {std::pair<int, const char*>{bad, "12MB"}, {huge, "99999999999999999999999"}, {bad, "-1"}}) {
    setenv("FRUGAL_POOL_RELEASE_BYTES", value, 1);
    frugal_status status = FRUGAL_OK;
    std::string why;
    const std::string msg = error_of([&, o = ordinal] { frugal::cuda_backend(o, &why); }, &status);
    record(status == FRUGAL_ERR_INVALID_ARGUMENT && contains(msg, "FRUGAL_POOL_RELEASE_BYTES") &&
               contains(msg, value) && fd::pool_release_threshold(ordinal) == fd::kThresholdNeverSet,
           std::string("pool: FRUGAL_POOL_RELEASE_BYTES=") + value + " is refused, naming the variable", msg);
  }
  unsetenv("FRUGAL_POOL_RELEASE_BYTES");
  fd::set_memory_pools(false);
  fresh_backend(no_pools);
  fd::set_memory_pools(true);
  record(fd::pool_release_threshold(no_pools) == fd::kThresholdNeverSet &&
             !contains(frugal::cuda_math_status(no_pools), "pool"),
         "pool: a device without memory pools gets no threshold and no pool in its status");
  sim::drain_errors();
}

// A GPU older than every architecture of the build is listed, marked unusable with the reason,
// and refused by name (instead of failing each launch with "no kernel image").
void check_old_gpu(int ordinal) {
  namespace fd = sim::fake_device;
  fd::set_compute_capability(7, 0);
  frugal_device_info info{};
  frugal::cuda_device_info(ordinal, &info);
  std::string why;
  const frugal::Backend* b = frugal::cuda_backend(ordinal, &why);
  const std::string stream = error_of([&] { frugal::cuda_stream_create(ordinal); });
  fd::set_compute_capability(9, 0);
  record(info.usable == 0 && contains(info.unusable_reason, "compute capability 7.0") && !b &&
             contains(why, "compute capability 7.0") && contains(stream, "is not usable"),
         "backend: a compute capability 7.0 GPU is unusable, with the reason", info.unusable_reason);
}

// The SVD refresh refuses NaN / Inf before cuSOLVER sees them (gesvd is undefined there): false,
// so the host path gives the CPU backend's error; a finite matrix goes to gesvd.
void check_svd_nonfinite(int ordinal) {
  frugal::Backend* b = fresh_backend(ordinal);
  if (!b) return;
  float* a = static_cast<float*>(sim::device_malloc(12 * sizeof(float)));
  float* u = static_cast<float*>(sim::device_malloc(16 * sizeof(float)));
  float* s = static_cast<float*>(sim::device_malloc(4 * sizeof(float)));
  float* vt = static_cast<float*>(sim::device_malloc(16 * sizeof(float)));
  for (int i = 0; i < 12; ++i) a[i] = (float)((i * 7) % 5) - 2.f;
  a[5] = std::nanf("");
  const int calls = sim::gesvd_calls();
  const bool nan_result = b->svd(a, 4, 3, u, s, vt, nullptr);
  const int nan_calls = sim::gesvd_calls() - calls;
  a[5] = 0.5f;
  const bool finite_result = b->svd(a, 4, 3, u, s, vt, nullptr);
  record(
      !nan_result && nan_calls == 0 && finite_result && sim::gesvd_calls() == calls + 1 && sim::drain_errors().empty(),
      "svd: a NaN matrix returns false without calling gesvd; a finite one calls it");
  for (float* p : {a, u, s, vt}) sim::device_free(p);
}

// The core's bounds on params, through the optimizer the C API wraps: a shape whose element count
// overflows is refused before any range arithmetic; set_buffers checks each call against the
// buffers held then, so swapping two params' data takes a third buffer (frugal.h).
void check_param_bounds() {
  frugal::Optimizer opt(FRUGAL_CPU);
  frugal_group_options options{};
  options.lr = 0.1f;
  options.update_gap = 1;  // the rest zero: plain SGD, no selection
  int group = -1;
  const std::string group_error = error_of([&] { group = opt.add_group(options); });
  if (group < 0) {
    record(false, "core: a plain group for the bounds checks", group_error);
    return;
  }
  alignas(8) static float a[4], b[4], c[4];
  frugal_param_desc d{};
  d.data = a;
  d.dtype = FRUGAL_F32;
  d.grad_dtype = FRUGAL_F32;
  d.ndim = 2;
  d.shape[0] = (int64_t)1 << 40;
  d.shape[1] = (int64_t)1 << 40;
  frugal_status status = FRUGAL_OK;
  const std::string overflow = error_of([&] { opt.add_param(group, d); }, &status);
  record(status == FRUGAL_ERR_INVALID_ARGUMENT && contains(overflow, "param.shape") && contains(overflow, "overflows"),
         "core: a shape whose element count overflows is refused", overflow);
  d.ndim = 1;
  d.shape[0] = 4;
  const int pa = opt.add_param(group, d);
  d.data = b;
  const int pb = opt.add_param(group, d);
  const std::string direct = error_of([&] { opt.set_buffers(pa, b, nullptr); });
  opt.set_buffers(pa, c, nullptr);
  opt.set_buffers(pb, a, nullptr);
  const std::string via_third = error_of([&] { opt.set_buffers(pa, b, nullptr); });
  const std::string grad = error_of([&] { opt.set_buffers(pb, a, b); });
  record(contains(direct, "overlaps the memory of param 1") && via_third.empty() && contains(grad, "overlaps"),
         "core: set_buffers refuses another param's data (a swap goes through a third buffer) and a grad in data",
         direct + " | " + via_third + " | " + grad);
}

void check_device_state() {
  namespace fd = sim::fake_device;
  fd::configure(kDevices);
  sim::set_math_libs(sim::MathLibs::Reference);
  if (frugal::Backend* b = fresh_backend(2)) {
    guarded("staging", [&] { check_staging(b); });
    fd::hold_transfers(false);
    guarded("pending error", [&] { check_pending_error(b); });
  }
  guarded("cuBLAS workspaces", [] { check_blas_workspaces(3); });
  guarded("cublasCreate failures", [] { check_blas_create_failures(4, 5, 6); });
  sim::fail_blas_create(0, 0);
  guarded("memory pool", [] { check_pool(7, 8, 9, 10, 11, 12); });
  unsetenv("FRUGAL_POOL_RELEASE_BYTES");
  fd::set_memory_pools(true);
  guarded("old GPU", [] { check_old_gpu(13); });
  fd::set_compute_capability(9, 0);
  guarded("svd", [] { check_svd_nonfinite(14); });
  sim::set_math_libs(sim::MathLibs::Absent);
  cudaGetLastError();
  sim::drain_errors();
}

}  // namespace

void check_backend_host() {
  check_discovery();
  check_backend_calls();
  check_device_state();
  guarded("param bounds", check_param_bounds);
  sim::fake_device::configure(1);
}

}  // namespace ks
