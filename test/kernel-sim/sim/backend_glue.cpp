// What cuda/cuda_backend.cu provides to the kernel sources: the error path of cuda_check.cuh,
// with the same behaviour, for builds that do not include cuda_backend.cu (the model kernels').
#include <string>
#include "core/errors.h"
#include "cuda_check.cuh"

namespace frugal {
namespace cuda {

// Weak: where cuda_backend.cu itself is built (kernel-sim's host-glue checks), its definition wins.
[[noreturn]] __attribute__((weak)) void throw_cuda_error(cudaError_t err, const char* what) {
  cudaGetLastError();
  const frugal_status status = err == cudaErrorMemoryAllocation ? FRUGAL_ERR_OUT_OF_MEMORY : FRUGAL_ERR_DEVICE;
  fail(status,
       std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err) + " (" + cudaGetErrorName(err) + ")");
}

}  // namespace cuda
}  // namespace frugal
