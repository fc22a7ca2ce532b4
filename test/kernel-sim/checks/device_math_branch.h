// The shared math (native/math) compiled with __CUDA_ARCH__ defined, i.e. its device branches, in
// a namespace of its own (device_math_branch.cpp), for comparison with the host branches the rest
// of the build uses.
#pragma once
#include <cstdint>

namespace ks::device_branch {

uint32_t float_bits(float f);
float bits_float(uint32_t u);
float bf16_to_float(uint16_t h);
uint16_t float_to_bf16(float f);
float f16_to_float(uint16_t h);
uint16_t float_to_f16(float f);
float load_elem(const void* base, int32_t dtype, int64_t i);
void store_elem(void* base, int32_t dtype, int64_t i, float v);
float counter_uniform(uint64_t seed, uint64_t index, uint32_t stream);
float counter_normal(uint64_t seed, uint64_t index);

}  // namespace ks::device_branch
