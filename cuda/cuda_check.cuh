// CUDA error handling for the backend: every failing runtime call or launch becomes a thrown
// frugal::Error, out-of-memory as FRUGAL_ERR_OUT_OF_MEMORY and everything else as FRUGAL_ERR_DEVICE.
#pragma once
#include <cuda_runtime.h>
#include "core/errors.h"

namespace frugal {
namespace cuda {

// Clears the runtime's last error (non-sticky errors would otherwise resurface in the next launch
// check) and throws with `what` naming the operation that failed.
[[noreturn]] void throw_cuda_error(cudaError_t err, const char* what);

inline void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw_cuda_error(err, what);
}

// After a kernel launch: catches bad launch configurations and earlier asynchronous faults.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

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
