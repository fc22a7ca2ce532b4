// Owned allocations, counted per device and category, so that "optimizer state bytes" and peak
// memory are numbers the API reports exactly. Borrowed memory never enters this registry.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include "frugal.h"

namespace frugal {

// Allocate `bytes` on `device` (FRUGAL_CPU or a CUDA ordinal), counted under `category`.
// Throws Error(OUT_OF_MEMORY) with the size and device when the allocation fails.
void* tracked_alloc(int device, uint64_t bytes, frugal_mem_category category);
// Frees a pointer that tracked_alloc returned; throws Error(INVALID_ARGUMENT) for any other.
void tracked_free(int device, void* ptr);
bool is_tracked(int device, const void* ptr);
// Every allocation gets a serial number, never reused, so a view into it can tell whether the
// memory it points at is still that allocation (and not freed, or freed and handed out again).
// The serial of the live allocation holding [ptr, ptr + bytes), 0 if none; *base its start.
// viewable_only: only memory a caller can hold as a Tensor (categories tensor, gradients,
// activations), never the optimizer's own state or workspace buffers.
uint64_t tracked_containing(int device, const void* ptr, uint64_t bytes, const void** base, bool viewable_only = false);
// Leases the live allocation holding [ptr, ptr + bytes) for the length of one call: a free of a
// leased allocation (another thread's teardown) forgets it at once (its serial is gone) but
// releases the memory only when the last lease ends. Returns its start, or nullptr if none.
const void* tracked_lease(int device, const void* ptr, uint64_t bytes);
void tracked_unlease(int device, const void* base);
// The serial of the live allocation starting at `base`, 0 if none.
uint64_t tracked_serial(int device, const void* base);
// Bytes allocated minus bytes freed by this thread since its last call (the ledger hook): a
// binding drains it on its JS thread to tell the JS garbage collector about native memory.
int64_t take_thread_alloc_delta();
// Counts memory the library holds that tracked_alloc did not make (a math library's scratch,
// such as cuSOLVER's at an SVD refresh): +bytes when it is taken, -bytes when it is given back.
void tracked_external(int device, int64_t bytes, frugal_mem_category category);
frugal_memory_stats memory_stats(int device);
void reset_peak(int device);

// RAII holder for one tracked allocation (optimizer state, workspaces).
class Buffer {
 public:
  Buffer() {}
  Buffer(int device, uint64_t bytes, frugal_mem_category category);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& o) noexcept { swap(o); }
  Buffer& operator=(Buffer&& o) noexcept {
    reset();
    swap(o);
    return *this;
  }
  void reset();
  void* get() const { return ptr_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  uint64_t bytes() const { return bytes_; }
  explicit operator bool() const { return ptr_ != nullptr; }

 private:
  void swap(Buffer& o) {
    std::swap(ptr_, o.ptr_);
    std::swap(bytes_, o.bytes_);
    std::swap(device_, o.device_);
  }
  void* ptr_ = nullptr;
  uint64_t bytes_ = 0;
  int device_ = FRUGAL_CPU;
};

}  // namespace frugal
