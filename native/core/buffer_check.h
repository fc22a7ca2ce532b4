// The buffers an entry point is about to read or write, shown to a check that the binding making
// the call installs for its thread. The addon installs one for the model ops: on the CPU each
// span must lie inside memory it knows (native/addon/cpu_pointers.h), as its optimizer entry
// points require. The C API itself keeps its contract (an embedding program may pass any memory
// it owns): with no check installed, check_buffer does nothing.
#pragma once
#include <cstdint>

namespace frugal {

class BufferCheck {
 public:
  virtual ~BufferCheck() = default;
  // Refuses [ptr, ptr + bytes) on `device` by throwing Error; `name` is the argument.
  virtual void check(int device, const char* name, const void* ptr, uint64_t bytes) = 0;
};

namespace detail {
inline thread_local BufferCheck* t_buffer_check = nullptr;
}

// Installs a check for the calls this thread makes while it lives (the previous one returns after).
class ScopedBufferCheck {
 public:
  explicit ScopedBufferCheck(BufferCheck* check) : previous_(detail::t_buffer_check) { detail::t_buffer_check = check; }
  ~ScopedBufferCheck() { detail::t_buffer_check = previous_; }
  ScopedBufferCheck(const ScopedBufferCheck&) = delete;
  ScopedBufferCheck& operator=(const ScopedBufferCheck&) = delete;

 private:
  BufferCheck* previous_;
};

// Hands [ptr, ptr + bytes) to this thread's check, if one is installed.
inline void check_buffer(int device, const char* name, const void* ptr, uint64_t bytes) {
  if (detail::t_buffer_check) detail::t_buffer_check->check(device, name, ptr, bytes);
}

}  // namespace frugal
