// What cuda/cuda_backend.cu (host glue, not simulated: streams, devices, the Backend class)
// provides to the kernel sources: the error path of cuda_check.cuh, with the same behaviour.
#include <string>
#include "core/errors.h"
#include "cuda_check.cuh"

namespace frugal {
namespace cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* what) {
  cudaGetLastError();
  const frugal_status status = err == cudaErrorMemoryAllocation ? FRUGAL_ERR_OUT_OF_MEMORY : FRUGAL_ERR_DEVICE;
  fail(status, std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err) + " (" + cudaGetErrorName(err) +
                   ")");
}

}  // namespace cuda
}  // namespace frugal
