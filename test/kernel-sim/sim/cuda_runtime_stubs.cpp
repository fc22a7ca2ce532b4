// The CUDA runtime calls the translated sources make, on host memory. Device allocations are
// registered so that copies can be checked against their declared direction and frees against
// live allocations; a runtime function the sources need and this file lacks is a link error.
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include "fake_device.h"
#include "sim_runtime.h"

namespace sim {
namespace {

std::map<const char*, size_t> g_allocations;  // base -> bytes, live device allocations
cudaError_t g_last_error = cudaSuccess;

bool inside(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  auto it = g_allocations.upper_bound(c);
  if (it == g_allocations.begin()) return false;
  --it;
  return c >= it->first && c + bytes <= it->first + it->second;
}

}  // namespace

void* device_malloc(size_t bytes) {
  char* p = static_cast<char*>(std::malloc(bytes ? bytes : 1));
  g_allocations[p] = bytes;
  return p;
}

void device_free(void* p) {
  if (!p) return;
  auto it = g_allocations.find(static_cast<const char*>(p));
  if (it == g_allocations.end()) {
    report_error("free of a pointer that is not a live device allocation");
    return;
  }
  g_allocations.erase(it);
  std::free(p);
}

bool is_device_range(const void* p, size_t bytes) { return inside(p, bytes); }

bool find_device_allocation(const void* p, const char** base, size_t* bytes) {
  const char* c = static_cast<const char*>(p);
  auto it = g_allocations.upper_bound(c);
  if (it == g_allocations.begin()) return false;
  --it;
  if (c >= it->first + it->second) return false;
  *base = it->first;
  *bytes = it->second;
  return true;
}

void record_cuda_error(cudaError_t err) {
  if (g_last_error == cudaSuccess) g_last_error = err;
}

static cudaError_t take_cuda_error(bool clear) {
  const cudaError_t err = g_last_error;
  if (clear) g_last_error = cudaSuccess;
  return err;
}

}  // namespace sim

namespace {

cudaError_t copy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, bool async = false) {
  const bool dst_dev = sim::is_device_range(dst, bytes), src_dev = sim::is_device_range(src, bytes);
  bool ok = true;
  switch (kind) {
    case cudaMemcpyHostToHost: ok = !dst_dev && !src_dev; break;
    case cudaMemcpyHostToDevice: ok = dst_dev && !src_dev; break;
    case cudaMemcpyDeviceToHost: ok = !dst_dev && src_dev; break;
    case cudaMemcpyDeviceToDevice: ok = dst_dev && src_dev; break;
    default: break;  // cudaMemcpyDefault: any direction
  }
  if (!ok) {
    sim::report_error("cudaMemcpy kind " + std::to_string((int)kind) + " does not match its pointers (dst " +
                      (dst_dev ? "device" : "host") + ", src " + (src_dev ? "device" : "host") + ", " +
                      std::to_string(bytes) + " bytes)");
    return cudaErrorInvalidValue;
  }
  // In the fake device's hold mode a host-to-device copy waits in its queue (fake_device.h);
  // anything else runs the queue first, as work on the stream runs in order.
  if (async && kind == cudaMemcpyHostToDevice && sim::queue_transfer(dst, src, bytes)) return cudaSuccess;
  sim::run_queued_transfers();
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}

}  // namespace

cudaError_t cudaMalloc(void** p, size_t bytes) {
  if (bytes > sim::fake_device::alloc_limit()) {  // an out-of-memory the checks provoke
    *p = nullptr;
    sim::record_cuda_error(cudaErrorMemoryAllocation);
    return cudaErrorMemoryAllocation;
  }
  *p = sim::device_malloc(bytes);
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
  sim::device_free(p);
  return cudaSuccess;
}
cudaError_t cudaMallocAsync(void** p, size_t bytes, cudaStream_t) { return cudaMalloc(p, bytes); }
cudaError_t cudaFreeAsync(void* p, cudaStream_t) { return cudaFree(p); }
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  return copy(dst, src, bytes, kind);
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  return copy(dst, src, bytes, kind, true);
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t) {
  if (!sim::is_device_range(p, bytes)) {
    sim::report_error("cudaMemsetAsync on memory that is not a device allocation");
    return cudaErrorInvalidValue;
  }
  sim::run_queued_transfers();
  std::memset(p, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) {
  sim::run_queued_transfers();
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() {
  sim::run_queued_transfers();
  return cudaSuccess;
}
cudaError_t cudaGetLastError() { return sim::take_cuda_error(true); }
cudaError_t cudaPeekAtLastError() { return sim::take_cuda_error(false); }
// Names of the errors the simulator itself raises; the backend puts them in its messages.
const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    default: return "cudaError (other)";
  }
}
const char* cudaGetErrorString(cudaError_t err) { return cudaGetErrorName(err); }
