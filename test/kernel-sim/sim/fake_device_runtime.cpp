// Device discovery, device switching, streams and events of the CUDA runtime, faked for the
// simulator build (sim/fake_device.h): enough state to check that cuda/cuda_backend.cu asks for
// valid devices, destroys exactly the streams and events it created, records an event before
// timing it, and handles an initialization failure and an allocation failure as it claims. A misuse
// the real runtime would reject is reported (sim::report_error) and returns its error code.
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <string>
#include "fake_device.h"
#include "math_libs_fake.h"
#include "sim_runtime.h"

namespace sim::fake_device {

int g_count = 1;
cudaError_t g_init_error = cudaSuccess;
int g_current = 0;
size_t g_alloc_limit = SIZE_MAX;
std::set<const void*> g_streams;
int g_cc_major = 9, g_cc_minor = 0;
int g_driver_version = 13000;
bool g_pools = true;
std::map<int, unsigned long long> g_pool_thresholds;  // device -> release threshold set
int g_pool_trims = 0;
int g_pools_token[64];             // a pool handle is the address of its device's token
std::map<void*, size_t> g_pinned;  // live pinned allocations -> bytes
int g_pinned_frees = 0;

// Hold mode's queue of host-to-device copies not yet run, and how many have run in all (an
// event is ready once every copy queued before it was recorded has run).
struct Transfer {
  void* dst;
  const void* src;
  size_t bytes;
};
bool g_hold = false;
std::deque<Transfer> g_queue;
long g_transfers_queued = 0, g_transfers_run = 0;

struct Event {
  bool recorded = false;
  long tick = 0;
  long after_transfers = 0;  // copies queued before it was recorded
};
std::set<const void*> g_events;
long g_clock = 0;  // "time" advances by one millisecond per recorded event

cudaError_t misuse(const std::string& what, cudaError_t err) {
  report_error("CUDA runtime misuse: " + what);
  record_cuda_error(err);
  return err;
}

void configure(int count, cudaError_t init_error) {
  g_count = count;
  g_init_error = init_error;
  g_current = 0;
}
void set_alloc_limit(size_t bytes) { g_alloc_limit = bytes; }
size_t alloc_limit() { return g_alloc_limit; }
int current_device() { return g_current; }
int live_streams() { return (int)g_streams.size(); }
int live_events() { return (int)g_events.size(); }

void set_compute_capability(int major, int minor) {
  g_cc_major = major;
  g_cc_minor = minor;
}
void set_driver_version(int version) { g_driver_version = version; }
void set_memory_pools(bool supported) { g_pools = supported; }
unsigned long long pool_release_threshold(int device) {
  auto it = g_pool_thresholds.find(device);
  return it == g_pool_thresholds.end() ? kThresholdNeverSet : it->second;
}
int pool_trims() { return g_pool_trims; }

void hold_transfers(bool on) {
  if (!on) complete_transfers();
  g_hold = on;
}
void complete_transfers() {
  while (!g_queue.empty()) {
    const Transfer t = g_queue.front();
    g_queue.pop_front();
    std::memmove(t.dst, t.src, t.bytes);  // the DMA reads the source now, whatever it holds
    ++g_transfers_run;
  }
}
int queued_transfers() { return (int)g_queue.size(); }
int live_pinned() { return (int)g_pinned.size(); }
int pinned_frees() { return g_pinned_frees; }

}  // namespace sim::fake_device

namespace sim {
void run_queued_transfers() { fake_device::complete_transfers(); }
bool queue_transfer(void* dst, const void* src, size_t bytes) {
  namespace fd = fake_device;
  if (!fd::g_hold) return false;
  fd::g_queue.push_back({dst, src, bytes});
  ++fd::g_transfers_queued;
  return true;
}
}  // namespace sim

namespace sim::fake_device {}  // namespace sim::fake_device

namespace fd = sim::fake_device;
using fd::g_count;
using fd::g_current;
using fd::g_init_error;

cudaError_t cudaGetDeviceCount(int* count) {
  if (g_init_error != cudaSuccess) {
    *count = 0;
    sim::record_cuda_error(g_init_error);
    return g_init_error;
  }
  *count = g_count;
  return cudaSuccess;
}

// Weak: a test with its own one-device fake of these two (test/model-kernel-sim-checks.cpp) keeps it.
__attribute__((weak)) cudaError_t cudaGetDevice(int* device) {
  if (g_init_error != cudaSuccess) return g_init_error;
  *device = g_current;
  return cudaSuccess;
}

__attribute__((weak)) cudaError_t cudaSetDevice(int device) {
  if (device < 0 || device >= g_count)
    return fd::misuse("cudaSetDevice(" + std::to_string(device) + ")", cudaErrorInvalidDevice);
  g_current = device;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device < 0 || device >= g_count)
    return fd::misuse("attribute query of a device that does not exist", cudaErrorInvalidDevice);
  switch (attr) {
    case cudaDevAttrMultiProcessorCount: *value = 132; break;
    case cudaDevAttrComputeCapabilityMajor: *value = fd::g_cc_major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = fd::g_cc_minor; break;
    case cudaDevAttrMemoryPoolsSupported: *value = fd::g_pools ? 1 : 0; break;
    default: *value = 0;
  }
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device < 0 || device >= g_count)
    return fd::misuse("properties of a device that does not exist", cudaErrorInvalidDevice);
  std::memset(prop, 0, sizeof *prop);
  std::strncpy(prop->name, ("kernel-sim fake GPU " + std::to_string(device)).c_str(), sizeof prop->name - 1);
  prop->totalGlobalMem = (size_t)80 << 30;
  prop->major = fd::g_cc_major;
  prop->minor = fd::g_cc_minor;
  prop->multiProcessorCount = 132;
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int) {
  *stream = reinterpret_cast<cudaStream_t>(new char);
  fd::g_streams.insert(*stream);
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (!fd::g_streams.erase(stream))
    return fd::misuse("cudaStreamDestroy of a stream that is not live", cudaErrorInvalidResourceHandle);
  sim::blas_stream_destroyed(stream);
  delete reinterpret_cast<char*>(stream);
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = reinterpret_cast<cudaEvent_t>(new fd::Event);
  fd::g_events.insert(*event);
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int) { return cudaEventCreate(event); }

// Ready when never recorded (as the runtime says) or when the copies queued before it have run.
cudaError_t cudaEventQuery(cudaEvent_t event) {
  if (!fd::g_events.count(event))
    return fd::misuse("cudaEventQuery of an event that is not live", cudaErrorInvalidResourceHandle);
  const fd::Event* e = reinterpret_cast<const fd::Event*>(event);
  if (e->recorded && fd::g_transfers_run < e->after_transfers) {
    sim::record_cuda_error(cudaErrorNotReady);  // the real runtime does too: callers must clear it
    return cudaErrorNotReady;
  }
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!fd::g_events.count(event))
    return fd::misuse("cudaEventRecord of an event that is not live", cudaErrorInvalidResourceHandle);
  if (stream && !fd::g_streams.count(stream))
    return fd::misuse("cudaEventRecord on a stream that is not live", cudaErrorInvalidResourceHandle);
  fd::Event* e = reinterpret_cast<fd::Event*>(event);
  e->recorded = true;
  e->tick = ++fd::g_clock;
  e->after_transfers = fd::g_transfers_queued;
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!fd::g_events.count(event))
    return fd::misuse("cudaEventSynchronize of an event that is not live", cudaErrorInvalidResourceHandle);
  fd::complete_transfers();
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!fd::g_events.count(start) || !fd::g_events.count(end)) {
    return fd::misuse("cudaEventElapsedTime of an event that is not live", cudaErrorInvalidResourceHandle);
  }
  const fd::Event* a = reinterpret_cast<const fd::Event*>(start);
  const fd::Event* b = reinterpret_cast<const fd::Event*>(end);
  if (!a->recorded || !b->recorded) return cudaErrorInvalidResourceHandle;  // as the runtime answers
  *ms = (float)(b->tick - a->tick);
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  if (!fd::g_events.erase(event))
    return fd::misuse("cudaEventDestroy of an event that is not live", cudaErrorInvalidResourceHandle);
  delete reinterpret_cast<fd::Event*>(event);
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  *version = fd::g_driver_version;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int device) {
  if (device < 0 || device >= g_count || device >= 64)
    return fd::misuse("default pool of a device that does not exist", cudaErrorInvalidDevice);
  if (!fd::g_pools) return fd::misuse("default pool query on a device without memory pools", cudaErrorNotSupported);
  *pool = reinterpret_cast<cudaMemPool_t>(&fd::g_pools_token[device]);
  return cudaSuccess;
}

// The pool's device, or -1 for a handle that is no default pool.
static int pool_device(cudaMemPool_t pool) {
  for (int d = 0; d < 64; ++d)
    if (reinterpret_cast<cudaMemPool_t>(&fd::g_pools_token[d]) == pool) return d;
  return -1;
}

cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* value) {
  const int device = pool_device(pool);
  if (device < 0) return fd::misuse("cudaMemPoolSetAttribute on an unknown pool", cudaErrorInvalidValue);
  if (attr != cudaMemPoolAttrReleaseThreshold)
    return fd::misuse("cudaMemPoolSetAttribute: only the release threshold is faked", cudaErrorInvalidValue);
  fd::g_pool_thresholds[device] = *static_cast<const unsigned long long*>(value);  // a cuuint64_t
  return cudaSuccess;
}

cudaError_t cudaMemPoolTrimTo(cudaMemPool_t pool, size_t) {
  if (pool_device(pool) < 0) return fd::misuse("cudaMemPoolTrimTo on an unknown pool", cudaErrorInvalidValue);
  ++fd::g_pool_trims;
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** p, size_t bytes, unsigned int) {
  *p = std::malloc(bytes ? bytes : 1);
  fd::g_pinned[*p] = bytes;
  return cudaSuccess;
}

// Freed exactly once: a second free (or of memory cudaHostAlloc did not give) is a misuse, and so
// is freeing pinned memory a queued copy has yet to read (the DMA would read freed memory).
cudaError_t cudaFreeHost(void* p) {
  auto it = fd::g_pinned.find(p);
  if (it == fd::g_pinned.end())
    return fd::misuse("cudaFreeHost of memory that is not live pinned memory", cudaErrorInvalidValue);
  const char* begin = static_cast<const char*>(p);
  for (const fd::Transfer& t : fd::g_queue) {
    const char* src = static_cast<const char*>(t.src);
    if (src < begin + it->second && src + t.bytes > begin)
      return fd::misuse("cudaFreeHost of pinned memory that a queued copy has yet to read", cudaErrorInvalidValue);
  }
  fd::g_pinned.erase(it);
  std::free(p);
  ++fd::g_pinned_frees;
  return cudaSuccess;
}
