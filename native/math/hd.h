// Portability macro for the shared math: the same inline function compiles for the host (CPU
// backend) and the device (CUDA kernels), so the CPU tests exercise the GPU's arithmetic.
#pragma once
#if defined(__CUDACC__)
#define FRUGAL_HD __host__ __device__ __forceinline__
#else
#define FRUGAL_HD inline
#endif
#include <stdint.h>
