// Force-included (g++ -include) ahead of every translated CUDA source: turns the CUDA dialect the
// kernels use into plain C++ running on the simulator (sim_runtime.h). Only what the kernels
// need is here; anything else fails to compile, which is the point (see generate.js).
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <string.h>
#include <type_traits>
#include "sim_runtime.h"

// With g++, cuda_runtime.h defines these as annotations g++ ignores; a __shared__ variable would
// then silently become one copy per thread. Kernels are host functions here.
#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __noinline__
#undef __launch_bounds__
#undef __shared__
#undef __constant__
#undef __managed__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
// The generator rewrites every __shared__ declaration; one that slipped through must not compile.
#define __shared__ kernel_sim_error_untranslated_shared_declaration
#define __constant__ kernel_sim_error_constant_memory_is_not_simulated
#define __managed__ kernel_sim_error_managed_memory_is_not_simulated

#define threadIdx (static_cast<const uint3&>(::sim::g_threadIdx))
#define blockIdx (static_cast<const uint3&>(::sim::g_blockIdx))
#define blockDim (static_cast<const dim3&>(::sim::g_blockDim))
#define gridDim (static_cast<const dim3&>(::sim::g_gridDim))
#define __syncthreads() ::sim::syncthreads(__FILE__, __LINE__)

// Read-only cache load: a plain load.
template <class T>
inline T __ldg(const T* p) {
  return *p;
}

constexpr int warpSize = 32;

// Warp intrinsics: macros, so the simulator's reports name the kernel's file and line. Each lane
// stops at the intrinsic until every lane of its mask has arrived (sim/scheduler.cpp).
namespace sim {
template <class T>
inline T shuffle(WarpOp op, const char* file, int line, unsigned mask, T var, int arg, int width = 32) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "the simulator shuffles values of up to 8 bytes");
  uint64_t bits = 0;
  memcpy(&bits, &var, sizeof(T));
  bits = warp_op(op, mask, bits, arg, width, 0, file, line);
  T out;
  memcpy(&out, &bits, sizeof(T));
  return out;
}
inline unsigned vote(WarpOp op, const char* file, int line, unsigned mask, int pred) {
  return (unsigned)warp_op(op, mask, 0, 0, 32, pred != 0, file, line);
}
inline void syncwarp(const char* file, int line, unsigned mask = 0xffffffffu) {
  warp_op(WarpOp::SyncWarp, mask, 0, 0, 32, 0, file, line);
}
}  // namespace sim
#define __shfl_sync(...) ::sim::shuffle(::sim::WarpOp::Shfl, __FILE__, __LINE__, __VA_ARGS__)
#define __shfl_up_sync(...) ::sim::shuffle(::sim::WarpOp::ShflUp, __FILE__, __LINE__, __VA_ARGS__)
#define __shfl_down_sync(...) ::sim::shuffle(::sim::WarpOp::ShflDown, __FILE__, __LINE__, __VA_ARGS__)
#define __shfl_xor_sync(...) ::sim::shuffle(::sim::WarpOp::ShflXor, __FILE__, __LINE__, __VA_ARGS__)
#define __ballot_sync(mask, pred) ::sim::vote(::sim::WarpOp::Ballot, __FILE__, __LINE__, mask, pred)
#define __any_sync(mask, pred) ((int)::sim::vote(::sim::WarpOp::Any, __FILE__, __LINE__, mask, pred))
#define __all_sync(mask, pred) ((int)::sim::vote(::sim::WarpOp::All, __FILE__, __LINE__, mask, pred))
#define __syncwarp(...) ::sim::syncwarp(__FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__)

// Memory fences order a thread's own accesses as other threads see them. Threads here run one at a
// time on one OS thread and memory is sequentially consistent, so a fence has nothing to do; what
// fences cannot fix (two threads writing one address unordered) the race detector reports.
inline void __threadfence() {}
inline void __threadfence_block() {}
inline void __threadfence_system() {}

// Atomics (sim/atomics.cpp): the overloads CUDA has, no others, so code that would not compile
// with nvcc does not compile here either. Each is indivisible (threads never interleave inside
// one) and is not recorded by the race detector; its address must be device or shared memory.
#define KERNEL_SIM_ATOMIC(name, T) T name(T* address, T val);
#define KERNEL_SIM_ATOMIC_INTS(name) \
  KERNEL_SIM_ATOMIC(name, int) KERNEL_SIM_ATOMIC(name, unsigned) KERNEL_SIM_ATOMIC(name, unsigned long long)
KERNEL_SIM_ATOMIC_INTS(atomicAdd)
KERNEL_SIM_ATOMIC(atomicAdd, float)
KERNEL_SIM_ATOMIC(atomicAdd, double)
KERNEL_SIM_ATOMIC(atomicSub, int)
KERNEL_SIM_ATOMIC(atomicSub, unsigned)
KERNEL_SIM_ATOMIC_INTS(atomicExch)
KERNEL_SIM_ATOMIC(atomicExch, float)
KERNEL_SIM_ATOMIC_INTS(atomicMax)
KERNEL_SIM_ATOMIC(atomicMax, long long)
KERNEL_SIM_ATOMIC_INTS(atomicMin)
KERNEL_SIM_ATOMIC(atomicMin, long long)
KERNEL_SIM_ATOMIC_INTS(atomicAnd)
KERNEL_SIM_ATOMIC_INTS(atomicOr)
KERNEL_SIM_ATOMIC_INTS(atomicXor)
#undef KERNEL_SIM_ATOMIC_INTS
#undef KERNEL_SIM_ATOMIC
unsigned atomicInc(unsigned* address, unsigned val);
unsigned atomicDec(unsigned* address, unsigned val);
int atomicCAS(int* address, int compare, int val);
unsigned atomicCAS(unsigned* address, unsigned compare, unsigned val);
unsigned long long atomicCAS(unsigned long long* address, unsigned long long compare, unsigned long long val);
unsigned short atomicCAS(unsigned short* address, unsigned short compare, unsigned short val);

// Bit casts of the device math library (the __CUDA_ARCH__ branches of native/math use them).
inline unsigned __float_as_uint(float x) {
  unsigned u;
  memcpy(&u, &x, 4);
  return u;
}
inline float __uint_as_float(unsigned u) {
  float x;
  memcpy(&x, &u, 4);
  return x;
}
inline int __float_as_int(float x) {
  int u;
  memcpy(&u, &x, 4);
  return u;
}
inline float __int_as_float(int u) {
  float x;
  memcpy(&x, &u, 4);
  return x;
}
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
