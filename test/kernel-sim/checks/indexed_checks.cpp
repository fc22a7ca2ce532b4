// indexed_step: the full grid of axis x duplicates x compressed gradient x state-free rule x
// parameter dtype x importance weights x state-full rule (432 cases on a 37 x 29 matrix), with
// state dtype, gradient dtypes, decay, gscale and grid size varied along it; then shapes chosen
// for their edges: line counts that are powers of two (the radix sort's bit count), lines longer
// than the grid's stride, one repeated element, k = 0, no state-full rule, and the Grass
// compressed-gradient path with no g and no mask. The rules come from group options and a step
// count through the core's host folding (state_full_scalars / state_free_scalars), and every case
// is held to the CPU backend bit for bit and to the float64 model of reference64.h.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>
#include "checks.h"
#include "harness.h"
#include "core/optimizer.h"
#include "optimizer_kernels.cuh"
#include "reference64.h"

namespace ks {

namespace {

struct IndexedCase {
  int32_t axis = AXIS_ROWS;
  int64_t rows = 37, cols = 29, k = 9;
  bool dups = false, use_gc = false, scale = false, gscale = true;
  int32_t free_rule = RULE_NONE, full_rule = RULE_ADAMW;
  int32_t p_dtype = F32, g_dtype = F32, gc_dtype = BF16, state_dtype = F32;
  float decay = 0.99f;
  int sm = 2;
  bool null_g = false, null_mask = false;
  bool flag_duplicates = false;  // has_duplicates without actual repeats
  bool slot_steps = false;       // per-entry step counters (no resets)

  std::string name() const {
    const char* axes[] = {"rows", "cols", "coords"};
    return std::string("indexed ") + axes[axis] + " " + std::to_string(rows) + "x" + std::to_string(cols) +
           " k=" + std::to_string(k) + (dups ? " dups" : "") + (use_gc ? " gc:" : "") +
           (use_gc ? dtype_name(gc_dtype) : "") + " full=" + rule_name(full_rule) + " free=" + rule_name(free_rule) +
           " p:" + dtype_name(p_dtype) + " g:" + (null_g ? "null" : dtype_name(g_dtype)) +
           " state:" + dtype_name(state_dtype) + (scale ? " rho" : "") + (gscale ? " gscale" : "") +
           (null_mask ? " nomask" : "") + (flag_duplicates ? " flagged" : "") + (slot_steps ? " slot-steps" : "") +
           " decay=" + (decay == 1.f ? "1" : "0.99") + " sm=" + std::to_string(sm);
  }
};

// The group options of a case: its rules, with the variants (eps placement, bias correction,
// lr scales, nesterov, the state's step count) spread over the cases by a counter.
struct CaseRules {
  frugal_group_options o;
  int64_t t;
};
CaseRules case_rules(const IndexedCase& c) {
  static int counter = 0;
  const int n = counter++;
  CaseRules r{ref64::options(c.full_rule, c.free_rule), 1 + n % 4};
  r.o.state_dtype = (frugal_dtype)c.state_dtype;
  r.o.state_full_lr_scale = n % 3 == 0 ? 0.25f : 1.f;  // Grass's alpha / GaLore's scale
  r.o.state_free_lr_scale = n % 5 == 1 ? 0.5f : 1.f;
  r.o.eps_mode = n % 2 ? FRUGAL_EPS_HF : FRUGAL_EPS_TORCH;
  r.o.bias_correction = n % 7 != 3;
  r.o.nesterov = n % 4 == 2;
  if (r.o.nesterov) r.o.dampening = 0;
  r.o.l2 = c.free_rule == RULE_SGD ? 0.02f : 0.f;  // SGD's L2 (state-free pass, where p0 is known)
  if (c.full_rule == RULE_SGDM) r.o.l2 = 0;
  // decay: 1 - lr * wd, or exactly 1 without decay.
  r.o.weight_decay = c.decay == 1.f ? 0.f : 0.5f;
  return r;
}

// The float64 model of indexed_step (backend.h's contract): every element decays; unselected
// lines (mask 0) take the state-free rule on g; slot j of a selected line sees
// gc_j = rho_j * g[idx_j] (or the given gc) and its update is scattered back times rho_j,
// duplicates adding up.
void model_check(const IndexedCase& c, const CaseRules& r, const std::string& what, const Twin& p, const Twin& g,
                 const Twin& gc, const Twin& m, const Twin& v, const std::vector<int32_t>& idx,
                 const std::vector<uint8_t>& mask, const std::vector<float>& scale, int slots) {
  auto at = [](const Twin& x, bool initial) { return (initial ? x.initial_bytes() : x.dev_bytes()) + x.offset(); };
  const int64_t n = c.rows * c.cols;
  const int64_t line_len = c.axis == AXIS_ROWS ? c.cols : (c.axis == AXIS_COLS ? c.rows : 1);
  const double gs = c.gscale ? 0.5 : 1.0;
  auto line_of = [&](int64_t e) { return c.axis == AXIS_ROWS ? e / c.cols : (c.axis == AXIS_COLS ? e % c.cols : e); };
  auto element = [&](int64_t line, int64_t t) {
    return c.axis == AXIS_ROWS ? line * c.cols + t : (c.axis == AXIS_COLS ? t * c.cols + line : line);
  };
  // stores[e]: what the intermediate stores of a 16-bit param can add (see below).
  std::vector<double> p0(n), x(n), change(n, 0.0), stores(n, 0.0);
  const bool narrow = c.p_dtype != F32;
  for (int64_t e = 0; e < n; ++e) {
    p0[e] = ref64::load(at(p, true), c.p_dtype, e);
    x[e] = p0[e] * ref64::decay(r.o);
    const bool selected = !c.null_mask && mask[line_of(e)];
    if (!selected && c.free_rule != RULE_NONE)
      x[e] -= ref64::free_delta(r.o, ref64::load(at(g, true), c.g_dtype, e) * gs, p0[e]);
    change[e] = std::fabs(x[e] - p0[e]);
  }
  ref64::ModelCheck mc(what + " m", c.state_dtype), vc(what + " v", c.state_dtype);
  for (int64_t j = 0; j < c.k; ++j) {
    const double rho = c.scale ? scale[j] : 1.0;
    for (int64_t t = 0; t < line_len; ++t) {
      const int64_t e = element(idx[j], t);
      const int64_t s = c.axis == AXIS_COLS ? t * c.k + j : j * line_len + t;
      const double gj =
          c.use_gc ? ref64::load(at(gc, true), c.gc_dtype, s) * gs : rho * ref64::load(at(g, true), c.g_dtype, e) * gs;
      double m1 = slots >= 1 ? ref64::load(at(m, true), c.state_dtype, s) : 0;
      double v1 = slots >= 2 ? ref64::load(at(v, true), c.state_dtype, s) : 0;
      const double m0 = m1, v0 = v1;
      const double delta = rho * ref64::full_delta(r.o, r.t, gj, p0[e], m1, v1);
      if (narrow) stores[e] += ref64::ulp(c.p_dtype, x[e]);
      x[e] -= delta;
      change[e] += std::fabs(delta);
      if (slots >= 1) mc.add(s, ref64::load(at(m, false), c.state_dtype, s), m1, std::fabs(m1 - m0));
      if (slots >= 2) vc.add(s, ref64::load(at(v, false), c.state_dtype, s), v1, std::fabs(v1 - v0));
    }
  }
  // 16-bit params: 1 ulp of the result, plus 1 ulp of each intermediate value that the indexed
  // path stores today (after the decay / state-free pass, and after each slot's scatter). Issue 11
  // item 3 makes that one rounding per element per step; then `stores` goes and 1 ulp holds.
  ref64::ModelCheck pc(what + " p", c.p_dtype);
  for (int64_t e = 0; e < n; ++e) pc.add(e, ref64::load(at(p, false), c.p_dtype, e), x[e], change[e], stores[e]);
  pc.finish();
  if (slots >= 1) mc.finish();
  if (slots >= 2) vc.finish();
}

void run_case(const IndexedCase& c) {
  const int64_t lines = c.axis == AXIS_ROWS ? c.rows : (c.axis == AXIS_COLS ? c.cols : c.rows * c.cols);
  const int64_t line_len = c.axis == AXIS_ROWS ? c.cols : (c.axis == AXIS_COLS ? c.rows : 1);
  std::vector<int32_t> idx;
  if (c.dups) {
    std::uniform_int_distribution<int> pick(0, (int)lines - 1);
    for (int64_t j = 0; j < c.k; ++j) idx.push_back(pick(rng()));
    if (c.k >= 2) idx[c.k - 1] = idx[0];
    if (c.k >= 4) {
      idx[1] = idx[0];
      idx[3] = idx[2];
    }
  } else {
    std::vector<int32_t> perm(lines);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng());
    idx.assign(perm.begin(), perm.begin() + c.k);
  }
  std::vector<uint8_t> mask(lines, 0);
  for (int32_t i : idx) mask[i] = 1;
  std::vector<float> scale(c.k);
  for (float& s : scale) s = uniform(0.5f, 2.f);
  const int slots = rule_state_slots(c.full_rule);
  const CaseRules rules = case_rules(c);

  // Element-aligned but not 16-byte-aligned starts for the parameter or for the state, by turns.
  const size_t shift = c.sm % 2;
  const size_t p_off = dtype_size(c.p_dtype) * shift, s_off = dtype_size(c.state_dtype) * (1 - shift);
  Twin p = random_twin(c.p_dtype, c.rows * c.cols, -1, 1, p_off);
  Twin g = c.null_g ? Twin() : random_twin(c.g_dtype, c.rows * c.cols, -1, 1);
  Twin gc = c.use_gc ? random_twin(c.gc_dtype, c.k * line_len, -1, 1, dtype_size(c.gc_dtype) * shift) : Twin();
  Twin m = slots >= 1 ? random_twin(c.state_dtype, c.k * line_len, -0.1f, 0.1f, s_off) : Twin();
  Twin v = slots >= 2 ? random_twin(c.state_dtype, c.k * line_len, 0, 0.01f, s_off) : Twin();
  Twin idx_t = vector_twin(idx), mask_t = vector_twin(mask), scale_t = vector_twin(scale);
  Twin gscale = vector_twin(std::vector<float>{0.5f, 0.f});  // {scale, skip}
  std::vector<int32_t> steps(c.k);
  for (size_t j = 0; j < steps.size(); j++) steps[j] = (int32_t)((j * 7 + 3) % 40);  // leaves the data RNG alone
  Twin steps_t = vector_twin(steps);

  auto job = [&](bool dev) {
    auto at = [dev](Twin& t) { return dev ? t.dev() : t.cpu(); };
    IndexedJob j{};
    j.p = at(p);
    j.p_dtype = c.p_dtype;
    j.g = c.null_g ? nullptr : at(g);
    j.g_dtype = c.g_dtype;
    j.gc = c.use_gc ? at(gc) : nullptr;
    j.gc_dtype = c.gc_dtype;
    j.rows = c.rows;
    j.cols = c.cols;
    j.axis = c.axis;
    j.idx = static_cast<const int32_t*>(at(idx_t));
    j.k = c.k;
    j.scale = c.scale ? static_cast<const float*>(at(scale_t)) : nullptr;
    j.mask = c.null_mask ? nullptr : static_cast<const uint8_t*>(at(mask_t));
    j.m = slots >= 1 ? at(m) : nullptr;
    j.v = slots >= 2 ? at(v) : nullptr;
    j.state_dtype = c.state_dtype;
    // The core's host folding: decay, bias correction and lr scales into the job's scalars.
    j.decay = (float)(1.0 - (double)rules.o.lr * rules.o.weight_decay);
    j.state_full = state_full_scalars(rules.o, rules.t);
    j.state_free = state_free_scalars(rules.o);
    j.has_duplicates = c.dups || c.flag_duplicates;
    if (c.slot_steps) {
      j.slot_step = static_cast<int32_t*>(at(steps_t));
      j.bias = AdamBiasInputs{0.01, 0.9, 0.999, 1e-8f, 0, 1};
    }
    return j;
  };
  const IndexedJob cpu_job = job(false), dev_job = job(true);
  cpu_backend()->indexed_step(cpu_job, c.gscale ? gscale.cpu_as<float>() : nullptr, nullptr);
  const std::string what = c.name();
  run_device(what, [&] { cuda::launch_indexed_step(env(c.sm), dev_job, c.gscale ? gscale.dev_as<float>() : nullptr); });
  compare(what + " p", p, c.p_dtype);
  if (slots >= 1) compare(what + " m", m, c.state_dtype);
  if (slots >= 2) compare(what + " v", v, c.state_dtype);
  if (!c.null_g) compare(what + " g untouched", g, c.g_dtype);
  if (c.use_gc) compare(what + " gc untouched", gc, c.gc_dtype);
  // The float64 model folds one step count for the whole job; per-slot counters are checked
  // against the CPU backend alone (their bias correction is covered by test/exactness.test.ts).
  if (c.slot_steps)
    compare(what + " slot steps", steps_t, I32);
  else
    model_check(c, rules, what, p, g, gc, m, v, idx, mask, scale, slots);
}

// The 432-case grid, with the remaining settings varied along it by the case number.
void run_grid() {
  int n = 0;
  for (int32_t axis : {AXIS_ROWS, AXIS_COLS, AXIS_COORDS})
    for (bool dups : {false, true})
      for (bool use_gc : {false, true})
        for (int32_t free_rule : {RULE_NONE, RULE_SIGN, RULE_SGD})
          for (int32_t p_dtype : {F32, BF16})
            for (bool scale : {false, true})
              for (int32_t full : {RULE_ADAMW, RULE_SGDM}) {
                ++n;
                IndexedCase c;
                c.axis = axis;
                c.k = axis == AXIS_COORDS ? 300 : 9;
                c.dups = dups;
                c.use_gc = use_gc;
                c.free_rule = free_rule;
                c.p_dtype = p_dtype;
                c.scale = scale;
                c.full_rule = full;
                c.state_dtype = n % 3 == 1 ? BF16 : F32;
                c.g_dtype = n % 5 == 2 ? BF16 : (n % 5 == 4 ? F16 : F32);
                c.gc_dtype = n % 2 ? BF16 : F32;
                c.decay = n % 4 == 3 ? 1.f : 0.99f;
                c.gscale = n % 7 != 0;
                c.sm = 1 + n % 3;
                c.null_g = use_gc && free_rule == RULE_NONE && n % 2 == 0;
                c.null_mask = free_rule == RULE_NONE && n % 3 == 0;
                c.slot_steps = n % 4 == 1;
                run_case(c);
              }
}

// Edge shapes, each in two flavours (AdamW + signSGD on bf16 with gc, SGDM + SGD on fp32).
void run_edges() {
  struct Shape {
    int32_t axis;
    int64_t rows, cols, k;
    bool dups;
    int sm;
  };
  const Shape shapes[] = {
      {AXIS_ROWS, 64, 3, 20, true, 2},  // 64 lines: the sort's key bits are exactly 6
      {AXIS_COLS, 3, 64, 20, true, 2},
      {AXIS_ROWS, 3, 3000, 2, false, 1},  // lines longer than the grid stride
                                          // (2048 threads)
      {AXIS_ROWS, 3, 3000, 2, true, 1},
      {AXIS_COLS, 3000, 3, 2, true, 1},
      {AXIS_COLS, 3000, 3, 3, false, 3},
      {AXIS_COORDS, 1, 1, 3, true, 1},        // one element, selected three times
      {AXIS_COORDS, 32, 32, 1024, true, 2},   // 1024 lines: 10 key bits, many repeats
      {AXIS_COORDS, 32, 32, 1024, false, 2},  // every element once
      {AXIS_ROWS, 37, 29, 0, false, 2},       // nothing selected: pass 1 only
      {AXIS_COLS, 1, 29, 29, false, 1},       // every column of a single row
  };
  for (const Shape& s : shapes) {
    for (int flavour = 0; flavour < 2; ++flavour) {
      IndexedCase c;
      c.axis = s.axis;
      c.rows = s.rows;
      c.cols = s.cols;
      c.k = s.k;
      c.dups = s.dups;
      c.sm = s.sm;
      c.full_rule = flavour ? RULE_SGDM : RULE_ADAMW;
      c.free_rule = flavour ? RULE_SGD : RULE_SIGN;
      c.p_dtype = c.state_dtype = flavour ? F32 : BF16;
      c.use_gc = !flavour;
      c.scale = true;
      run_case(c);
    }
  }
  IndexedCase distinct_flagged;  // has_duplicates set although no line repeats: still exact
  distinct_flagged.axis = AXIS_COLS;
  distinct_flagged.flag_duplicates = true;
  run_case(distinct_flagged);
  for (int32_t axis : {AXIS_ROWS, AXIS_COLS}) {
    IndexedCase grass;  // compressed path as Grass runs it: gc, no g, no mask, no state-free rule
    grass.axis = axis;
    grass.use_gc = true;
    grass.gc_dtype = F32;
    grass.null_g = grass.null_mask = true;
    grass.scale = true;
    run_case(grass);
    IndexedCase stateless;  // no state-full rule: pass 2 is skipped
    stateless.axis = axis;
    stateless.full_rule = RULE_NONE;
    stateless.free_rule = RULE_SGD;
    run_case(stateless);
    IndexedCase untouched;  // decay 1 and no state-free rule: no pass 1 at all
    untouched.axis = axis;
    untouched.decay = 1.f;
    untouched.dups = true;
    run_case(untouched);
  }
}

// Lion as the state-full rule of lines and coordinates: each axis with and without repeats and a
// compressed gradient, with each state-free partner, bf16 params or state, rho, slot steps.
void run_lion() {
  struct LionCase {
    int32_t axis;
    bool dups, use_gc;
    int32_t free_rule, p_dtype, state_dtype;
    bool scale, slot_steps;
  };
  const LionCase cases[] = {
      {AXIS_ROWS, false, false, RULE_SIGN, BF16, F32, false, false},
      {AXIS_ROWS, false, true, RULE_SGD, F32, BF16, true, false},
      {AXIS_ROWS, true, false, RULE_NONE, F32, F32, false, true},
      {AXIS_ROWS, true, true, RULE_SIGN, F32, F32, true, false},
      {AXIS_COLS, false, false, RULE_SGD, BF16, F32, false, false},
      {AXIS_COLS, false, true, RULE_NONE, F32, BF16, true, false},
      {AXIS_COLS, true, false, RULE_SIGN, F32, F32, false, false},
      {AXIS_COLS, true, true, RULE_SGD, F32, F32, true, true},
      {AXIS_COORDS, false, false, RULE_NONE, BF16, F32, false, false},
      {AXIS_COORDS, false, true, RULE_SIGN, F32, BF16, true, false},
      {AXIS_COORDS, true, false, RULE_SGD, F32, F32, false, false},
      {AXIS_COORDS, true, true, RULE_NONE, F32, F32, true, false},
  };
  int n = 0;
  for (const LionCase& l : cases) {
    IndexedCase c;
    c.axis = l.axis;
    c.k = l.axis == AXIS_COORDS ? 300 : 9;
    c.dups = l.dups;
    c.use_gc = l.use_gc;
    c.full_rule = RULE_LION;
    c.free_rule = l.free_rule;
    c.p_dtype = l.p_dtype;
    c.state_dtype = l.state_dtype;
    c.scale = l.scale;
    c.slot_steps = l.slot_steps;
    c.sm = 1 + (n++) % 3;
    run_case(c);
  }
}

}  // namespace

void check_indexed() {
  begin_group("indexed_step");
  run_grid();
  run_edges();
  run_lion();
  end_group();
}

}  // namespace ks
