// indexed_step: the full grid of axis x duplicates x compressed gradient x state-free rule x
// parameter dtype x importance weights x state-full rule (432 cases on a 37 x 29 matrix), with
// state dtype, gradient dtypes, decay, gscale and grid size varied along it; then shapes chosen
// for their edges: line counts that are powers of two (the radix sort's bit count), lines longer
// than the grid's stride, one repeated element, k = 0, no state-full rule, and the Grass
// compressed-gradient path with no g and no mask.
#include <algorithm>
#include <numeric>
#include <string>
#include <vector>
#include "checks.h"
#include "harness.h"
#include "optimizer_kernels.cuh"

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

  std::string name() const {
    const char* axes[] = {"rows", "cols", "coords"};
    return std::string("indexed ") + axes[axis] + " " + std::to_string(rows) + "x" + std::to_string(cols) +
           " k=" + std::to_string(k) + (dups ? " dups" : "") + (use_gc ? " gc:" : "") +
           (use_gc ? dtype_name(gc_dtype) : "") + " full=" + rule_name(full_rule) + " free=" + rule_name(free_rule) +
           " p:" + dtype_name(p_dtype) + " g:" + (null_g ? "null" : dtype_name(g_dtype)) + " state:" +
           dtype_name(state_dtype) + (scale ? " rho" : "") + (gscale ? " gscale" : "") + (null_mask ? " nomask" : "") +
           (flag_duplicates ? " flagged" : "") + " decay=" + (decay == 1.f ? "1" : "0.99") + " sm=" + std::to_string(sm);
  }
};

RuleScalars full_rule(int32_t rule) {
  if (rule == RULE_ADAMW) return adam();
  if (rule == RULE_SGDM) return sgdm(false, false, 0.9f, 0.02f);
  return simple_rule(rule);
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
    j.decay = c.decay;
    j.state_full = full_rule(c.full_rule);
    j.state_free = simple_rule(c.free_rule, 0.02f);
    j.has_duplicates = c.dups || c.flag_duplicates;
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
      {AXIS_ROWS, 64, 3, 20, true, 2},       // 64 lines: the sort's key bits are exactly 6
      {AXIS_COLS, 3, 64, 20, true, 2},
      {AXIS_ROWS, 3, 3000, 2, false, 1},     // lines longer than the grid stride (2048 threads)
      {AXIS_ROWS, 3, 3000, 2, true, 1},
      {AXIS_COLS, 3000, 3, 2, true, 1},
      {AXIS_COLS, 3000, 3, 3, false, 3},
      {AXIS_COORDS, 1, 1, 3, true, 1},       // one element, selected three times
      {AXIS_COORDS, 32, 32, 1024, true, 2},  // 1024 lines: 10 key bits, many repeats
      {AXIS_COORDS, 32, 32, 1024, false, 2}, // every element once
      {AXIS_ROWS, 37, 29, 0, false, 2},      // nothing selected: pass 1 only
      {AXIS_COLS, 1, 29, 29, false, 1},      // every column of a single row
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

}  // namespace

void check_indexed() {
  begin_group("indexed_step");
  run_grid();
  run_edges();
  end_group();
}

}  // namespace ks
