// Force-included (g++ -include) ahead of every translated CUDA source: turns the CUDA dialect the
// kernels use into plain C++ running on the simulator (sim_runtime.h). Only what the kernels
// need is here; anything else fails to compile, which is the point (see generate.js).
#pragma once
#include <cuda_runtime.h>
#include <math.h>
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
inline T __ldg(const T* p) { return *p; }
