// Deliberately defective kernels, translated and simulated exactly like cuda/, so the self-check
// can show that each of the simulator's detectors fires (see self_checks.cpp); and one correct
// kernel that uses every warp intrinsic and atomic kind the simulator models, checked against a
// host reference.
#include <climits>
#include "self_test_kernels.h"

namespace selftest {
namespace {

constexpr unsigned kFull = 0xffffffffu;

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

// A correct reduction as fast GPU code writes it: warp shuffles within a warp, one partial per warp
// in dynamic shared memory, the first warp reduces the partials, one atomic per block combines the
// blocks. Along the way: an inclusive warp scan (__shfl_up_sync), a max (__shfl_xor_sync and
// atomicMax), a count of positive elements (__ballot_sync), and of warps whose lanes are all in
// range / have a positive element (__all_sync / __any_sync).
__global__ void warp_reduce_kernel(const int* in, int n, WarpReduceOut* out) {
  extern __shared__ int warp_sums[];  // one per warp
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const int lane = threadIdx.x % warpSize, warp = threadIdx.x / warpSize;
  const int v = i < n ? in[i] : 0;

  int scan = v;
  for (int d = 1; d < warpSize; d <<= 1) {
    const int up = __shfl_up_sync(kFull, scan, d);
    if (lane >= d) scan += up;
  }
  if (i < n) out->scan[i] = scan;

  int sum = v;
  for (int offset = warpSize / 2; offset > 0; offset >>= 1) sum += __shfl_down_sync(kFull, sum, offset);
  int best = i < n ? v : INT_MIN;
  for (int offset = warpSize / 2; offset > 0; offset >>= 1) {
    const int other = __shfl_xor_sync(kFull, best, offset);
    best = other > best ? other : best;
  }
  const unsigned positive = __ballot_sync(kFull, i < n && v > 0);
  const int all_in_range = __all_sync(kFull, i < n);
  const int any_positive = __any_sync(kFull, i < n && v > 0);
  if (lane == 0) {
    warp_sums[warp] = sum;
    atomicAdd(&out->positives, (unsigned)__popc(positive));
    atomicMax(&out->max, best);
    atomicMin(&out->min_lane0, v);
    atomicAdd(&out->fsum, (float)sum);
    atomicAdd(&out->dsum, (double)sum);
    if (all_in_range) atomicAdd(&out->full_warps, 1);
    if (any_positive) atomicAdd(&out->warps_with_positive, 1u);
    atomicExch(&out->last_block, (int)blockIdx.x);
  }
  __syncthreads();
  if (warp == 0) {
    const int warps = blockDim.x / warpSize;
    int total = lane < warps ? warp_sums[lane] : 0;
    for (int offset = warpSize / 2; offset > 0; offset >>= 1) total += __shfl_down_sync(kFull, total, offset);
    if (lane == 0) {
      atomicAdd(&out->sum, total);
      // A spin-free claim: the first block to get here sets the flag from 0 to its index + 1.
      atomicCAS(&out->first_block, 0, (int)blockIdx.x + 1);
    }
  }
  __syncwarp();
  __threadfence();
}

// Planted lost update: every thread of every block does a non-atomic read-modify-write of one
// global counter. Simulated one thread at a time it even gives the right total; on a GPU updates
// are lost. The race detector must report it.
__global__ void lost_update_kernel(int* total, const int* in, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) *total += in[i];
}

// The same with atomicAdd: correct, and the detector must stay quiet.
__global__ void atomic_update_kernel(int* total, const int* in, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) atomicAdd(total, in[i]);
}

// A shared-memory lost update inside one block (the counter is reset and read behind barriers,
// but the increments between them are unordered).
__global__ void shared_lost_update_kernel(int* out) {
  __shared__ int counter;
  if (threadIdx.x == 0) counter = 0;
  __syncthreads();
  counter += 1;
  __syncthreads();
  if (threadIdx.x == 0) *out = counter;
}

// Lanes pass values through shared memory; with __syncwarp between write and read this is
// correct (no report), without it a race.
__global__ void warp_handoff_kernel(int* out, int synced) {
  __shared__ int slot[64];
  const int lane = threadIdx.x % 32, warp_base = threadIdx.x - lane;
  slot[threadIdx.x] = (int)threadIdx.x * 3;
  if (synced) __syncwarp();
  out[threadIdx.x] = slot[warp_base + (lane + 1) % 32];
}

// Planted divergent shuffle: the mask names the whole warp, but only lanes 0..15 take the branch
// (lanes 16..31 return): on a GPU the result is undefined (or a hang).
__global__ void divergent_shuffle_kernel(int* out) {
  int v = (int)threadIdx.x;
  if (threadIdx.x % 32 < 16) v = __shfl_down_sync(kFull, v, 1);
  out[threadIdx.x] = v;
}

// The same mistake against a barrier: lanes named in the mask wait at __syncthreads instead.
__global__ void shuffle_against_barrier_kernel(int* out) {
  int v = (int)threadIdx.x;
  if (threadIdx.x % 2 == 0) {
    v = __shfl_xor_sync(kFull, v, 1);
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = v;
}

// Correct use of a partial mask: only the lower half-warp shuffles, and its mask says so.
__global__ void half_warp_shuffle_kernel(int* out) {
  int v = (int)threadIdx.x;
  if (threadIdx.x % 32 < 16) v = __shfl_down_sync(0x0000ffffu, v, 1, 16);
  out[threadIdx.x] = v;
}

}  // namespace

void missing_barrier(float* out) { missing_barrier_kernel<<<1, 64>>>(out); }
void divergent_barrier(float* out) { divergent_barrier_kernel<<<1, 64>>>(out); }
void bounded(float* out, int threads) { bounded_kernel<<<1, threads>>>(out); }
void warp_reduce(const int* in, int n, WarpReduceOut* out, int threads) {
  const int blocks = (n + threads - 1) / threads;
  warp_reduce_kernel<<<blocks, threads, (threads / 32) * sizeof(int)>>>(in, n, out);
}
void lost_update(int* total, const int* in, int n) { lost_update_kernel<<<(n + 127) / 128, 128>>>(total, in, n); }
void atomic_update(int* total, const int* in, int n) { atomic_update_kernel<<<(n + 127) / 128, 128>>>(total, in, n); }
void shared_lost_update(int* out) { shared_lost_update_kernel<<<1, 96>>>(out); }
void warp_handoff(int* out, bool synced) { warp_handoff_kernel<<<1, 64>>>(out, synced ? 1 : 0); }
void divergent_shuffle(int* out) { divergent_shuffle_kernel<<<2, 64>>>(out); }
void shuffle_against_barrier(int* out) { shuffle_against_barrier_kernel<<<1, 64>>>(out); }
void half_warp_shuffle(int* out) { half_warp_shuffle_kernel<<<1, 64>>>(out); }

}  // namespace selftest
