// Launchers for the tensor utilities: fill, counter-based random, dtype casts. Each enqueues one
// grid-stride kernel on env.stream and checks the launch.
#pragma once
#include <cstdint>
#include "device_env.cuh"

namespace frugal {
namespace cuda {

void launch_fill(const DeviceEnv& env, void* p, int32_t dtype, int64_t n, float value);
// dist 0: uniform in [a, b); 1: normal(mean a, std b). Value i depends on (seed, i) only.
void launch_random(const DeviceEnv& env, void* p, int32_t dtype, int64_t n, int32_t dist, uint64_t seed, float a,
                   float b);
void launch_cast(const DeviceEnv& env, const void* src, int32_t src_dtype, void* dst, int32_t dst_dtype, int64_t n);
// dst = float(src) * (*gscale), or float(src) when gscale is null.
void launch_to_f32_scaled(const DeviceEnv& env, const void* src, int32_t dtype, float* dst, int64_t n,
                          const float* gscale);

}  // namespace cuda
}  // namespace frugal
