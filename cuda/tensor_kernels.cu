// Tensor utilities on the device: fill, counter-based random numbers, dtype casts. Element values
// come from the shared math headers, so they equal the CPU backend's bit for bit (random normals
// up to the device's logf / cosf, which may differ from the host's libm in the last ulp).
#include "tensor_kernels.cuh"

#include "grid_stride.cuh"
#include "math/counter_rng.h"
#include "math/dtype_convert.h"

namespace frugal {
namespace cuda {
namespace {

__global__ void fill_kernel(void* p, int32_t dtype, int64_t n, float value) {
  for (int64_t i = global_thread_index(); i < n; i += grid_thread_count()) store_elem(p, dtype, i, value);
}

__global__ void random_kernel(void* p, int32_t dtype, int64_t n, int32_t dist, uint64_t seed, float a, float b) {
  for (int64_t i = global_thread_index(); i < n; i += grid_thread_count()) {
    float x =
        dist == 0 ? a + (b - a) * counter_uniform(seed, (uint64_t)i, 0) : a + b * counter_normal(seed, (uint64_t)i);
    store_elem(p, dtype, i, x);
  }
}

__global__ void cast_kernel(const void* src, int32_t src_dtype, void* dst, int32_t dst_dtype, int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += grid_thread_count())
    store_elem(dst, dst_dtype, i, load_elem(src, src_dtype, i));
}

__global__ void to_f32_scaled_kernel(const void* src, int32_t dtype, float* dst, int64_t n, const float* gscale) {
  const float scale = gscale ? *gscale : 1.f;
  for (int64_t i = global_thread_index(); i < n; i += grid_thread_count()) dst[i] = load_elem(src, dtype, i) * scale;
}

}  // namespace

void launch_fill(const DeviceEnv& env, void* p, int32_t dtype, int64_t n, float value) {
  if (n <= 0) return;
  fill_kernel<<<grid_blocks(env, n), kBlock, 0, env.stream>>>(p, dtype, n, value);
  check_launch("fill kernel");
}

void launch_random(const DeviceEnv& env, void* p, int32_t dtype, int64_t n, int32_t dist, uint64_t seed, float a,
                   float b) {
  if (n <= 0) return;
  random_kernel<<<grid_blocks(env, n), kBlock, 0, env.stream>>>(p, dtype, n, dist, seed, a, b);
  check_launch("random kernel");
}

void launch_cast(const DeviceEnv& env, const void* src, int32_t src_dtype, void* dst, int32_t dst_dtype, int64_t n) {
  if (n <= 0) return;
  cast_kernel<<<grid_blocks(env, n), kBlock, 0, env.stream>>>(src, src_dtype, dst, dst_dtype, n);
  check_launch("cast kernel");
}

void launch_to_f32_scaled(const DeviceEnv& env, const void* src, int32_t dtype, float* dst, int64_t n,
                          const float* gscale) {
  if (n <= 0) return;
  to_f32_scaled_kernel<<<grid_blocks(env, n), kBlock, 0, env.stream>>>(src, dtype, dst, n, gscale);
  check_launch("to_f32_scaled kernel");
}

}  // namespace cuda
}  // namespace frugal
