// The CPU backend's elementwise optimizer step, typed so the compiler can vectorize it.
// The generic loop reads every element through a dtype switch and picks the rule through another,
// which keeps it scalar; here the storage dtype and the rule's math are template arguments,
// resolved once per job through the rule table (visit_rule), so the body is straight-line code
// (the same shared rules from native/math, so the same bits). Jobs the typed loops do not cover
// (p and g of different dtypes, bf16 state) take the generic loop.
#pragma once
#include <cstdint>
#include "../core/backend.h"
#include "../math/dtype_convert.h"
#include "../math/update_rules.h"

namespace frugal {
namespace cpu_elementwise {

template <int32_t D>
struct Elem;
template <>
struct Elem<F32> {
  using Storage = float;
  static float load(const void* b, int64_t i) { return static_cast<const float*>(b)[i]; }
  static void store(void* b, int64_t i, float v) { static_cast<float*>(b)[i] = v; }
};
template <>
struct Elem<BF16> {
  using Storage = uint16_t;
  static float load(const void* b, int64_t i) { return bf16_to_float(static_cast<const uint16_t*>(b)[i]); }
  static void store(void* b, int64_t i, float v) { static_cast<uint16_t*>(b)[i] = float_to_bf16(v); }
};
template <>
struct Elem<F16> {
  using Storage = uint16_t;
  static float load(const void* b, int64_t i) { return f16_to_float(static_cast<const uint16_t*>(b)[i]); }
  static void store(void* b, int64_t i, float v) { static_cast<uint16_t*>(b)[i] = float_to_f16(v); }
};

// Elements [b, e) of one job whose p and g are dtype D and whose state (if any) is fp32, under
// rule R (rules/*.h, called directly, so the body is straight-line code). Stateful: the rule's
// slots are read and written (false for a rule without slots, or one whose scalars make it ignore
// them: SGDM with momentum 0, whose m may then be null).
template <int32_t D, class R, bool Stateful>
__attribute__((always_inline)) inline void typed_body(const ElementwiseJob& job, float gs, int64_t b, int64_t e) {
  using P = Elem<D>;
  constexpr int slots = Stateful ? R::kSlots : 0;
  const RuleScalars s = job.rule;
  const float decay = job.decay;
  void* __restrict p = job.p;
  const void* __restrict g = job.g;
  float* __restrict m = static_cast<float*>(job.m);
  float* __restrict v = static_cast<float*>(job.v);
  for (int64_t i = b; i < e; i++) {
    float p0 = P::load(p, i);
    float gi = P::load(g, i) * gs;
    float mi = 0.f, vi = 0.f;
    if constexpr (slots >= 1) mi = m[i];
    if constexpr (slots >= 2) vi = v[i];
    float d = R::delta(gi, p0, &mi, &vi, s);
    P::store(p, i, p0 * decay - d);
    if constexpr (slots >= 1) m[i] = mi;
    if constexpr (slots >= 2) v[i] = vi;
  }
}

// The body compiled twice: for the build's baseline (SSE2 on x86-64) and, where the CPU has it,
// AVX2 (twice the lanes; the 16-bit conversions gain most). Neither enables FMA, so no
// contraction can change the rounding (the build also passes -ffp-contract=off).
template <int32_t D, class R, bool Stateful>
void typed_range(const ElementwiseJob& job, float gs, int64_t b, int64_t e) {
  typed_body<D, R, Stateful>(job, gs, b, e);
}
#if defined(__x86_64__) && defined(__GNUC__)
template <int32_t D, class R, bool Stateful>
__attribute__((target("avx2"))) void typed_range_avx2(const ElementwiseJob& job, float gs, int64_t b, int64_t e) {
  typed_body<D, R, Stateful>(job, gs, b, e);
}
inline bool have_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

using RangeFn = void (*)(const ElementwiseJob&, float, int64_t, int64_t);

template <int32_t D, class R, bool Stateful>
RangeFn best() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (have_avx2()) return typed_range_avx2<D, R, Stateful>;
#endif
  return typed_range<D, R, Stateful>;
}

// The rule's loop: without its slots where it keeps none or these scalars ignore them; with them
// where the job has them all; else null (the generic loop, which tolerates missing slots).
template <int32_t D, class R>
RangeFn pick_state(const RuleScalars& s, bool have_slots) {
  if constexpr (R::kSlots == 0) {
    return best<D, R, false>();
  } else {
    if constexpr (R::kStateOptional)
      if (!R::reads_state(s)) return best<D, R, false>();
    return have_slots ? best<D, R, true>() : nullptr;
  }
}

template <int32_t D>
RangeFn pick_rule(const ElementwiseJob& job) {
  const bool have_slots = job.m && (rule_state_slots(job.rule.rule) < 2 || job.v);
  return visit_rule(
      job.rule.rule, [&](auto rule) { return pick_state<D, typename decltype(rule)::type>(job.rule, have_slots); },
      RangeFn(nullptr));
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
