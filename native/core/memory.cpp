#include "memory.h"
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include "devices.h"
#include "errors.h"
#include "test_hooks.h"

namespace frugal {

namespace {
struct Allocation {
  uint64_t bytes;
  frugal_mem_category category;
  uint64_t serial;
  uint32_t leases = 0;
};
struct DeviceLedger {
  std::unordered_map<const void*, Allocation> live;
  // Freed while leased: out of the ledger, released by the last tracked_unlease.
  std::unordered_map<const void*, Allocation> dying;
  frugal_memory_stats stats{};
};
std::mutex g_mutex;
uint64_t g_next_serial = 1;  // under g_mutex
// Per thread, so each JS thread (main or worker) drains what its own calls allocated and freed.
thread_local int64_t t_alloc_delta = 0;
std::map<int, DeviceLedger>& ledgers() {
  static std::map<int, DeviceLedger> l;
  return l;
}
// test_hooks::fail_allocation_after: allocations left before the one that fails; -1 when disarmed.
std::atomic<int64_t> g_allocations_before_failure{-1};
}  // namespace

void test_hooks::fail_allocation_after(int64_t after) { g_allocations_before_failure.store(after < 0 ? -1 : after); }

bool test_hooks::allocation_fails_now() {
  int64_t left = g_allocations_before_failure.load();
  // Counts down to 0 (this allocation fails, the hook disarms); other threads may race us.
  while (left >= 0) {
    if (g_allocations_before_failure.compare_exchange_weak(left, left - 1)) return left == 0;
  }
  return false;
}

void* tracked_alloc(int device, uint64_t bytes, frugal_mem_category category) {
  if (category < 0 || category >= FRUGAL_MEM_CATEGORIES)
    invalid("category: expected 0..4 (tensor, optimizer state, workspace, gradients, activations), got " +
            std::to_string(category));
  Backend* b = backend_for(device);
  if (test_hooks::allocation_fails_now())
    fail(FRUGAL_ERR_OUT_OF_MEMORY, "out of memory: could not allocate " + std::to_string(bytes) + " bytes on " +
                                       device_name(device) + " (a failure injected by a test)");
  // Zero-byte tensors still get a distinct pointer, so they can be freed like any other.
  void* p = b->alloc(bytes ? bytes : 1);
  if (!p)
    fail(FRUGAL_ERR_OUT_OF_MEMORY,
         "out of memory: could not allocate " + std::to_string(bytes) + " bytes on " + device_name(device));
  std::lock_guard<std::mutex> lock(g_mutex);
  DeviceLedger& l = ledgers()[device];
  l.live[p] = Allocation{bytes, category, g_next_serial++, 0};
  l.stats.current[category] += bytes;
  l.stats.current_total += bytes;
  if (l.stats.current[category] > l.stats.peak[category]) l.stats.peak[category] = l.stats.current[category];
  if (l.stats.current_total > l.stats.peak_total) l.stats.peak_total = l.stats.current_total;
  t_alloc_delta += (int64_t)bytes;
  return p;
}

void tracked_free(int device, void* ptr) {
  Allocation a;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    DeviceLedger& l = ledgers()[device];
    auto it = l.live.find(ptr);
    if (it == l.live.end())
      invalid("ptr: not memory allocated by frugal-optim on " + device_name(device) +
              " (borrowed or already freed memory is never freed by the library)");
    a = it->second;
    l.live.erase(it);
    l.stats.current[a.category] -= a.bytes;
    l.stats.current_total -= a.bytes;
    if (a.leases > 0) {
      l.dying[ptr] = a;
      t_alloc_delta -= (int64_t)a.bytes;
      return;
    }
  }
  t_alloc_delta -= (int64_t)a.bytes;
  backend_for(device)->release(ptr);
}

const void* tracked_lease(int device, const void* ptr, uint64_t bytes) {
  const auto at = reinterpret_cast<uintptr_t>(ptr);
  std::lock_guard<std::mutex> lock(g_mutex);
  for (auto& [start, a] : ledgers()[device].live) {
    const auto b = reinterpret_cast<uintptr_t>(start);
    if (at >= b && at - b <= a.bytes && bytes <= a.bytes - (at - b)) {
      a.leases++;
      return start;
    }
  }
  return nullptr;
}

void tracked_unlease(int device, const void* base) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    DeviceLedger& l = ledgers()[device];
    auto it = l.live.find(base);
    if (it != l.live.end()) {
      if (it->second.leases > 0) it->second.leases--;
      return;
    }
    auto d = l.dying.find(base);
    if (d == l.dying.end() || --d->second.leases > 0) return;
    l.dying.erase(d);
  }
  backend_for(device)->release(const_cast<void*>(base));
}

bool is_tracked(int device, const void* ptr) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto& l = ledgers()[device];
  return l.live.count(ptr) != 0;
}

uint64_t tracked_containing(int device, const void* ptr, uint64_t bytes, const void** base, bool viewable_only) {
  const auto at = reinterpret_cast<uintptr_t>(ptr);
  std::lock_guard<std::mutex> lock(g_mutex);
  for (const auto& [start, a] : ledgers()[device].live) {
    if (viewable_only && (a.category == FRUGAL_MEM_OPTIMIZER_STATE || a.category == FRUGAL_MEM_WORKSPACE)) continue;
    const auto b = reinterpret_cast<uintptr_t>(start);
    if (at >= b && at - b <= a.bytes && bytes <= a.bytes - (at - b)) {
      if (base) *base = start;
      return a.serial;
    }
  }
  return 0;
}

uint64_t tracked_serial(int device, const void* base) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto& live = ledgers()[device].live;
  auto it = live.find(base);
  return it == live.end() ? 0 : it->second.serial;
}

int64_t take_thread_alloc_delta() {
  int64_t d = t_alloc_delta;
  t_alloc_delta = 0;
  return d;
}

void tracked_external(int device, int64_t bytes, frugal_mem_category category) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto& s = ledgers()[device].stats;
  s.current[category] += (uint64_t)bytes;  // modular: a give-back subtracts what its take added
  s.current_total += (uint64_t)bytes;
  if (s.current[category] > s.peak[category]) s.peak[category] = s.current[category];
  if (s.current_total > s.peak_total) s.peak_total = s.current_total;
}

frugal_memory_stats memory_stats(int device) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return ledgers()[device].stats;
}

void reset_peak(int device) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto& s = ledgers()[device].stats;
  for (int c = 0; c < FRUGAL_MEM_CATEGORIES; c++) s.peak[c] = s.current[c];
  s.peak_total = s.current_total;
}

Buffer::Buffer(int device, uint64_t bytes, frugal_mem_category category)
    : ptr_(tracked_alloc(device, bytes, category)), bytes_(bytes), device_(device) {}

Buffer::~Buffer() { reset(); }

void Buffer::reset() {
  if (ptr_) {
    try {
      tracked_free(device_, ptr_);
    } catch (...) {
      // A destructor must not throw; the ledger already forgot nothing it should keep.
    }
  }
  ptr_ = nullptr;
  bytes_ = 0;
}

}  // namespace frugal
