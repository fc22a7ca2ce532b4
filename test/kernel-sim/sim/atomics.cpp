// The atomics of sim_cuda.h. Threads are fibers of one OS thread and never switch inside a call,
// so each operation is indivisible by construction; this file only checks that the address is
// memory other threads can see (device or shared memory) and applies CUDA's definition of each.
// Compiled without the race detector's callbacks: atomics never race with each other.
#include <algorithm>
#include <cuda_runtime.h>
#include <string>
#include "race_detector.h"
#include "sim_runtime.h"

namespace {

template <class T>
bool visible(const T* p, const char* op) {
  if (sim::is_device_range(p, sizeof(T)) || sim::race::is_shared_address(p)) return true;
  sim::report_error(std::string(op) + " on an address that is neither device nor shared memory");
  return false;
}

// Applies new_value(old) at p and returns old, as every CUDA atomic does.
template <class T, class F>
T apply(T* p, const char* op, F new_value) {
  if (!visible(p, op)) return T{};
  const T old = *p;
  *p = new_value(old);
  return old;
}

}  // namespace

#define KERNEL_SIM_ATOMIC(name, T, expr)                            \
  T name(T* address, T val) {                                       \
    return apply(address, #name, [&](T old) { return (T)(expr); }); \
  }
#define KERNEL_SIM_ATOMIC_INTS(name, expr) \
  KERNEL_SIM_ATOMIC(name, int, expr)       \
  KERNEL_SIM_ATOMIC(name, unsigned, expr)  \
  KERNEL_SIM_ATOMIC(name, unsigned long long, expr)
// Integer add wraps (computed unsigned, as the hardware does, without signed-overflow UB).
KERNEL_SIM_ATOMIC(atomicAdd, int, (unsigned)old + (unsigned)val)
KERNEL_SIM_ATOMIC(atomicAdd, unsigned, old + val)
KERNEL_SIM_ATOMIC(atomicAdd, unsigned long long, old + val)
KERNEL_SIM_ATOMIC(atomicAdd, float, old + val)
KERNEL_SIM_ATOMIC(atomicAdd, double, old + val)
KERNEL_SIM_ATOMIC(atomicSub, int, (unsigned)old - (unsigned)val)
KERNEL_SIM_ATOMIC(atomicSub, unsigned, old - val)
KERNEL_SIM_ATOMIC_INTS(atomicExch, val)
KERNEL_SIM_ATOMIC(atomicExch, float, val)
KERNEL_SIM_ATOMIC_INTS(atomicMax, std::max(old, val))
KERNEL_SIM_ATOMIC(atomicMax, long long, std::max(old, val))
KERNEL_SIM_ATOMIC_INTS(atomicMin, std::min(old, val))
KERNEL_SIM_ATOMIC(atomicMin, long long, std::min(old, val))
KERNEL_SIM_ATOMIC_INTS(atomicAnd, old& val)
KERNEL_SIM_ATOMIC_INTS(atomicOr, old | val)
KERNEL_SIM_ATOMIC_INTS(atomicXor, old ^ val)
// CUDA's definitions: inc wraps to 0 past val, dec wraps to val at 0 or above val.
KERNEL_SIM_ATOMIC(atomicInc, unsigned, old >= val ? 0u : old + 1)
KERNEL_SIM_ATOMIC(atomicDec, unsigned, (old == 0 || old > val) ? val : old - 1)
#undef KERNEL_SIM_ATOMIC_INTS
#undef KERNEL_SIM_ATOMIC

#define KERNEL_SIM_CAS(T)                                                                  \
  T atomicCAS(T* address, T compare, T val) {                                              \
    return apply(address, "atomicCAS", [&](T old) { return old == compare ? val : old; }); \
  }
KERNEL_SIM_CAS(int)
KERNEL_SIM_CAS(unsigned)
KERNEL_SIM_CAS(unsigned long long)
KERNEL_SIM_CAS(unsigned short)
#undef KERNEL_SIM_CAS
