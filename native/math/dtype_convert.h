// Element loads and stores for the storage dtypes, done with bit manipulation so host and device
// produce identical values (round-to-nearest-even on the way down, exact on the way up).
#pragma once
#include "hd.h"
#include <math.h>
#include <string.h>

namespace frugal {

enum DType : int32_t { F32 = 0, BF16 = 1, F16 = 2, I32 = 3 };

FRUGAL_HD uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
#endif
}
FRUGAL_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  memcpy(&f, &u, 4);
  return f;
#endif
}

FRUGAL_HD float bf16_to_float(uint16_t h) { return bits_float(((uint32_t)h) << 16); }
FRUGAL_HD uint16_t float_to_bf16(float f) {
  uint32_t u = float_bits(f);
  if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu)) return (uint16_t)((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
  return (uint16_t)(u >> 16);
}

FRUGAL_HD float f16_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  if (exp == 0) {
    if (man == 0) return bits_float(sign);
    // subnormal: value = man * 2^-24
    float v = (float)man * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  if (exp == 31) return bits_float(sign | 0x7f800000u | (man << 13));
  return bits_float(sign | ((exp + 112u) << 23) | (man << 13));
}
FRUGAL_HD uint16_t float_to_f16(float f) {
  uint32_t u = float_bits(f);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  uint32_t absu = u & 0x7fffffffu;
  if (absu >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (absu > 0x7f800000u ? 0x200u : 0u));
  if (absu >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  // rounds to >= 65520: overflow to inf
  if (absu < 0x38800000u) {  // below the smallest normal half (2^-14): subnormal or zero
    float a = bits_float(absu);
    // a / 2^-24, rounded to nearest even via the float adder
    float scaled = a * 16777216.0f;
    float r = rintf(scaled);
    return (uint16_t)(sign | (uint16_t)r);
  }
  uint32_t mant_round = absu + 0x0fffu + ((absu >> 13) & 1u);
  return (uint16_t)(sign | (uint16_t)((mant_round - 0x38000000u) >> 13));
}

// float -> int32, the same on both backends: truncation toward zero, saturating at the int32 range,
// NaN to 0. This is what the GPU's cvt.rzi.s32.f32 does; in C++ a plain cast of NaN or an
// out-of-range value is undefined behaviour (x86 gives INT32_MIN), so the rule is spelled out and
// every float-to-int32 conversion (casts, fills, int32 stores) goes through it.
FRUGAL_HD int32_t float_to_i32_sat(float v) {
  if (!(v == v)) return 0;                            // NaN
  if (v >= 2147483648.0f) return 2147483647;          // 2^31 and above (+inf included)
  if (v <= -2147483648.0f) return (-2147483647 - 1);  // -2^31 and below (-inf included)
  return (int32_t)v;                                  // in range: truncation is defined
}

FRUGAL_HD float load_elem(const void* base, int32_t dtype, int64_t i) {
  switch (dtype) {
    case BF16: return bf16_to_float(((const uint16_t*)base)[i]);
    case F16: return f16_to_float(((const uint16_t*)base)[i]);
    case I32: return (float)((const int32_t*)base)[i];
    default: return ((const float*)base)[i];
  }
}
FRUGAL_HD void store_elem(void* base, int32_t dtype, int64_t i, float v) {
  switch (dtype) {
    case BF16: ((uint16_t*)base)[i] = float_to_bf16(v); break;
    case F16: ((uint16_t*)base)[i] = float_to_f16(v); break;
    case I32: ((int32_t*)base)[i] = float_to_i32_sat(v); break;
    default: ((float*)base)[i] = v; break;
  }
}

FRUGAL_HD int32_t dtype_size(int32_t dtype) { return (dtype == BF16 || dtype == F16) ? 2 : 4; }

}  // namespace frugal
