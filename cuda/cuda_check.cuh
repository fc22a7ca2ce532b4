// CUDA error handling for the backend: every failing runtime call or launch becomes a thrown
// frugal::Error, out-of-memory as FRUGAL_ERR_OUT_OF_MEMORY and everything else as FRUGAL_ERR_DEVICE.
//
// Attribution. Kernels run after their launch returns, so a fault (illegal address, a trap) is
// seen by whichever runtime call comes next, and it is sticky: every later call reports it. To
// keep such a fault from being reported under the next kernel's name:
//   - each backend call first peeks at the runtime's error state (check_pending): an error there
//     is reported as coming from earlier asynchronous work, before anything new is enqueued;
//   - after a launch (check_launch) a configuration error is the launch's own, and an
//     asynchronous kind of error is reported as possibly coming from earlier work;
//   - FRUGAL_SYNC_LAUNCHES=1 synchronizes the device after every launch and checks, so a fault is
//     reported at the launch that was last enqueued before it surfaced and that call fails (like
//     CUDA_LAUNCH_BLOCKING=1, for debugging: it serializes the host with the GPU). The wait covers
//     every stream of the device, so with several streams busy the fault may be another stream's:
//     the message says so.
#pragma once
#include <cuda_runtime.h>
#include <cstdlib>
#include <cstring>
#include <string>
#include "core/errors.h"

namespace frugal {
namespace cuda {

// Clears the runtime's last error (non-sticky errors would otherwise resurface in the next launch
// check) and throws with `what` naming the operation that failed. An asynchronous kind of error
// (is_async_error) is said to possibly come from earlier asynchronous work. Defined in
// cuda_backend.cu (and by the kernel simulator's glue); everything else here is inline, so the
// simulator's build of the kernel files needs nothing more.
[[noreturn]] void throw_cuda_error(cudaError_t err, const char* what);

// Errors a kernel or copy raises while it runs (rather than a call refusing its arguments): they
// surface at whichever runtime call comes next, and most are sticky.
inline bool is_async_error(cudaError_t err) {
  switch (err) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorLaunchTimeout:
    case cudaErrorMisalignedAddress:
    case cudaErrorIllegalInstruction:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorHardwareStackError:
    case cudaErrorAssert:
    case cudaErrorECCUncorrectable: return true;
    default: return false;
  }
}

// FRUGAL_SYNC_LAUNCHES=1 (read once per process; anything else, or unset, is off).
inline bool sync_launches() {
  static const bool on = [] {
    const char* v = std::getenv("FRUGAL_SYNC_LAUNCHES");
    return v && std::strcmp(v, "1") == 0;
  }();
  return on;
}

inline void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw_cuda_error(err, what);
}

// Before enqueuing work: an error already pending belongs to earlier asynchronous work, not to
// `what`.
inline void check_pending(const char* what) {
  const cudaError_t err = cudaPeekAtLastError();
  if (err != cudaSuccess)
    throw_cuda_error(
        err, (std::string("earlier asynchronous work (the error was pending before ") + what + " enqueued anything)")
                 .c_str());
}

// After a kernel launch: catches bad launch configurations (the launch's own) and asynchronous
// faults (possibly earlier work's); with FRUGAL_SYNC_LAUNCHES=1 waits for the device and reports
// a fault under the kernel's name.
inline void check_launch(const char* kernel) {
  check(cudaGetLastError(), kernel);
  if (sync_launches()) {
    const cudaError_t err = cudaDeviceSynchronize();
    if (err != cudaSuccess)
      throw_cuda_error(err, (std::string(kernel) +
                             ", or work another stream had in flight (FRUGAL_SYNC_LAUNCHES=1 waited "
                             "for the whole device after this launch, so the fault may come from any of its streams)")
                                .c_str());
  }
}

// Makes `ordinal` the calling thread's current device for a scope and restores the previous one,
// so a caller that shares the thread with another runtime keeps its own current device.
class DeviceGuard {
 public:
  explicit DeviceGuard(int ordinal) : ordinal_(ordinal) {
    if (cudaGetDevice(&previous_) != cudaSuccess) {
      cudaGetLastError();
      previous_ = -1;
    }
    if (previous_ != ordinal_) check(cudaSetDevice(ordinal_), "cudaSetDevice");
  }
  ~DeviceGuard() {
    // A destructor must not throw: a failed restore is cleared and otherwise ignored.
    if (previous_ >= 0 && previous_ != ordinal_ && cudaSetDevice(previous_) != cudaSuccess) cudaGetLastError();
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int ordinal_;
  int previous_ = -1;
};

}  // namespace cuda
}  // namespace frugal
