// Host-to-device copies whose source the caller may free as soon as the call returns.
//
// cudaMemcpyAsync from pageable memory is only documented to have read the source by the time it
// returns on some platforms; the core hands the backend short-lived host vectors (index lists,
// masks, carried moments), so the bytes go through pinned staging buffers instead: copied there
// on the host, DMA'd on the stream, and the buffer is not reused until an event recorded after the
// DMA has completed. Copies larger than a staging buffer may grow to are synchronous (the stream
// is waited on before returning). The buffers are few, grow to the largest staged copy, and live
// as long as the backend (the process).
#pragma once
#include <cuda_runtime.h>
#include <cstring>
#include <mutex>
#include <vector>
#include "cuda_check.cuh"

namespace frugal {
namespace cuda {

class PinnedStaging {
 public:
  static constexpr size_t kMaxStagedBytes = 16u << 20;  // larger copies are synchronous
  static constexpr size_t kMaxBuffers = 4;

  void copy_to_device(void* dst, const void* src, size_t bytes, cudaStream_t stream) {
    if (bytes > kMaxStagedBytes) {
      check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream), "copy to device");
      check(cudaStreamSynchronize(stream), "copy to device (stream sync)");
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    Buffer& b = free_buffer(bytes);
    std::memcpy(b.host, src, bytes);
    check(cudaMemcpyAsync(dst, b.host, bytes, cudaMemcpyHostToDevice, stream), "copy to device");
    check(cudaEventRecord(b.done, stream), "copy to device (staging event)");
  }

 private:
  struct Buffer {
    void* host = nullptr;
    size_t capacity = 0;
    cudaEvent_t done = nullptr;
  };

  // A buffer whose last DMA has completed, holding at least `bytes`: an idle one, else a new one
  // while there are fewer than kMaxBuffers, else the next in turn once its DMA is done.
  Buffer& free_buffer(size_t bytes) {
    for (Buffer& b : buffers_) {
      if (b.capacity < bytes) continue;
      const cudaError_t state = cudaEventQuery(b.done);
      if (state == cudaSuccess) return b;
      // The runtime records "not ready" as the thread's last error too: cleared here, or the next
      // launch check would report it under an unrelated kernel's name. Any other answer is an error.
      if (state == cudaErrorNotReady)
        cudaGetLastError();
      else
        check(state, "copy to device (staging event query)");
    }
    if (buffers_.size() < kMaxBuffers) {
      buffers_.emplace_back();
      Buffer& b = buffers_.back();
      check(cudaEventCreateWithFlags(&b.done, cudaEventDisableTiming), "staging event create");
      grow(b, bytes);
      return b;
    }
    Buffer& b = buffers_[next_++ % buffers_.size()];
    check(cudaEventSynchronize(b.done), "copy to device (waiting for a staging buffer)");
    if (b.capacity < bytes) grow(b, bytes);
    return b;
  }

  // Only called on a buffer with no DMA in flight.
  static void grow(Buffer& b, size_t bytes) {
    if (b.host) check(cudaFreeHost(b.host), "staging buffer free");
    b.host = nullptr;
    b.capacity = 0;
    size_t capacity = 64u << 10;
    while (capacity < bytes) capacity *= 2;
    // Portable: usable from every device's streams, not only the current one.
    check(cudaHostAlloc(&b.host, capacity, cudaHostAllocPortable), "staging buffer (pinned host memory)");
    b.capacity = capacity;
  }

  std::mutex mutex_;
  std::vector<Buffer> buffers_;
  size_t next_ = 0;
};

}  // namespace cuda
}  // namespace frugal
