// Launchers of the deliberately defective kernels in self_test_kernels.cu.
#pragma once

namespace selftest {

void missing_barrier(float* out);          // 64 threads; out: 64 floats
void divergent_barrier(float* out);        // 64 threads; out: 64 floats
void bounded(float* out, int threads);     // __launch_bounds__(64); out: `threads` floats

}  // namespace selftest
