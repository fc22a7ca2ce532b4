// One pool of fp32 scratch per device, shared by every optimizer on that device and by the
// model ops' CUDA launchers, so per-layer updates (one optimizer per layer) hold one layer's
// workspace, not one per layer, and the model's scratch reuses the same memory.
// - Slots: the dense projections ask for up to four fp32 buffers at a time (slot 0..3), a model
//   op for up to three (a bf16 GEMM's widened operands); each slot grows to the largest request
//   made of it on the device and is counted once in the ledger (category workspace).
// - Turns: users of one device take turns. A Lease is the pool's exclusive use for one step (or
//   one model op's call), so two optimizers stepping at the same time (stepAsync on worker
//   threads) never share a buffer; the second waits for the first. On a GPU a lease on another
//   stream than the last one first waits for the device, so kernels still reading a slot finish
//   before new ones write it; on the same stream, stream order does that.
// - Lifetime: the pool frees its buffers when the last optimizer on the device is destroyed, or
//   when release() is called (model ops alone hold no User: their slots stay until then).
#pragma once
#include <cstdint>
#include <mutex>
#include "backend.h"
#include "memory.h"

namespace frugal {

class WorkspacePool {
 public:
  static constexpr int kSlots = 4;

  // Exclusive use of a device's pool for the length of one step or model op. `holder`, when
  // given, points at the lease while it lives (the optimizer's workspace() reads it) and is
  // cleared when it ends.
  class Lease {
   public:
    Lease(int device, StreamHandle stream, Lease** holder = nullptr);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    // At least `floats` fp32 values in `slot`; valid until the lease ends or the slot is asked
    // for again with more.
    float* slot(int slot, int64_t floats);

   private:
    WorkspacePool& pool_;
    std::unique_lock<std::mutex> turn_;
    Lease** holder_;
  };

  // Frees the device's slots now (after any step holding them): the next step that needs them
  // allocates them again. Like torch.cuda.empty_cache, for a caller that wants the memory back
  // while optimizers live (and for tests that measure against a baseline).
  static void release(int device);

  // Held by each optimizer: the pool lives (its buffers are kept) while a user does.
  class User {
   public:
    explicit User(int device);
    ~User();
    User(const User&) = delete;
    User& operator=(const User&) = delete;

   private:
    int device_;
  };

 private:
  explicit WorkspacePool(int device) : device_(device) {}
  static WorkspacePool& of(int device);

  const int device_;
  std::mutex turn_;         // held by the one Lease at a time
  std::mutex users_mutex_;  // guards users_ and, at zero users, the slots
  int64_t users_ = 0;
  Buffer slots_[kSlots];                // touched only under turn_ (or with no users)
  StreamHandle last_stream_ = nullptr;  // stream of the last lease (GPU ordering)
  bool used_ = false;
};

}  // namespace frugal
