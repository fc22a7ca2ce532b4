// The CPU backend's elementwise optimizer step, typed so the compiler can vectorize it.
// The generic loop reads every element through a dtype switch and picks the rule through another,
// which keeps it scalar; here the storage dtype and the rule are template arguments, so the body
// is straight-line code (the same shared rules from native/math, so the same bits). Jobs the
// typed loops do not cover (p and g of different dtypes, bf16 state) take the generic loop.
#pragma once
#include <cstdint>
#include "../core/backend.h"
#include "../math/dtype_convert.h"
#include "../math/update_rules.h"

namespace frugal {
namespace cpu_elementwise {

template <int32_t D> struct Elem;
template <> struct Elem<F32> {
  using Storage = float;
  static float load(const void* b, int64_t i) { return static_cast<const float*>(b)[i]; }
  static void store(void* b, int64_t i, float v) { static_cast<float*>(b)[i] = v; }
};
template <> struct Elem<BF16> {
  using Storage = uint16_t;
  static float load(const void* b, int64_t i) { return bf16_to_float(static_cast<const uint16_t*>(b)[i]); }
  static void store(void* b, int64_t i, float v) { static_cast<uint16_t*>(b)[i] = float_to_bf16(v); }
};
template <> struct Elem<F16> {
  using Storage = uint16_t;
  static float load(const void* b, int64_t i) { return f16_to_float(static_cast<const uint16_t*>(b)[i]); }
  static void store(void* b, int64_t i, float v) { static_cast<uint16_t*>(b)[i] = float_to_f16(v); }
};

// Elements [b, e) of one job whose p and g are dtype D and whose state (if any) is fp32.
// RULE_SGDM with momentum 0 keeps no buffer (m is null), hence the `Momentum` flag.
template <int32_t D, int32_t Rule, bool Momentum>
__attribute__((always_inline)) inline void typed_body(const ElementwiseJob& job, float gs, int64_t b, int64_t e) {
  using P = Elem<D>;
  RuleScalars s = job.rule;
  s.rule = Rule;  // a constant, so rule_delta's switch folds away
  const float decay = job.decay;
  void* __restrict p = job.p;
  const void* __restrict g = job.g;
  float* __restrict m = static_cast<float*>(job.m);
  float* __restrict v = static_cast<float*>(job.v);
  for (int64_t i = b; i < e; i++) {
    float p0 = P::load(p, i);
    float gi = P::load(g, i) * gs;
    float mi = 0.f, vi = 0.f;
    if constexpr (Rule == RULE_ADAMW) { mi = m[i]; vi = v[i]; }
    if constexpr (Rule == RULE_SGDM && Momentum) mi = m[i];
    float d = rule_delta(gi, p0, &mi, &vi, s);
    P::store(p, i, p0 * decay - d);
    if constexpr (Rule == RULE_ADAMW) { m[i] = mi; v[i] = vi; }
    if constexpr (Rule == RULE_SGDM && Momentum) m[i] = mi;
  }
}

// The body compiled twice: for the build's baseline (SSE2 on x86-64) and, where the CPU has it,
// AVX2 (twice the lanes; the 16-bit conversions gain most). Neither enables FMA, so no
// contraction can change the rounding (the build also passes -ffp-contract=off).
template <int32_t D, int32_t Rule, bool Momentum>
void typed_range(const ElementwiseJob& job, float gs, int64_t b, int64_t e) {
  typed_body<D, Rule, Momentum>(job, gs, b, e);
}
#if defined(__x86_64__) && defined(__GNUC__)
template <int32_t D, int32_t Rule, bool Momentum>
__attribute__((target("avx2"))) void typed_range_avx2(const ElementwiseJob& job, float gs, int64_t b, int64_t e) {
  typed_body<D, Rule, Momentum>(job, gs, b, e);
}
inline bool have_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

using RangeFn = void (*)(const ElementwiseJob&, float, int64_t, int64_t);

template <int32_t D, int32_t Rule, bool Momentum>
RangeFn best() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (have_avx2()) return typed_range_avx2<D, Rule, Momentum>;
#endif
  return typed_range<D, Rule, Momentum>;
}

template <int32_t D>
RangeFn pick_rule(const ElementwiseJob& job) {
  switch (job.rule.rule) {
    case RULE_ADAMW: return job.m && job.v ? best<D, RULE_ADAMW, true>() : nullptr;
    case RULE_SGDM:
      if (job.rule.momentum == 0.f) return best<D, RULE_SGDM, false>();
      return job.m ? best<D, RULE_SGDM, true>() : nullptr;
    case RULE_SIGN: return best<D, RULE_SIGN, false>();
    case RULE_SGD: return best<D, RULE_SGD, false>();
    case RULE_NONE: return best<D, RULE_NONE, false>();
    default: return nullptr;
  }
}

// The typed loop for `job`, or null where only the generic loop applies.
inline RangeFn typed_loop(const ElementwiseJob& job) {
  if (job.p_dtype != job.g_dtype) return nullptr;
  if ((job.m || job.v) && job.state_dtype != F32) return nullptr;
  switch (job.p_dtype) {
    case F32: return pick_rule<F32>(job);
    case BF16: return pick_rule<BF16>(job);
    case F16: return pick_rule<F16>(job);
    default: return nullptr;
  }
}

}  // namespace cpu_elementwise
}  // namespace frugal
