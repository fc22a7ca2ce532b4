// Selections of lines of a matrix, gathered and scattered by index: COLUMNS, ROWS and
// COORDINATES (distinct lines drawn uniformly: FRUGAL's column/row/coordinate variants) and GRASS
// (lines chosen from the gradient's line norms, top-r or sampled, with importance scales).
#include <algorithm>
#include <climits>
#include <cstring>
#include <string>
#include <vector>
#include "../../math/dtype_convert.h"
#include "../errors.h"
#include "../optimizer.h"
#include "../selection.h"
#include "selection_state.h"

namespace frugal {

namespace {

std::string label(const ParamState& p) { return "param " + std::to_string(p.index); }

// The largest per-line step counter a restore accepts: the next step advances it by one (int32).
constexpr int64_t kMaxSlotStep = INT32_MAX - 1;

class LineSelection : public SelectionState {
 public:
  using SelectionState::SelectionState;

  void check_refresh(const SelectionContext& ctx, const ParamState& p) const override {
    const frugal_group_options& o = ctx.options();
    if (!o.external_selection) return check_own_choice(o, p);
    // The caller's indices (the caller's choice was given: step_checks.cpp checked that).
    int64_t lines = LineGeometry{axis_for(o, p), p.rows, p.cols}.lines();
    std::vector<char> seen(lines, 0);
    const std::vector<int32_t>& idx = p.pending_indices;
    for (size_t j = 0; j < idx.size(); j++) {
      if (idx[j] < 0 || idx[j] >= lines)
        invalid("indices[" + std::to_string(j) + "]: " + std::to_string(idx[j]) + " is outside 0.." +
                std::to_string(lines - 1) + " for " + label(p));
      if (seen[idx[j]] && !repeats_allowed())
        invalid("indices: " + std::to_string(idx[j]) + " appears twice for " + label(p) + " (selection '" + kind_.name +
                "' takes distinct indices)");
      seen[idx[j]] = 1;
    }
  }

  void check_step(const SelectionContext& ctx, const ParamState& p) const override {
    // Each per-line counter is at most the state step (restore's verify, and every step advances
    // both), and a refresh carries them (no resets): at a state step of 2^31 - 1 the next step
    // would take a counter past int32, giving that line a negative step's bias correction.
    if (count_ && per_slot_steps(ctx.options()) && p.state_step >= INT32_MAX)
      fail(FRUGAL_ERR_STATE, label(p) + ": its state step is " + std::to_string(p.state_step) +
                                 " and its per-line step counters (slot_step, int32) would overflow at the next step");
  }

  void refresh(SelectionContext& ctx, ParamState& p, StreamHandle s) override {
    const frugal_group_options& o = ctx.options();
    // A selection read off the gradient waits for a step that has one; the old one stays.
    if (!o.external_selection && chooses_from_gradient() && !p.grad) return;
    std::vector<int32_t> idx;
    std::vector<float> scales;
    axis_ = axis_for(o, p);
    if (o.external_selection) {  // indices checked by check_step
      idx = p.pending_indices;
      scales = p.pending_scales;
      p.pending = false;
      if (scales.empty()) scales.assign(idx.size(), 1.f);
    } else {
      choose(ctx, p, idx, scales, s);
    }
    install(ctx, p, idx, scales, !o.reset_statistics, s);
  }

  void step(SelectionContext& ctx, ParamState& p, const float* gscale, std::vector<ElementwiseJob>&,
            StreamHandle s) override {
    const frugal_group_options& o = ctx.options();
    if (count_ == 0) return step_state_free_only(ctx, p, gscale, s);
    p.state_step++;
    IndexedJob j{};
    j.p = p.data;
    j.p_dtype = p.dtype;
    j.g = p.grad;
    j.g_dtype = p.grad_dtype;
    j.gc = p.gc;
    j.gc_dtype = p.gc_dtype;
    j.rows = p.rows;
    j.cols = p.cols;
    j.axis = axis_;
    j.idx = indices_.as<int32_t>();
    j.k = count_;
    j.scale = scales_.as<float>();
    j.mask = mask_.as<uint8_t>();
    j.m = p.m.get();
    j.v = p.v.get();
    j.state_dtype = o.state_dtype;
    j.decay = decay_factor(o);
    j.state_full = state_full_scalars(o, p.state_step);
    j.state_free = state_free_scalars(o);
    j.has_duplicates = has_duplicates_;
    if (slot_steps_) {
      j.slot_step = slot_steps_.as<int32_t>();
      j.bias = adam_bias_inputs(o);
    }
    ctx.backend.indexed_step(j, gscale, s);
  }

  int64_t compressed_gradient_elems(const ParamState& p) const override { return count_ * geometry(p).line_length(); }

  void describe(frugal_selection_info& out) const override {
    out.kind = kind_.id;
    out.axis = axis_;
    out.count = count_;
    out.indices_device = indices_.as<int32_t>();
    out.scales_device = scales_.as<float>();
  }
  void counters(const ParamState&, frugal_param_counters& c) const override {
    c.kind = kind_.id;
    c.axis = axis_;
    c.selection_count = count_;
  }
  void list_state(StateTensorList& out) const override {
    out.add("indices", indices_, FRUGAL_I32, count_);
    out.add("scales", scales_, FRUGAL_F32, count_);
    out.add("mask", mask_, FRUGAL_I32, (int64_t)(mask_.bytes() / 4));
    out.add("slot_step", slot_steps_, FRUGAL_I32, (int64_t)(slot_steps_.bytes() / 4));
  }
  uint64_t state_bytes() const override {
    return indices_.bytes() + scales_.bytes() + mask_.bytes() + slot_steps_.bytes();
  }

  // The param's axis from the start, so a checkpoint saved before the first refresh records it.
  void attach(SelectionContext& ctx, ParamState& p) override { axis_ = axis_for(ctx.options(), p); }

  void restore(SelectionContext& ctx, ParamState& p, const frugal_param_counters& c) override {
    // The axis must be the one these options give this param: another would index the moments
    // with the other side's line length (a crafted or edited checkpoint). With nothing selected
    // (saved before the first refresh, when older versions wrote 0) the axis carries nothing.
    const int32_t expected = axis_for(ctx.options(), p);
    const int32_t axis = c.selection_count ? c.axis : expected;
    check_restored_axis(axis);
    if (axis != expected)
      invalid("counters.axis: " + std::to_string(axis) + " does not fit selection '" + kind_.name +
              "' on this param with these options (expected " + std::to_string(expected) + ")");
    const LineGeometry geo{axis, p.rows, p.cols};
    const int64_t count = c.selection_count;
    if (count > geo.lines() * (repeats_allowed() ? 64 : 1))
      invalid("counters.selection_count: " + std::to_string(count) + " is too large for this param");
    // Each line's counter starts at the param's state step (below) and advances once per step
    // in int32: one at 2^31 - 1 would overflow at the next step.
    if (count && per_slot_steps(ctx.options()) && c.state_step > kMaxSlotStep)
      invalid("counters.state_step: " + std::to_string(c.state_step) +
              " is too large for per-line step counters (int32, advanced at every step): expected at most " +
              std::to_string(kMaxSlotStep));
    // Every new buffer into locals first, moments included: running out of memory at any of them
    // leaves the param as it was (the old state is freed only by the swap below).
    Buffer indices, scales, mask, steps;
    if (count) {
      indices = Buffer(ctx.device, count * 4, FRUGAL_MEM_OPTIMIZER_STATE);
      if (keeps_scales()) scales = Buffer(ctx.device, count * 4, FRUGAL_MEM_OPTIMIZER_STATE);
      mask = Buffer(ctx.device, geo.mask_bytes(), FRUGAL_MEM_OPTIMIZER_STATE);
      // Zeroed, as frugal.h promises the caller (verify refuses them until they are filled).
      for (Buffer* b : {&indices, &scales, &mask})
        if (*b) ctx.backend.zero(b->get(), b->bytes(), nullptr);
      if (per_slot_steps(ctx.options())) {
        // A checkpoint from before per-entry counters has none: every entry takes the param's
        // step counter, which is what that checkpoint's run used. A newer one overwrites these.
        steps = Buffer(ctx.device, count * 4, FRUGAL_MEM_OPTIMIZER_STATE);
        std::vector<int32_t> host(count, (int32_t)c.state_step);
        ctx.backend.copy_from_host(steps.get(), host.data(), host.size() * 4, nullptr);
        ctx.backend.synchronize(nullptr);
      }
    }
    Moments moments = ctx.new_moments(count * geo.line_length(), nullptr);
    // Everything exists: the swap cannot fail.
    indices_ = std::move(indices);
    scales_ = std::move(scales);
    mask_ = std::move(mask);
    slot_steps_ = std::move(steps);
    moments.install(p);
    axis_ = axis;
    count_ = count;
    // The restored indices arrive after this call: assume repeats wherever they can occur, so the
    // scatter accumulates (always correct; only slower when there are none).
    has_duplicates_ = repeats_allowed() && (ctx.options().grass_replacement || ctx.options().external_selection);
    // The caller fills the indices next: they are checked before they are ever used as addresses.
    unverified_ = count_ > 0;
  }

  void verify(SelectionContext& ctx, ParamState& p, StreamHandle s) override {
    if (!unverified_) return;
    const int64_t lines = geometry(p).lines();
    std::vector<int32_t> idx(count_);
    ctx.backend.copy_to_host(idx.data(), indices_.get(), count_ * 4, s);
    std::vector<uint8_t> mask(mask_.bytes(), 0);
    bool dup = false;
    for (int64_t j = 0; j < count_; j++) {
      if (idx[j] < 0 || idx[j] >= lines)
        invalid(label(p) + ": restored index " + std::to_string(idx[j]) + " is outside 0.." +
                std::to_string(lines - 1));
      if (mask[idx[j]]) {
        if (!repeats_allowed())
          invalid(label(p) + ": restored index " + std::to_string(idx[j]) + " appears twice (selection '" + kind_.name +
                  "' takes distinct indices)");
        dup = true;
      }
      mask[idx[j]] = 1;
    }
    if (slot_steps_) {
      // A line's counter counts the steps since it entered the selection, so it never exceeds
      // the param's state step (the steps since the state began); a larger one would give that
      // line a bias correction its run never had, and near 2^31 overflow at the next step.
      // restore() refused a state step above kMaxSlotStep, so this bound keeps the next advance
      // within int32 too.
      std::vector<int32_t> steps(count_);
      ctx.backend.copy_to_host(steps.data(), slot_steps_.get(), count_ * 4, s);
      for (int64_t j = 0; j < count_; j++)
        if (steps[j] < 0 || steps[j] > p.state_step)
          invalid(label(p) + ": restored slot_step[" + std::to_string(j) + "] is " + std::to_string(steps[j]) +
                  "; expected a step count from 0 to counters.state_step (" + std::to_string(p.state_step) +
                  "): a line's steps cannot outnumber the param's");
    }
    // The mask is derived from the indices, never trusted from the file.
    ctx.backend.copy_from_host(mask_.get(), mask.data(), mask.size(), s);
    ctx.backend.synchronize(s);
    has_duplicates_ = dup;
    unverified_ = false;
  }

 protected:
  // Which way this param's lines run.
  virtual int32_t axis_for(const frugal_group_options& o, const ParamState& p) const = 0;
  virtual void check_restored_axis(int32_t axis) const = 0;
  // A refresh's own choice (not the caller's): the indices and their scales.
  virtual void choose(SelectionContext& ctx, ParamState& p, std::vector<int32_t>& idx, std::vector<float>& scales,
                      StreamHandle s) = 0;
  // What a refresh refuses of its own choice at this step.
  virtual void check_own_choice(const frugal_group_options& /*o*/, const ParamState& /*p*/) const {}
  virtual bool chooses_from_gradient() const { return false; }
  virtual bool repeats_allowed() const { return false; }  // an index may appear more than once
  virtual bool keeps_scales() const { return false; }     // importance scales (else all 1)

  LineGeometry geometry(const ParamState& p) const { return LineGeometry{axis_, p.rows, p.cols}; }

 private:
  // One int32 step counter per selection entry, restarted for a line that enters and carried for
  // one that stays, so each line's bias correction is its own (no resets, a rule with state).
  static bool per_slot_steps(const frugal_group_options& o) {
    return !o.reset_statistics && rule_state_slots(o.state_full) > 0;
  }

  // Puts a new choice in place; with keep_state, moments (and per-entry step counters) of lines
  // the old choice also held move to their new slots, the rest start at zero.
  void install(SelectionContext& ctx, ParamState& p, const std::vector<int32_t>& idx, const std::vector<float>& scales,
               bool keep_state, StreamHandle s) {
    const LineGeometry geo = geometry(p);
    const int64_t line_len = geo.line_length();
    const int64_t k = (int64_t)idx.size();
    Backend& backend = ctx.backend;
    if (k == 0) {
      // density 0: nothing is state-full, so no indices, mask or moments are kept; the step gives
      // the whole matrix the state-free rule.
      indices_.reset();
      scales_.reset();
      mask_.reset();
      slot_steps_.reset();
      p.m.reset();
      p.v.reset();
      p.state_elems = 0;
      p.state_step = 0;
      count_ = 0;
      has_duplicates_ = false;
      return;
    }
    std::vector<uint8_t> mask(geo.mask_bytes(), 0);
    bool dup = false;
    for (int32_t i : idx) {
      if (mask[i]) dup = true;
      mask[i] = 1;
    }
    // Carrying moments: a line kept from the old selection keeps its slot's values.
    std::vector<uint8_t> old_m, old_v;
    std::vector<int32_t> old_idx, old_steps;
    const frugal_group_options& o = ctx.options();
    int64_t esize = dtype_size(o.state_dtype);
    bool carry = keep_state && p.m && count_ > 0;
    if (carry) {
      old_idx.resize(count_);
      backend.copy_to_host(old_idx.data(), indices_.get(), count_ * 4, s);
      old_m.resize(p.m.bytes());
      backend.copy_to_host(old_m.data(), p.m.get(), p.m.bytes(), s);
      if (p.v) {
        old_v.resize(p.v.bytes());
        backend.copy_to_host(old_v.data(), p.v.get(), p.v.bytes(), s);
      }
      if (slot_steps_) {
        old_steps.resize(count_);
        backend.copy_to_host(old_steps.data(), slot_steps_.get(), count_ * 4, s);
      } else {
        old_steps.assign(count_, (int32_t)std::min<int64_t>(p.state_step, INT32_MAX));
      }
    }
    Buffer new_idx(ctx.device, k * 4, FRUGAL_MEM_OPTIMIZER_STATE);
    Buffer new_scales;
    if (keeps_scales()) new_scales = Buffer(ctx.device, k * 4, FRUGAL_MEM_OPTIMIZER_STATE);
    Buffer new_mask(ctx.device, mask.size(), FRUGAL_MEM_OPTIMIZER_STATE);
    // Per-entry step counters: 0 for every entry here; carried ones are filled in below.
    std::vector<int32_t> steps;
    Buffer new_steps;
    if (per_slot_steps(o)) {
      steps.assign(k, 0);
      new_steps = Buffer(ctx.device, k * 4, FRUGAL_MEM_OPTIMIZER_STATE);
    }
    backend.copy_from_host(new_idx.get(), idx.data(), k * 4, s);
    if (new_scales) backend.copy_from_host(new_scales.get(), scales.data(), k * 4, s);
    backend.copy_from_host(new_mask.get(), mask.data(), mask.size(), s);
    int64_t old_count = count_;
    indices_ = std::move(new_idx);
    scales_ = std::move(new_scales);
    mask_ = std::move(new_mask);
    slot_steps_ = std::move(new_steps);
    count_ = k;
    has_duplicates_ = dup;
    int64_t saved_step = p.state_step;
    ctx.allocate_moments(p, k * line_len, s);
    if (carry) {
      std::vector<uint8_t> new_m(p.m.bytes(), 0), new_v(p.v ? p.v.bytes() : 0, 0);
      std::vector<char> used(old_count, 0);
      for (int64_t j = 0; j < k; j++) {
        int64_t from = -1;
        for (int64_t oj = 0; oj < old_count; oj++)
          if (!used[oj] && old_idx[oj] == idx[j]) {
            from = oj;
            used[oj] = 1;
            break;
          }
        if (from < 0) continue;
        if (!steps.empty()) steps[j] = old_steps[from];
        for (int64_t t = 0; t < line_len; t++) {
          int64_t dst = geo.slot(j, t, k);
          int64_t src = geo.slot(from, t, old_count);
          memcpy(&new_m[dst * esize], &old_m[src * esize], esize);
          if (p.v) memcpy(&new_v[dst * esize], &old_v[src * esize], esize);
        }
      }
      backend.copy_from_host(p.m.get(), new_m.data(), new_m.size(), s);
      if (p.v) backend.copy_from_host(p.v.get(), new_v.data(), new_v.size(), s);
      p.state_step = saved_step;
    }
    if (slot_steps_) backend.copy_from_host(slot_steps_.get(), steps.data(), k * 4, s);
    if (carry || slot_steps_) backend.synchronize(s);  // the host vectors die at the end of this scope
  }

  int32_t axis_ = AXIS_ROWS;  // set at attach(): the axis these options give the param
  int64_t count_ = 0;
  bool has_duplicates_ = false;
  bool unverified_ = false;  // restored indices not yet checked against the param's shape
  Buffer indices_, scales_, mask_;
  Buffer slot_steps_;
};

// Columns, rows or coordinates: distinct lines drawn uniformly, int(lines * density) of them.
class UniformLines : public LineSelection {
 public:
  UniformLines(const SelectionKind& kind, int32_t axis) : LineSelection(kind), axis_(axis) {}

 protected:
  int32_t axis_for(const frugal_group_options&, const ParamState&) const override { return axis_; }
  void check_restored_axis(int32_t axis) const override {
    if (axis != axis_)
      invalid("counters.axis: " + std::to_string(axis) + " does not fit selection '" + kind_.name + "'");
  }
  void choose(SelectionContext& ctx, ParamState& p, std::vector<int32_t>& idx, std::vector<float>& scales,
              StreamHandle) override {
    int64_t lines = LineGeometry{axis_, p.rows, p.cols}.lines();
    idx = choose_distinct(lines, line_count(lines, ctx.options().density), ctx.group.rng);
    scales.assign(idx.size(), 1.f);
  }

 private:
  const int32_t axis_;
};

// Grass: r lines (rank, else int(lines * density)) by the gradient's line norms.
class GrassLines : public LineSelection {
 public:
  using LineSelection::LineSelection;

 protected:
  int32_t axis_for(const frugal_group_options& o, const ParamState& p) const override {
    if (o.side == FRUGAL_SIDE_LEFT) return AXIS_ROWS;
    if (o.side == FRUGAL_SIDE_RIGHT) return AXIS_COLS;
    if (o.side == FRUGAL_SIDE_REVERSE_STD) return p.rows <= p.cols ? AXIS_COLS : AXIS_ROWS;
    return p.rows <= p.cols ? AXIS_ROWS : AXIS_COLS;  // std: the smaller side
  }
  void check_restored_axis(int32_t axis) const override {
    if (axis != AXIS_ROWS && axis != AXIS_COLS)
      invalid("counters.axis: expected 0 (rows) or 1 (columns), got " + std::to_string(axis));
  }
  void check_own_choice(const frugal_group_options& o, const ParamState& p) const override {
    if (!p.grad) return;
    int64_t lines = LineGeometry{axis_for(o, p), p.rows, p.cols}.lines();
    if (o.grass_replacement && o.rank > 64 * lines)
      invalid("rank: " + std::to_string(o.rank) + " draws with replacement for " + std::to_string(lines) +
              " lines of " + label(p) + "; expected at most 64 per line");
  }
  void choose(SelectionContext& ctx, ParamState& p, std::vector<int32_t>& idx, std::vector<float>& scales,
              StreamHandle s) override {
    const frugal_group_options& o = ctx.options();
    const LineGeometry geo = geometry(p);
    const int64_t lines = geo.lines();
    // The draw count was checked by check_step.
    int64_t r =
        o.rank > 0 ? std::min<int64_t>(o.rank, o.grass_replacement ? o.rank : lines) : line_count(lines, o.density);
    if (r == 0) return;  // nothing state-full
    Buffer norms(ctx.device, lines * 4, FRUGAL_MEM_WORKSPACE);
    ctx.backend.line_norms(p.grad, p.grad_dtype, p.rows, p.cols, geo.axis, norms.as<float>(), s);
    std::vector<float> host(lines);
    ctx.backend.copy_to_host(host.data(), norms.get(), lines * 4, s);
    GrassChoice c = choose_grass(host, r, o.grass_sampling, o.grass_replacement != 0, ctx.group.rng);
    idx = std::move(c.indices);
    scales = std::move(c.scales);
  }
  bool chooses_from_gradient() const override { return true; }
  bool repeats_allowed() const override { return true; }
  bool keeps_scales() const override { return true; }
};

}  // namespace

std::unique_ptr<SelectionState> make_line_selection(const SelectionKind& kind) {
  switch (kind.id) {
    case FRUGAL_SEL_COLUMNS: return std::make_unique<UniformLines>(kind, AXIS_COLS);
    case FRUGAL_SEL_ROWS: return std::make_unique<UniformLines>(kind, AXIS_ROWS);
    case FRUGAL_SEL_COORDINATES: return std::make_unique<UniformLines>(kind, AXIS_COORDS);
    default: return std::make_unique<GrassLines>(kind);
  }
}

}  // namespace frugal
