// Launchers for the optimizer arithmetic of backend.h (semantics documented there). None of them
// syncs the host; all read gscale (when given) on the device.
#pragma once
#include <cstdint>
#include "core/backend.h"
#include "device_env.cuh"

namespace frugal {
namespace cuda {

void launch_elementwise_step(const DeviceEnv& env, const ElementwiseJob* jobs, size_t count, const float* gscale);
void launch_indexed_step(const DeviceEnv& env, const IndexedJob& job, const float* gscale);
void launch_compressed_direction(const DeviceEnv& env, float* gc, void* m, void* v, int32_t state_dtype, int64_t n,
                                 const RuleScalars& rule, const float* gate);
void launch_dense_apply(const DeviceEnv& env, const DenseApplyJob& job, const float* gscale);

}  // namespace cuda
}  // namespace frugal
