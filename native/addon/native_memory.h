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
#include <mutex>
#include <unordered_map>

#include "core/memory.h"
#include "frugal.h"

namespace frugal_addon {

// `elsewhere`: what a call this thread made on its behalf (a stepAsync on libuv's pool) drained there.
inline void report_native_memory(Napi::Env env, int64_t elsewhere = 0) {
  // Never reports a negative total: memory allocated on another thread may be freed on this one.
  static thread_local int64_t reported = 0;
  int64_t delta = frugal::take_thread_alloc_delta() + elsewhere;
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

  // One per environment (each jest module registry or worker loads the addon into its own),
  // deleted, and so drained, by the environment's cleanup hook when it is torn down.
  static EnvAllocations& of(Napi::Env env) {
    std::lock_guard<std::mutex> lock(registry_mutex());
    auto& slot = registry()[(napi_env)env];
    if (!slot) {
      slot = new EnvAllocations();
      napi_env raw = env;
      napi_add_env_cleanup_hook(raw, &EnvAllocations::teardown, raw);
    }
    return *slot;
  }

 private:
  static void teardown(void* arg) {
    EnvAllocations* a = nullptr;
    {
      std::lock_guard<std::mutex> lock(registry_mutex());
      auto it = registry().find(static_cast<napi_env>(arg));
      if (it == registry().end()) return;
      a = it->second;
      registry().erase(it);
    }
    delete a;
  }
  static std::unordered_map<napi_env, EnvAllocations*>& registry() {
    static auto* r = new std::unordered_map<napi_env, EnvAllocations*>();  // never destroyed: hooks may run late
    return *r;
  }
  static std::mutex& registry_mutex() {
    static auto* m = new std::mutex();
    return *m;
  }

  std::unordered_map<void*, int32_t> live_;
};

}  // namespace frugal_addon
