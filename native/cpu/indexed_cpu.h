// The CPU backend's first pass of an indexed step (decay and the state-free rule on the lines
// that are not selected; the selected ones are left to the second pass), typed like elementwise_cpu.h so it vectorizes:
// the dtype, the state-free rule's math and the axis are template arguments (the rule resolved once per job through the
// rule table), and the matrix is walked row by row so the line of an element is known without a division. Same shared
// rules, so the same bits as the generic loop (which FRUGAL_CPU_GENERIC_LOOPS=1 forces, for the tests).
#pragma once
#include <cstdint>
#include <type_traits>
#include <vector>
#include "../core/backend.h"
#include "elementwise_cpu.h"

namespace frugal {
namespace cpu_indexed {

using cpu_elementwise::Elem;

// Rows [rb, re) of the matrix. Free is NoUpdate when nothing but the decay applies. Elements of
// selected lines (mask set) are left as they are: the state-full pass decays and updates them
// with one rounding.
template <int32_t D, class Free, int32_t Axis>
__attribute__((always_inline)) inline void pass1_body(const IndexedJob& job, float gs, int64_t rb, int64_t re) {
  using P = Elem<D>;
  constexpr bool decay_only = std::is_same<Free, NoUpdate>::value;
  const RuleScalars s = job.state_free;
  const float decay = job.decay;
  const int64_t cols = job.cols;
  const uint8_t* __restrict mask = job.mask;
  // The per-line byte mask as 32-bit "keep" words (all ones where the line is not selected): the
  // new value where kept and p0 elsewhere, as a bit blend, which unlike a conditional vectorizes.
  thread_local std::vector<uint32_t> keep;
  if constexpr (Axis != AXIS_ROWS) keep.resize((size_t)cols);
  if constexpr (Axis == AXIS_COLS) {
    for (int64_t c = 0; c < cols; c++) keep[c] = mask && mask[c] ? 0u : ~0u;
  }
  for (int64_t r = rb; r < re; r++) {
    void* __restrict prow = static_cast<char*>(job.p) + r * cols * (int64_t)sizeof(typename P::Storage);
    const void* __restrict grow =
        decay_only ? nullptr : static_cast<const char*>(job.g) + r * cols * (int64_t)sizeof(typename P::Storage);
    if constexpr (Axis == AXIS_ROWS) {
      if (mask && mask[r]) continue;  // a selected row: the state-full pass finishes it
      if constexpr (decay_only) {
        for (int64_t c = 0; c < cols; c++) P::store(prow, c, P::load(prow, c) * decay - 0.f);
      } else {
        for (int64_t c = 0; c < cols; c++) {
          const float p0 = P::load(prow, c);
          P::store(prow, c, p0 * decay - Free::delta(P::load(grow, c) * gs, p0, nullptr, nullptr, s));
        }
      }
    } else {
      if constexpr (Axis == AXIS_COORDS) {
        const uint8_t* __restrict lmask = mask ? mask + r * cols : nullptr;
        for (int64_t c = 0; c < cols; c++) keep[c] = lmask && lmask[c] ? 0u : ~0u;
      }
      const uint32_t* __restrict kp = keep.data();
      for (int64_t c = 0; c < cols; c++) {
        const float p0 = P::load(prow, c);
        float free_d = 0.f;
        if constexpr (!decay_only) free_d = Free::delta(P::load(grow, c) * gs, p0, nullptr, nullptr, s);
        const float next = p0 * decay - free_d;
        P::store(prow, c, bits_float((float_bits(next) & kp[c]) | (float_bits(p0) & ~kp[c])));
      }
    }
  }
}

template <int32_t D, class Free, int32_t Axis>
void pass1_range(const IndexedJob& job, float gs, int64_t rb, int64_t re) {
  pass1_body<D, Free, Axis>(job, gs, rb, re);
}
#if defined(__x86_64__) && defined(__GNUC__)
template <int32_t D, class Free, int32_t Axis>
__attribute__((target("avx2"))) void pass1_range_avx2(const IndexedJob& job, float gs, int64_t rb, int64_t re) {
  pass1_body<D, Free, Axis>(job, gs, rb, re);
}
#endif

using RowsFn = void (*)(const IndexedJob&, float, int64_t, int64_t);

template <int32_t D, class Free, int32_t Axis>
RowsFn best() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (cpu_elementwise::have_avx2()) return pass1_range_avx2<D, Free, Axis>;
#endif
  return pass1_range<D, Free, Axis>;
}

template <int32_t D, class Free>
RowsFn pick_axis(int32_t axis) {
  switch (axis) {
    case AXIS_ROWS: return best<D, Free, AXIS_ROWS>();
    case AXIS_COLS: return best<D, Free, AXIS_COLS>();
    case AXIS_COORDS: return best<D, Free, AXIS_COORDS>();
    default: return nullptr;
  }
}

template <int32_t D>
RowsFn pick_rule(const IndexedJob& job, bool free_applies) {
  if (!free_applies) return pick_axis<D, NoUpdate>(job.axis);  // the axis says which elements the mask skips
  // A rule that updates (without state: pass 1 has no slots to give it).
  return visit_rule(
      job.state_free.rule,
      [&](auto rule) -> RowsFn {
        using R = typename decltype(rule)::type;
        if constexpr (R::kSlots == 0 && !std::is_same<R, NoUpdate>::value) return pick_axis<D, R>(job.axis);
        return nullptr;
      },
      RowsFn(nullptr));
}

// The typed first pass for `job` (run over row ranges), or null where only the generic loop applies.
// free_applies: the state-free rule runs (a rule, a mask and a gradient are all there).
inline RowsFn typed_pass1(const IndexedJob& job, bool free_applies) {
  if (free_applies && job.g_dtype != job.p_dtype) return nullptr;
  switch (job.p_dtype) {
    case F32: return pick_rule<F32>(job, free_applies);
    case BF16: return pick_rule<BF16>(job, free_applies);
    case F16: return pick_rule<F16>(job, free_applies);
    default: return nullptr;
  }
}

// Pass 2, typed: the state-full rule R on the selected lines, for jobs whose p and g share dtype
// D, with fp32 moments and no compressed gradient. One selected line j at a time for ROWS (its
// elements and slots are contiguous, so the loop vectorizes) and COORDS; for COLS the caller
// walks rows and this handles slots (t, 0..k) of one row. The arithmetic is the generic loop's.
// Stateful as in elementwise_cpu.h's typed_body.
template <int32_t D, class R, bool Stateful>
struct Pass2 {
  static constexpr int slots = Stateful ? R::kSlots : 0;
  using P = Elem<D>;
  const IndexedJob& job;
  float gs;
  const SlotScalars* slot_scalars;  // per entry, or null: s serves every entry
  RuleScalars s;
  float decay;  // folded here when pass 1 skipped the selected lines (it has their mask)
  Pass2(const IndexedJob& j, float g, const SlotScalars* ss)
      : job(j), gs(g), slot_scalars(ss), s(j.state_full), decay(j.mask ? j.decay : 1.f) {}
  RuleScalars entry(int64_t j) const { return slot_scalars ? with_slot(s, slot_scalars[j]) : s; }

  __attribute__((always_inline)) inline void element(int64_t e, int64_t slot, float rho, const RuleScalars& rs) const {
    float* __restrict m = static_cast<float*>(job.m);
    float* __restrict v = static_cast<float*>(job.v);
    const float gc = rho * P::load(job.g, e) * gs;
    const float p0 = P::load(job.p, e);
    float mi = 0.f, vi = 0.f;
    if constexpr (slots >= 1) mi = m[slot];
    if constexpr (slots >= 2) vi = v[slot];
    const float d = R::delta(gc, p0, &mi, &vi, rs);
    P::store(job.p, e, p0 * decay - rho * d);
    if constexpr (slots >= 1) m[slot] = mi;
    if constexpr (slots >= 2) v[slot] = vi;
  }
  // Selected lines [jb, je) (ROWS or COORDS).
  void lines(int64_t jb, int64_t je) const {
    const LineGeometry geo = job.geometry();
    const int64_t len = geo.line_length();
    for (int64_t j = jb; j < je; j++) {
      const float rho = job.scale ? job.scale[j] : 1.f;
      const RuleScalars rs = entry(j);
      const int64_t base = geo.element(job.idx[j], 0);
      for (int64_t t = 0; t < len; t++) element(base + t, j * len + t, rho, rs);
    }
  }
  // Rows [tb, te) of a COLS job: every selected column of each row, in slot order.
  void rows(int64_t tb, int64_t te) const {
    for (int64_t t = tb; t < te; t++)
      for (int64_t j = 0; j < job.k; j++)
        element(t * job.cols + job.idx[j], t * job.k + j, job.scale ? job.scale[j] : 1.f, entry(j));
  }
};

struct Pass2Fns {
  void (*lines)(const IndexedJob&, float, const SlotScalars*, int64_t, int64_t);
  void (*rows)(const IndexedJob&, float, const SlotScalars*, int64_t, int64_t);
};

template <int32_t D, class R, bool Stateful>
Pass2Fns pass2_fns() {
  return {[](const IndexedJob& j, float g, const SlotScalars* ss, int64_t b, int64_t e) {
            Pass2<D, R, Stateful>(j, g, ss).lines(b, e);
          },
          [](const IndexedJob& j, float g, const SlotScalars* ss, int64_t b, int64_t e) {
            Pass2<D, R, Stateful>(j, g, ss).rows(b, e);
          }};
}

// Typed for the rules with state (the others, which the core never gives a selection, take the
// generic loop), with the slots where the scalars read them and the job has them all.
template <int32_t D>
Pass2Fns pass2_rule(const IndexedJob& job) {
  const bool have_slots = job.m && (rule_state_slots(job.state_full.rule) < 2 || job.v);
  return visit_rule(
      job.state_full.rule,
      [&](auto rule) -> Pass2Fns {
        using R = typename decltype(rule)::type;
        if constexpr (R::kSlots > 0) {
          if constexpr (R::kStateOptional)
            if (!R::reads_state(job.state_full)) return pass2_fns<D, R, false>();
          if (have_slots) return pass2_fns<D, R, true>();
        }
        return {nullptr, nullptr};
      },
      Pass2Fns{nullptr, nullptr});
}

// The typed second pass for `job`, or {null, null} where only the generic loop applies.
inline Pass2Fns typed_pass2(const IndexedJob& job) {
  // Repeated lines accumulate per element in fp32 before one store: the generic loop does that.
  if (job.gc || !job.g || job.g_dtype != job.p_dtype || job.has_duplicates) return {nullptr, nullptr};
  if ((job.m || job.v) && job.state_dtype != F32) return {nullptr, nullptr};
  switch (job.p_dtype) {
    case F32: return pass2_rule<F32>(job);
    case BF16: return pass2_rule<BF16>(job);
    case F16: return pass2_rule<F16>(job);
    default: return {nullptr, nullptr};
  }
}

}  // namespace cpu_indexed
}  // namespace frugal
