// Selections of whole tensors: ALL (every param state-full: AdamW, SGDM), NONE (none: signSGD,
// SGD) and BLOCKS (whole params, or blocks of params sharing a block id, chosen across the
// group: FRUGAL's blocks, BAdam with its block orders).
#include <string>
#include <vector>
#include "../errors.h"
#include "../optimizer.h"
#include "../selection.h"
#include "selection_state.h"

namespace frugal {

namespace {

class WholeTensorSelection : public SelectionState {
 public:
  using SelectionState::SelectionState;

  void step(SelectionContext& ctx, ParamState& p, const float*, std::vector<ElementwiseJob>& jobs,
            StreamHandle) override {
    const frugal_group_options& o = ctx.options();
    ElementwiseJob j = whole_tensor_job(p, o);
    if (state_full()) {
      p.state_step++;
      j.rule = state_full_rule(o, p.state_step);
      j.m = p.m.get();
      j.v = p.v.get();
    } else {
      j.rule = state_free_scalars(o);
      // FREEZE (BAdam, blocks only): a block outside the active set is not touched at all, decay
      // included. NONE (FRUGAL's rule 'no') still decays it, as the authors decay every param first.
      if (o.state_free == FRUGAL_RULE_FREEZE) return;
      if (j.rule.rule == RULE_NONE && j.decay == 1.f) return;  // nothing to apply
    }
    jobs.push_back(j);
  }

  void describe(frugal_selection_info& out) const override {
    out.kind = kind_.id;
    out.active = active_;
    out.axis = axis_;
    out.count = count_;
  }
  void counters(const ParamState&, frugal_param_counters& c) const override {
    c.active = active_;
    c.kind = kind_.id;
    c.axis = axis_;
    c.selection_count = count_;
  }
  void restore(SelectionContext& ctx, ParamState& p, const frugal_param_counters& c) override {
    int64_t elems = restored_state_elems(p, c);  // refuses before anything changes
    // The new moments exist before the old ones go: running out of memory leaves the param as it was.
    if (elems >= 0) ctx.new_moments(elems, nullptr).install(p);
    active_ = c.active;
    axis_ = c.axis;
    count_ = c.selection_count;
  }

 protected:
  virtual bool state_full() const = 0;
  virtual RuleScalars state_full_rule(const frugal_group_options& o, int64_t t) const {
    return state_full_scalars(o, t);
  }
  // The moments a restored param holds (refusing counters that do not fit it); -1: it keeps none.
  virtual int64_t restored_state_elems(const ParamState& p, const frugal_param_counters& c) const = 0;

  // A whole tensor has no axis or count of its own: these are reported as a checkpoint gave them.
  bool active_ = false;
  int32_t axis_ = 0;
  int64_t count_ = 0;
};

class AllSelection : public WholeTensorSelection {
 public:
  using WholeTensorSelection::WholeTensorSelection;
  void attach(SelectionContext& ctx, ParamState& p) override { ctx.allocate_moments(p, p.numel, nullptr); }

 protected:
  bool state_full() const override { return true; }
  RuleScalars state_full_rule(const frugal_group_options& o, int64_t t) const override {
    if (o.selection == FRUGAL_SEL_ALL) return state_full_scalars(o, t);
    // A regular (1-D) param of a group that selects is never scaled: the scale belongs to the
    // selected part.
    frugal_group_options plain = o;
    plain.state_full_lr_scale = 1.f;
    return state_full_scalars(plain, t);
  }
  int64_t restored_state_elems(const ParamState& p, const frugal_param_counters&) const override { return p.numel; }
};

class NoneSelection : public WholeTensorSelection {
 public:
  using WholeTensorSelection::WholeTensorSelection;

 protected:
  bool state_full() const override { return false; }
  int64_t restored_state_elems(const ParamState&, const frugal_param_counters&) const override { return -1; }
};

// Blocks in order of first appearance: a param with block_id 0 alone, else all params sharing the id.
std::vector<std::vector<ParamState*>> group_blocks(const SelectionContext& ctx) {
  std::vector<std::vector<ParamState*>> blocks;
  std::vector<std::pair<int32_t, size_t>> shared;  // block_id -> position in blocks
  for (ParamState* p : ctx.group_params()) {
    if (p->kind() != FRUGAL_SEL_BLOCKS) continue;  // a 1-D param without a block id is ALL
    size_t pos = blocks.size();
    if (p->block_id > 0) {
      for (auto& e : shared)
        if (e.first == p->block_id) pos = e.second;
      if (pos == blocks.size()) shared.push_back({p->block_id, pos});
    }
    if (pos == blocks.size()) blocks.emplace_back();
    blocks[pos].push_back(p);
  }
  return blocks;
}

class BlocksSelection : public WholeTensorSelection {
 public:
  using WholeTensorSelection::WholeTensorSelection;

  void check_caller_selection(const ParamState&, int64_t count) const override {
    if (count != 1)
      invalid("count: a block selection is one flag (1 active, 0 inactive), got " + std::to_string(count) + " values");
  }
  void check_refresh(const SelectionContext& ctx, const ParamState&) const override {
    const frugal_group_options& o = ctx.options();
    if (o.external_selection || o.block_order != FRUGAL_ORDER_MIRROR) return;
    int64_t n = (int64_t)group_blocks(ctx).size(), count = block_count(n, o.density);
    if (count % 2 != 0)
      invalid("block_order: mirror makes blocks state-full in pairs (i, N-1-i) and needs an even count; " +
              std::to_string(n) + " blocks at density " + std::to_string(o.density) +
              " give round(N * density) = " + std::to_string(count));
  }
  void counters(const ParamState& p, frugal_param_counters& c) const override {
    WholeTensorSelection::counters(p, c);
    c.selection_count = p.state_elems;  // whether moments are held
  }
  void set_active(bool on) { active_ = on; }

 protected:
  bool state_full() const override { return active_; }
  int64_t restored_state_elems(const ParamState& p, const frugal_param_counters& c) const override {
    // An active block is stepped by its state-full rule, which keeps moments (a partial selection's
    // rule always does): active without them would step with moments of zero, silently.
    if (c.active && c.selection_count == 0)
      invalid("counters.active: an active block holds moments for all " + std::to_string(p.numel) +
              " elements, but counters.selection_count is 0");
    if (c.selection_count != 0 && c.selection_count != p.numel)
      invalid("counters.selection_count: a block holds moments for all " + std::to_string(p.numel) +
              " elements or none, got " + std::to_string(c.selection_count));
    return c.selection_count;
  }
};

}  // namespace

std::unique_ptr<SelectionState> make_whole_tensor_selection(const SelectionKind& kind) {
  switch (kind.id) {
    case FRUGAL_SEL_ALL: return std::make_unique<AllSelection>(kind);
    case FRUGAL_SEL_NONE: return std::make_unique<NoneSelection>(kind);
    default: return std::make_unique<BlocksSelection>(kind);
  }
}

// A param too small to project is a block of its own only when it shares a block id (BAdam's
// layer norms switch with their layer); otherwise it is a regular param.
bool takes_block_param(const frugal_param_desc& d) { return d.ndim >= 2 || d.block_id > 0; }

// A blocks refresh chooses across the group: round(N * density) of its N blocks, by the block
// order, or the caller's flags.
void refresh_blocks(SelectionContext& ctx, StreamHandle s) {
  const frugal_group_options& o = ctx.options();
  GroupState& g = ctx.group;
  const std::vector<std::vector<ParamState*>> blocks = group_blocks(ctx);
  std::vector<bool> active(blocks.size(), false);
  if (o.external_selection) {
    for (size_t b = 0; b < blocks.size(); b++) active[b] = blocks[b].front()->pending_indices.at(0) != 0;
  } else if (!blocks.empty()) {
    int64_t n = (int64_t)blocks.size();
    int64_t count = block_count(n, o.density);
    int64_t refresh = g.step / o.update_gap;
    for (int64_t pos : choose_blocks(o.block_order, n, count, refresh, g.rng)) active[pos] = true;
  }
  // Two passes: blocks leaving the state-full set free their moments before the entering ones
  // allocate, so a switch never holds both sets at once (the state's peak is its steady size).
  for (int pass = 0; pass < 2; pass++) {
    for (size_t b = 0; b < blocks.size(); b++) {
      for (ParamState* pp : blocks[b]) {
        ParamState& p = *pp;
        bool on = o.external_selection ? p.pending_indices.at(0) != 0 : (bool)active[b];
        if (pass == 0) {
          if (!on) {
            // FRUGAL and BAdam drop the state of blocks that leave the state-full set, whatever
            // reset_statistics says (the authors' BlockOptimizer clears every block's state).
            p.m.reset();
            p.v.reset();
            p.state_elems = 0;
            p.state_step = 0;
          }
          continue;
        }
        p.pending = false;
        static_cast<BlocksSelection&>(*p.selection).set_active(on);
        // Each refresh starts the chosen blocks afresh (moments and bias correction), as the
        // authors' BlockOptimizer does for every block it (re)activates.
        if (on) ctx.allocate_moments(p, p.numel, s);
      }
    }
  }
}

}  // namespace frugal
