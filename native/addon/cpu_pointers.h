// Which CPU addresses the addon lets a call read or write. On the CPU device a "device pointer"
// is a host address, and a wrong one is a wild read or write, so every addon entry point that
// takes one checks it here: it must lie inside
// - a live allocation of the core's ledger (leased for the call, so another thread's teardown
//   cannot free it while the call runs: memory.h tracked_lease), or
// - a host buffer whose address the addon handed out (hostAddress), registered until the JS
//   object owning those bytes is garbage collected.
// The optimizer's and the tensors' entry points check the spans they know (CpuSpan); the model
// ops' spans depend on their shapes, which the C API works out after its argument checks, so the
// model bindings install a KnownSpans check that the C API hands each buffer to
// (core/buffer_check.h). GPU addresses cannot be checked from the host; they pass through. The C
// API itself keeps its documented contract (an embedding program may pass any host memory it owns).
#pragma once
#include <napi.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "core/buffer_check.h"
#include "core/errors.h"
#include "core/memory.h"
#include "frugal.h"

namespace frugal_addon {

class HostRanges {
 public:
  // Registers [start, start + bytes) until `owner` (the ArrayBuffer or view) is collected.
  static void add(Napi::Env env, const Napi::Value& owner, const uint8_t* start, uint64_t bytes) {
    if (bytes == 0) return;
    {
      std::lock_guard<std::mutex> lock(mutex());
      ranges().emplace(reinterpret_cast<uintptr_t>(start), reinterpret_cast<uintptr_t>(start) + bytes);
    }
    auto* key = new std::pair<uintptr_t, uintptr_t>(reinterpret_cast<uintptr_t>(start),
                                                    reinterpret_cast<uintptr_t>(start) + bytes);
    napi_status s = napi_add_finalizer(env, owner, key, &HostRanges::forget, nullptr, nullptr);
    if (s != napi_ok) {
      forget(env, key, nullptr);
      NAPI_THROW_VOID(Napi::Error::New(env, "hostAddress: could not track the buffer's lifetime"));
    }
  }
  static bool contains(const void* ptr, uint64_t bytes) {
    const auto at = reinterpret_cast<uintptr_t>(ptr);
    std::lock_guard<std::mutex> lock(mutex());
    // Ranges may nest or repeat; any one holding the whole span will do.
    for (auto it = ranges().begin(); it != ranges().end() && it->first <= at; ++it) {
      if (at - it->first <= it->second - it->first && bytes <= it->second - at) return true;
    }
    return false;
  }

 private:
  static void forget(napi_env, void* data, void*) {
    auto* key = static_cast<std::pair<uintptr_t, uintptr_t>*>(data);
    {
      std::lock_guard<std::mutex> lock(mutex());
      auto range = ranges().equal_range(key->first);
      for (auto it = range.first; it != range.second; ++it) {
        if (it->second == key->second) {
          ranges().erase(it);
          break;
        }
      }
    }
    delete key;
  }
  static std::multimap<uintptr_t, uintptr_t>& ranges() {
    static auto* r = new std::multimap<uintptr_t, uintptr_t>();  // never destroyed: finalizers may run late
    return *r;
  }
  static std::mutex& mutex() {
    static auto* m = new std::mutex();
    return *m;
  }
};

// Whether [ptr, ptr + bytes) on the CPU lies inside memory the addon knows (see the top of this
// file); a ledger allocation holding it is leased, its start in *base (null for a host buffer).
inline bool known_cpu_span(const void* ptr, uint64_t bytes, const void** base) {
  *base = frugal::tracked_lease(FRUGAL_CPU, ptr, bytes);
  return *base || HostRanges::contains(ptr, bytes);
}

inline std::string unknown_span_message(const std::string& name, const void* ptr, uint64_t bytes) {
  std::ostringstream msg;
  msg << name << ": " << bytes << " bytes at 0x" << std::hex << reinterpret_cast<uintptr_t>(ptr)
      << " are not inside memory frugal-optim allocated on the cpu (or freed) nor inside a host buffer it was given";
  return msg.str();
}

// Holds a checked CPU span for the length of one call (see the top of this file).
class CpuSpan {
 public:
  CpuSpan(Napi::Env env, int32_t device, const void* ptr, uint64_t bytes, const std::string& name) : device_(device) {
    if (device != FRUGAL_CPU || bytes == 0) return;
    if (!known_cpu_span(ptr, bytes, &base_)) throw Napi::RangeError::New(env, unknown_span_message(name, ptr, bytes));
  }
  ~CpuSpan() {
    if (base_) frugal::tracked_unlease(device_, base_);
  }
  CpuSpan(const CpuSpan&) = delete;
  CpuSpan& operator=(const CpuSpan&) = delete;

 private:
  int32_t device_;
  const void* base_ = nullptr;
};

// The check a model binding installs for its one C call (core/buffer_check.h): every CPU span the
// C API hands it must be known memory, refused otherwise with the argument's name (an
// invalid-argument status, thrown as the call's Error); ledger allocations stay leased until the
// call returns.
class KnownSpans : public frugal::BufferCheck {
 public:
  KnownSpans() = default;
  ~KnownSpans() override {
    for (const void* base : leased_) frugal::tracked_unlease(FRUGAL_CPU, base);
  }
  KnownSpans(const KnownSpans&) = delete;
  KnownSpans& operator=(const KnownSpans&) = delete;

  void check(int device, const char* name, const void* ptr, uint64_t bytes) override {
    if (device != FRUGAL_CPU || bytes == 0) return;
    const void* base = nullptr;
    if (!known_cpu_span(ptr, bytes, &base)) frugal::invalid(unknown_span_message(name, ptr, bytes));
    if (base) leased_.push_back(base);
  }

 private:
  std::vector<const void*> leased_;
};

// count elements of a dtype in bytes; refuses a count whose byte size overflows 64 bits.
inline uint64_t span_bytes(Napi::Env env, uint64_t count, frugal_dtype dtype, const std::string& name) {
  const uint64_t size = dtype == FRUGAL_F32 || dtype == FRUGAL_I32 ? 4 : 2;
  if (count > UINT64_MAX / size)
    throw Napi::RangeError::New(env, name + ": " + std::to_string(count) + " elements overflow 64-bit bytes");
  return count * size;
}

}  // namespace frugal_addon
