#include "workspace_pool.h"
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include "devices.h"
#include "errors.h"

namespace frugal {

WorkspacePool& WorkspacePool::of(int device) {
  // Never destroyed: optimizers (and their Users) may outlive static destruction order.
  static auto* mutex = new std::mutex();
  static auto* pools = new std::map<int, std::unique_ptr<WorkspacePool>>();
  std::lock_guard<std::mutex> lock(*mutex);
  auto& pool = (*pools)[device];
  if (!pool) pool.reset(new WorkspacePool(device));
  return *pool;
}

WorkspacePool::User::User(int device) : device_(device) {
  WorkspacePool& pool = of(device);
  std::lock_guard<std::mutex> lock(pool.users_mutex_);
  pool.users_++;
}

WorkspacePool::User::~User() {
  WorkspacePool& pool = of(device_);
  std::lock_guard<std::mutex> lock(pool.users_mutex_);
  // The last user is gone, so no lease can be held: the slots are free to go.
  if (--pool.users_ == 0) {
    for (Buffer& b : pool.slots_) b.reset();
    pool.used_ = false;
  }
}

void WorkspacePool::release(int device) {
  WorkspacePool& pool = of(device);
  std::lock_guard<std::mutex> turn(pool.turn_);
  for (Buffer& b : pool.slots_) b.reset();
  pool.used_ = false;
}

WorkspacePool::Lease::Lease(int device, StreamHandle stream, Lease** holder)
    : pool_(of(device)), turn_(pool_.turn_), holder_(holder) {
  Backend* backend = backend_for(device);
  // Kernels of the last lease may still run on its stream (which may be gone by now): the device
  // finishes them before this stream's kernels reuse the slots.
  if (backend->is_cuda() && pool_.used_ && pool_.last_stream_ != stream) backend->synchronize_device();
  pool_.last_stream_ = stream;
  pool_.used_ = true;
  if (holder_) *holder_ = this;
}

WorkspacePool::Lease::~Lease() {
  if (holder_) *holder_ = nullptr;
}

float* WorkspacePool::Lease::slot(int slot, int64_t floats) {
  if (slot < 0 || slot >= kSlots) fail(FRUGAL_ERR_STATE, "internal error: workspace slot " + std::to_string(slot));
  Buffer& b = pool_.slots_[slot];
  const uint64_t need = (uint64_t)std::max<int64_t>(floats, 1) * 4;
  if (b.bytes() < need) {
    b.reset();  // before the larger one: the two never coexist
    b = Buffer(pool_.device_, need, FRUGAL_MEM_WORKSPACE);
  }
  return b.as<float>();
}

}  // namespace frugal
