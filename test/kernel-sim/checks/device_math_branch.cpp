// The device branches of the shared math (#if defined(__CUDA_ARCH__) in native/math), which the
// CPU build never compiles and generate.js keeps out of cuda/: this unit defines __CUDA_ARCH__
// before including the headers, so their device side (with the simulator's definitions of the
// device built-ins they call, sim_cuda.h) is what gets compiled, in its own namespace so it cannot
// clash with the host versions. self_checks.cpp compares the two.
#include "sim_cuda.h"  // the device built-ins, included before __CUDA_ARCH__ changes the CUDA headers' view

#define __CUDA_ARCH__ 800
#define frugal frugal_device_branch
#include "math/counter_rng.h"
#include "math/dtype_convert.h"
#include "math/update_rules.h"
#undef frugal
#undef __CUDA_ARCH__

#include "device_math_branch.h"

namespace ks::device_branch {

namespace d = ::frugal_device_branch;

uint32_t float_bits(float f) { return d::float_bits(f); }
float bits_float(uint32_t u) { return d::bits_float(u); }
float bf16_to_float(uint16_t h) { return d::bf16_to_float(h); }
uint16_t float_to_bf16(float f) { return d::float_to_bf16(f); }
float f16_to_float(uint16_t h) { return d::f16_to_float(h); }
uint16_t float_to_f16(float f) { return d::float_to_f16(f); }
float load_elem(const void* base, int32_t dtype, int64_t i) { return d::load_elem(base, dtype, i); }
void store_elem(void* base, int32_t dtype, int64_t i, float v) { d::store_elem(base, dtype, i, v); }
float counter_uniform(uint64_t seed, uint64_t index, uint32_t stream) {
  return d::counter_uniform(seed, index, stream);
}
float counter_normal(uint64_t seed, uint64_t index) { return d::counter_normal(seed, index); }

}  // namespace ks::device_branch
