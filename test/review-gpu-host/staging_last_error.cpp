// Review harness: cuda/pinned_staging.h against a fake CUDA runtime that keeps the per-thread
// "last error" the way the real one does: every call that returns something other than
// cudaSuccess records it, cudaErrorNotReady from cudaEventQuery included (which is why PyTorch's
// caching allocator and CUDAEvent::query() call cudaGetLastError() after a not-ready query).
// Scenario: two staged copies back to back, the first DMA still in flight, then a kernel launch
// check (cuda_check.cuh's check_launch) and the next backend call's check_pending. Neither may
// throw: nothing failed. Prints what happened; exit 0 only when no error was reported.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include "pinned_staging.h"

namespace {
cudaError_t g_last = cudaSuccess;
std::map<cudaEvent_t, bool> g_in_flight;  // event -> its recorded work not done yet
int g_next_event = 1;
cudaError_t ret(cudaError_t e) {
  if (e != cudaSuccess) g_last = e;
  return e;
}
}  // namespace

namespace frugal {
namespace cuda {
[[noreturn]] void throw_cuda_error(cudaError_t err, const char* what) {
  cudaGetLastError();
  fail(FRUGAL_ERR_DEVICE, std::string("CUDA error in ") + what + ": error " + std::to_string((int)err));
}
}  // namespace cuda
}  // namespace frugal

extern "C" {
cudaError_t cudaGetLastError(void) {
  cudaError_t e = g_last;
  g_last = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError(void) { return g_last; }
cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaMemcpyAsync(void*, const void*, size_t, enum cudaMemcpyKind, cudaStream_t) { return cudaSuccess; }
cudaError_t cudaHostAlloc(void** p, size_t bytes, unsigned int) {
  *p = std::malloc(bytes);
  return cudaSuccess;
}
cudaError_t cudaFreeHost(void* p) {
  std::free(p);
  return cudaSuccess;
}
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int) {
  *e = reinterpret_cast<cudaEvent_t>((uintptr_t)(g_next_event++ * 64));
  g_in_flight[*e] = false;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t) {
  g_in_flight[e] = true;  // the DMA before it is still running
  return cudaSuccess;
}
cudaError_t cudaEventQuery(cudaEvent_t e) { return ret(g_in_flight[e] ? cudaErrorNotReady : cudaSuccess); }
cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  g_in_flight[e] = false;
  return cudaSuccess;
}
}

int main() {
  frugal::cuda::PinnedStaging staging;
  static char device_a[256], device_b[256];
  const char src[64] = "indices";
  try {
    staging.copy_to_device(device_a, src, sizeof src, nullptr);  // buffer 0, DMA in flight
    staging.copy_to_device(device_b, src, sizeof src, nullptr);  // buffer 0 busy: queried, buffer 1
    frugal::cuda::check_launch("a kernel launched after the staged copies");
    frugal::cuda::check_pending("the next backend call");
  } catch (const std::exception& e) {
    std::printf("reported an error although nothing failed: %s\n", e.what());
    return 1;
  }
  std::printf("no error reported\n");
  return 0;
}
