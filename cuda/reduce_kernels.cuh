// Launchers for the reductions: global gradient norm (sum of squares, clip factor and skip flag) and per-line
// norms for norm-based selections. Sums accumulate in fp64 in a fixed order, so results are
// deterministic on a given device and within an ulp or so of an fp64 CPU sum.
#pragma once
#include <cstdint>
#include "device_env.cuh"

namespace frugal {
namespace cuda {

// *acc (fp64) += sum over tensors of sum(x^2).
void launch_sum_squares(const DeviceEnv& env, const void* const* ptrs, const int32_t* dtypes, const int64_t* ns,
                        size_t count, double* acc);
// out[0..3] = {clip factor, skip, 1, skip} from *sumsq; *skipped += skip (math/step_gate.h).
void launch_step_scalars(const DeviceEnv& env, const double* sumsq, float max_norm, int32_t skip_nonfinite, float* out,
                         int64_t* skipped);
// out[line] = Euclidean norm of each row (axis 0), column (1) or element (2) of a row-major matrix.
void launch_line_norms(const DeviceEnv& env, const void* g, int32_t dtype, int64_t rows, int64_t cols, int32_t axis,
                       float* out);

}  // namespace cuda
}  // namespace frugal
