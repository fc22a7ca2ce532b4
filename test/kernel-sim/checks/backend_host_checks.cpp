// cuda/cuda_backend.cu's host glue against the fake runtime of sim/fake_device_runtime.cpp:
// discovery failing softly (no device, old driver) with the reason, device info, ordinals that do
// not exist, the backend cache, allocation failure as nullptr (not an exception, error cleared),
// release never throwing, the device switch restored after each call, and streams and events
// created, used and destroyed in balance. On a GPU the same code meets the real runtime; here its
// decisions are checked one by one.
#include <cstring>
#include <string>
#include "checks.h"
#include "core/cuda_api.h"
#include "core/errors.h"
#include "fake_device.h"
#include "harness.h"

namespace ks {

namespace {

bool contains(const std::string& text, const char* needle) { return text.find(needle) != std::string::npos; }

// The message of the frugal::Error fn throws ("" if it throws none).
template <class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const frugal::Error& e) {
    return e.what();
  }
  return "";
}

void check_discovery() {
  namespace fd = sim::fake_device;
  std::string why;
  fd::configure(0, cudaErrorNoDevice);
  record(frugal::cuda_device_count(&why) == 0 && contains(why, "no CUDA-capable GPU") && cudaGetLastError() == cudaSuccess,
         "backend: no device: count 0, the reason, the error cleared", why);
  fd::configure(0, cudaErrorInsufficientDriver);
  frugal::cuda_device_count(&why);
  record(contains(why, "driver") && contains(why, "older than this build's CUDA runtime"),
         "backend: an old driver is named as the reason", why);
  record(frugal::cuda_backend(0, &why) == nullptr && contains(why, "cuda:0 does not exist"),
         "backend: no backend without a device, with the reason", why);
  record(!frugal::cuda_math_available(0), "backend: no math libraries reported without a device");

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
  record(contains(missing, "cuda:2 does not exist (2 CUDA devices)"), "backend: an ordinal past the last device is refused by name", missing);
  record(frugal::cuda_backend(-1, &why) == nullptr && contains(why, "cuda:-1 does not exist"),
         "backend: a negative ordinal is refused", why);
}

void check_backend_calls() {
  namespace fd = sim::fake_device;
  fd::configure(2);
  std::string why;
  frugal::Backend* b1 = frugal::cuda_backend(1, &why);
  record(b1 != nullptr && why.empty() && frugal::cuda_backend(1, nullptr) == b1 && std::strcmp(b1->name(), "cuda:1") == 0,
         "backend: one backend per device, cached", why);
  if (!b1) return;
  // Device 0 is current; a call on cuda:1 switches to it and back.
  cudaSetDevice(0);
  void* p = b1->alloc(256);
  record(p && sim::is_device_range(p, 256) && fd::current_device() == 0, "backend: alloc on cuda:1 restores device 0 after it");
  void* zero = b1->alloc(0);
  record(zero && zero != p, "backend: a 0-byte alloc is a distinct pointer");
  fd::set_alloc_limit(1 << 20);
  void* big = b1->alloc(2 << 20);
  fd::set_alloc_limit(SIZE_MAX);
  record(big == nullptr && cudaGetLastError() == cudaSuccess, "backend: out of memory is nullptr, with the sticky error cleared");
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
  record(contains(bad_stream, "cuda:5 does not exist"), "backend: a stream on a device that does not exist is refused", bad_stream);
  sim::drain_errors();
}

}  // namespace

void check_backend_host() {
  check_discovery();
  check_backend_calls();
  sim::fake_device::configure(1);
}

}  // namespace ks
