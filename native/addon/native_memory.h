// What the addon does about native memory on behalf of the JS runtime that called it:
// - reports it to the garbage collector (napi_adjust_external_memory), since a Tensor object is a
//   few hundred bytes of JS heap holding megabytes of native memory: without the report, a loop
//   that drops tensors unreferenced never makes the GC run and the process runs out of memory.
//   Every owned allocation, tensor or optimizer state or workspace, host or device, passes through
//   the core's ledger, whose per-thread hook (take_thread_alloc_delta) is drained here after each
//   call, on the JS thread that made it.
// - frees, when a JS environment (a worker thread) is torn down, the allocations its alloc() made
//   that were never freed: its Tensors' finalizers will not run any more.
#pragma once
#include <napi.h>

#include <cstdint>
#include <unordered_map>

#include "core/memory.h"
#include "frugal.h"

namespace frugal_addon {

inline void report_native_memory(Napi::Env env) {
  // Never reports a negative total: memory allocated on another thread may be freed on this one.
  static thread_local int64_t reported = 0;
  int64_t delta = frugal::take_thread_alloc_delta();
  if (delta == 0) return;
  int64_t next = reported + delta < 0 ? 0 : reported + delta;
  int64_t change = next - reported;
  reported = next;
  if (change != 0) Napi::MemoryManagement::AdjustExternalMemory(env, change);
}

// The allocations one JS environment's alloc() made and has not freed, freed with it.
class EnvAllocations {
 public:
  ~EnvAllocations() {
    for (const auto& [ptr, device] : live_) frugal_free(device, ptr);
  }
  void add(void* ptr, int32_t device) { live_[ptr] = device; }
  void remove(void* ptr) { live_.erase(ptr); }

  static EnvAllocations& of(Napi::Env env) {
    auto* a = env.GetInstanceData<EnvAllocations>();
    if (!a) {
      a = new EnvAllocations();
      env.SetInstanceData(a);  // deleted (and so drained) when the environment is torn down
    }
    return *a;
  }

 private:
  std::unordered_map<void*, int32_t> live_;
};

}  // namespace frugal_addon
