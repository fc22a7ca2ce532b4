// Deliberately defective kernels, translated and simulated exactly like cuda/, so the self-check
// can show that each of the simulator's detectors fires (see self_checks.cpp).
#include "self_test_kernels.h"

namespace selftest {
namespace {

// Reads a neighbour's shared slot with no __syncthreads() after the writes: the value depends on
// which thread ran first (and, before any write, is the poison of fresh shared memory).
__global__ void missing_barrier_kernel(float* out) {
  __shared__ float slots[64];
  slots[threadIdx.x] = (float)threadIdx.x;
  out[threadIdx.x] = slots[(threadIdx.x + 1) % 64];
}

// Only the even threads reach the barrier.
__global__ void divergent_barrier_kernel(float* out) {
  if (threadIdx.x % 2 == 0) __syncthreads();
  out[threadIdx.x] = 1.f;
}

__global__ void __launch_bounds__(64) bounded_kernel(float* out) { out[threadIdx.x] = 2.f; }

}  // namespace

void missing_barrier(float* out) { missing_barrier_kernel<<<1, 64>>>(out); }
void divergent_barrier(float* out) { divergent_barrier_kernel<<<1, 64>>>(out); }
void bounded(float* out, int threads) { bounded_kernel<<<1, threads>>>(out); }

}  // namespace selftest
