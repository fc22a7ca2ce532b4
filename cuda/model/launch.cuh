// Shared pieces of the model-op launchers: the device and stream a call runs on, grid sizes,
// and a block-wide sum / max. Reductions run in a fixed order for a given launch shape, so
// results are deterministic on a device.
#pragma once
#include <cuda_runtime.h>
#include <cstdint>
#include "../cuda_check.cuh"

namespace frugal {
namespace model {
namespace cuda_ops {

constexpr int kThreads = 256;

// Makes `device` current for the call's scope (restoring the caller's device after).
struct Launch {
  cuda::DeviceGuard guard;
  cudaStream_t stream;
  // An error already pending is earlier asynchronous work's, not this op's (cuda_check.cuh).
  Launch(int device, void* s) : guard(device), stream(static_cast<cudaStream_t>(s)) {
    cuda::check_pending("a model op");
  }
};

// Blocks for a grid-stride loop over n items: enough to fill a large GPU, no more than needed.
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks > 65535LL * 8) blocks = 65535LL * 8;
  return (unsigned)(blocks < 1 ? 1 : blocks);
}

// Row-per-block kernels use a grid-stride loop over rows with at most this many blocks.
inline unsigned row_grid(int64_t rows) { return (unsigned)(rows < 65535 ? (rows < 1 ? 1 : rows) : 65535); }

// Sum (or max) of every thread's v through a shared-memory tree, with a barrier at every level
// (no warp-synchronous code, so the kernel simulator of test/kernel-sim can run these kernels).
// `scratch` holds blockDim.x floats; blockDim.x must be a power of two. All threads get the result;
// ends with a barrier, so scratch can be reused.
template <bool kMax>
__device__ float block_reduce(float v, float* scratch) {
  const unsigned t = threadIdx.x;
  scratch[t] = v;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (t < s) scratch[t] = kMax ? fmaxf(scratch[t], scratch[t + s]) : scratch[t] + scratch[t + s];
    __syncthreads();
  }
  const float r = scratch[0];
  __syncthreads();
  return r;
}
__device__ __forceinline__ float block_sum(float v, float* scratch) { return block_reduce<false>(v, scratch); }
__device__ __forceinline__ float block_max(float v, float* scratch) { return block_reduce<true>(v, scratch); }

}  // namespace cuda_ops
}  // namespace model
}  // namespace frugal
