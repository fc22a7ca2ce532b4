// Launchers of the self-test kernels in self_test_kernels.cu: deliberately defective ones, and a
// correct one that uses the warp intrinsics and atomics the simulator models.
#pragma once

namespace selftest {

void missing_barrier(float* out);       // 64 threads; out: 64 floats
void divergent_barrier(float* out);     // 64 threads; out: 64 floats
void bounded(float* out, int threads);  // __launch_bounds__(64); out: `threads` floats

// What warp_reduce computes over in[0..n) (device memory, zeroed by the caller except min_lane0
// and max, which start at INT_MAX / INT_MIN).
struct WarpReduceOut {
  int sum;                       // shuffle reduction per warp and block, atomicAdd over blocks
  int max;                       // atomicMax of the warps' __shfl_xor_sync maxima
  int min_lane0;                 // atomicMin over every warp's lane 0 value
  unsigned positives;            // elements > 0 (__ballot_sync + __popc)
  int full_warps;                // warps with all 32 lanes in range (__all_sync)
  unsigned warps_with_positive;  // warps with an element > 0 (__any_sync)
  float fsum;                    // atomicAdd on float of the warp sums (exact for small ints)
  double dsum;                   // the same on double
  int last_block;                // atomicExch: some block index
  int first_block;               // atomicCAS 0 -> block + 1, once
  int scan[4096];                // inclusive scan within each warp (__shfl_up_sync)
};
void warp_reduce(const int* in, int n, WarpReduceOut* out, int threads);  // n <= 4096

void lost_update(int* total, const int* in, int n);    // planted global race
void atomic_update(int* total, const int* in, int n);  // the same, correct
void shared_lost_update(int* out);                     // planted shared-memory race, 96 threads
void warp_handoff(int* out, bool synced);              // out: 64 ints; races unless synced
void divergent_shuffle(int* out);                      // planted: 2 blocks of 64; out: 128 ints
void shuffle_against_barrier(int* out);                // planted: out: 64 ints
void half_warp_shuffle(int* out);                      // correct partial mask; out: 64 ints

}  // namespace selftest
