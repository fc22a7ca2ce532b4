// What every launcher needs to know about where it runs, how big a grid-stride grid should be,
// and short-lived device scratch memory that is ordered on the stream (no host sync).
#pragma once
#include <cuda_runtime.h>
#include <cstddef>
#include <cstdint>
#include "cuda_check.cuh"

namespace frugal {
namespace cuda {

struct DeviceEnv {
  int ordinal;
  int sm_count;
  cudaStream_t stream;
};

constexpr int kBlock = 256;      // threads per block for the streaming kernels
constexpr int kBlocksPerSm = 8;  // 8 x 256 = 2048 resident threads: a full SM on sm_80 / sm_90

// Blocks for a grid-stride loop over `items` work items, `per_block` per block and pass: enough
// to fill every SM, never more than the work needs.
inline int grid_blocks(const DeviceEnv& env, int64_t items, int64_t per_block = kBlock) {
  int64_t need = (items + per_block - 1) / per_block;
  int64_t cap = (int64_t)env.sm_count * kBlocksPerSm;
  if (need > cap) need = cap;
  return need < 1 ? 1 : (int)need;
}

inline size_t align_up(size_t bytes, size_t alignment = 256) { return (bytes + alignment - 1) / alignment * alignment; }

// Device memory for the duration of one backend call, allocated and freed in stream order
// (cudaMallocAsync), so the call stays asynchronous and capturable in a CUDA graph. Devices
// without memory pools fall back to cudaMalloc, with a stream sync before the free.
class StreamScratch {
 public:
  StreamScratch(size_t bytes, cudaStream_t stream) : stream_(stream) {
    if (bytes == 0) return;
    cudaError_t err = cudaMallocAsync(&ptr_, bytes, stream);
    if (err == cudaErrorNotSupported) {
      cudaGetLastError();
      pooled_ = false;
      err = cudaMalloc(&ptr_, bytes);
    }
    if (err != cudaSuccess) {
      ptr_ = nullptr;
      throw_cuda_error(err, "scratch allocation");
    }
  }
  ~StreamScratch() {
    if (!ptr_) return;
    // Destructors must not throw: failures here are cleared; the next checked call reports a
    // sticky fault if there is one.
    cudaError_t err = pooled_ ? cudaFreeAsync(ptr_, stream_)
                              : (cudaStreamSynchronize(stream_) == cudaSuccess ? cudaFree(ptr_) : cudaErrorUnknown);
    if (err != cudaSuccess) cudaGetLastError();
  }
  StreamScratch(const StreamScratch&) = delete;
  StreamScratch& operator=(const StreamScratch&) = delete;

  template <typename T>
  T* at(size_t byte_offset) const {
    return reinterpret_cast<T*>(static_cast<char*>(ptr_) + byte_offset);
  }

 private:
  cudaStream_t stream_;
  void* ptr_ = nullptr;
  bool pooled_ = true;
};

}  // namespace cuda
}  // namespace frugal
