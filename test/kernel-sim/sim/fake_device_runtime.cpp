// Device discovery, device switching, streams and events of the CUDA runtime, faked for the
// simulator build (sim/fake_device.h): enough state to check that cuda/cuda_backend.cu asks for
// valid devices, destroys exactly the streams and events it created, records an event before
// timing it, and handles an initialization failure and an allocation failure as it claims. A misuse
// the real runtime would reject is reported (sim::report_error) and returns its error code.
#include <cstring>
#include <set>
#include <string>
#include "fake_device.h"
#include "sim_runtime.h"

namespace sim::fake_device {

int g_count = 1;
cudaError_t g_init_error = cudaSuccess;
int g_current = 0;
size_t g_alloc_limit = SIZE_MAX;
std::set<const void*> g_streams;
struct Event {
  bool recorded = false;
  long tick = 0;
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

}  // namespace sim::fake_device

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
  if (device < 0 || device >= g_count) return fd::misuse("cudaSetDevice(" + std::to_string(device) + ")", cudaErrorInvalidDevice);
  g_current = device;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device < 0 || device >= g_count) return fd::misuse("attribute query of a device that does not exist", cudaErrorInvalidDevice);
  *value = attr == cudaDevAttrMultiProcessorCount ? 132 : 0;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device < 0 || device >= g_count) return fd::misuse("properties of a device that does not exist", cudaErrorInvalidDevice);
  std::memset(prop, 0, sizeof *prop);
  std::strncpy(prop->name, ("kernel-sim fake GPU " + std::to_string(device)).c_str(), sizeof prop->name - 1);
  prop->totalGlobalMem = (size_t)80 << 30;
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = 132;
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int) {
  *stream = reinterpret_cast<cudaStream_t>(new char);
  fd::g_streams.insert(*stream);
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (!fd::g_streams.erase(stream)) return fd::misuse("cudaStreamDestroy of a stream that is not live", cudaErrorInvalidResourceHandle);
  delete reinterpret_cast<char*>(stream);
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = reinterpret_cast<cudaEvent_t>(new fd::Event);
  fd::g_events.insert(*event);
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!fd::g_events.count(event)) return fd::misuse("cudaEventRecord of an event that is not live", cudaErrorInvalidResourceHandle);
  if (stream && !fd::g_streams.count(stream)) return fd::misuse("cudaEventRecord on a stream that is not live", cudaErrorInvalidResourceHandle);
  fd::Event* e = reinterpret_cast<fd::Event*>(event);
  e->recorded = true;
  e->tick = ++fd::g_clock;
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!fd::g_events.count(event)) return fd::misuse("cudaEventSynchronize of an event that is not live", cudaErrorInvalidResourceHandle);
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
  if (!fd::g_events.erase(event)) return fd::misuse("cudaEventDestroy of an event that is not live", cudaErrorInvalidResourceHandle);
  delete reinterpret_cast<fd::Event*>(event);
  return cudaSuccess;
}
