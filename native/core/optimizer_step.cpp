// One optimizer step: clip factor on the device, refreshes where due, then the updates. The
// whole-tensor updates of every group go to the backend as one multi-tensor job list.
#include <cmath>
#include "devices.h"
#include "errors.h"
#include "optimizer.h"

namespace frugal {

float* Optimizer::workspace(int slot, int64_t floats) {
  Buffer& b = workspaces_[slot];
  uint64_t need = (uint64_t)std::max<int64_t>(floats, 1) * 4;
  if (b.bytes() < need) {
    b.reset();
    b = Buffer(device_, need, FRUGAL_MEM_WORKSPACE);
  }
  return b.as<float>();
}

const float* Optimizer::compute_clip_scale(StreamHandle s) {
  if (clip_ <= 0) return nullptr;
  if (!clip_scalars_) clip_scalars_ = Buffer(device_, 8, FRUGAL_MEM_WORKSPACE);
  std::vector<const void*> ptrs;
  std::vector<int32_t> dtypes;
  std::vector<int64_t> ns;
  for (auto& pp : params_) {
    ParamState& p = *pp;
    if (!p.gc && !p.grad) continue;  // no gradient this step: skipped, as torch does
    if (p.gc) {
      ptrs.push_back(p.gc);
      dtypes.push_back(p.gc_dtype);
      ns.push_back(p.count * (p.axis == AXIS_ROWS ? p.cols : p.rows));
    } else {
      ptrs.push_back(p.grad);
      dtypes.push_back(p.grad_dtype);
      ns.push_back(p.numel);
    }
  }
  float* acc = clip_scalars_.as<float>();
  backend_->zero(acc, 4, s);
  backend_->sum_squares(ptrs.data(), dtypes.data(), ns.data(), ptrs.size(), acc, s);
  backend_->clip_factor(acc, clip_, acc + 1, s);
  return acc + 1;
}

void Optimizer::step(StreamHandle s) {
  // A compressed gradient serves the one step it was given for, whether that step succeeds or not.
  struct ClearCompressed {
    std::vector<std::unique_ptr<ParamState>>& params;
    ~ClearCompressed() {
      for (auto& p : params) p->gc = nullptr;
    }
  } clear_compressed{params_};
  for (auto& pp : params_)
    if (pp->unverified) verify_state(pp->index, s);
  // Validate everything before changing anything.
  for (auto& pp : params_) {
    ParamState& p = *pp;
    GroupState& g = groups_[p.group];
    bool refresh = needs_refresh(p.index);
    if (p.gc) {
      if (refresh)
        fail(FRUGAL_ERR_STATE, "param " + std::to_string(p.index) + ": step " + std::to_string(g.step) +
                                   " is a refresh and needs the full gradient; a compressed gradient was given");
      if (g.options.state_free != FRUGAL_RULE_NONE && !p.grad)
        invalid("param " + std::to_string(p.index) + ": its state-free rule needs the full gradient (grad is NULL)");
    }
  }
  const float* gscale = compute_clip_scale(s);
  for (GroupState& g : groups_)
    if (g.step % g.options.update_gap == 0) refresh_group(g, s);

  std::vector<ElementwiseJob> jobs;
  for (GroupState& g : groups_) {
    const frugal_group_options& o = g.options;
    float decay = (float)(1.0 - (double)o.lr * o.weight_decay);
    RuleScalars free_rule = state_free_scalars(o);
    for (int pi : g.params) {
      ParamState& p = *params_[pi];
      if (!p.grad && !p.gc) continue;  // torch semantics: a param without a gradient is not touched
      p.step++;
      switch (p.kind) {
        case FRUGAL_SEL_ALL:
        case FRUGAL_SEL_NONE:
        case FRUGAL_SEL_BLOCKS: {
          bool full = p.kind == FRUGAL_SEL_ALL || (p.kind == FRUGAL_SEL_BLOCKS && p.active);
          ElementwiseJob j{};
          j.p = p.data; j.p_dtype = p.dtype;
          j.g = p.grad; j.g_dtype = p.grad_dtype;
          j.state_dtype = o.state_dtype;
          j.n = p.numel;
          j.decay = decay;
          if (full) {
            p.state_step++;
            j.rule = state_full_scalars(o, p.state_step);
            // Regular (ALL) params are never scaled: the scale belongs to the projected part.
            if (p.kind == FRUGAL_SEL_ALL && o.selection != FRUGAL_SEL_ALL) {
              frugal_group_options plain = o;
              plain.state_full_lr_scale = 1.f;
              j.rule = state_full_scalars(plain, p.state_step);
            }
            j.m = p.m.get(); j.v = p.v.get();
          } else {
            j.rule = free_rule;
            // BAdam: a block outside the active set is not touched at all, decay included.
            if (p.kind == FRUGAL_SEL_BLOCKS && free_rule.rule == RULE_NONE) break;
          }
          jobs.push_back(j);
          break;
        }
        case FRUGAL_SEL_SVD:
        case FRUGAL_SEL_RANDOM_ORTHO:
        case FRUGAL_SEL_RANDPERM:
          step_dense(g, p, gscale, s);
          break;
        default:
          step_indexed(g, p, gscale, s);
          break;
      }
    }
    g.step++;
  }
  if (!jobs.empty()) backend_->elementwise_step(jobs.data(), jobs.size(), gscale, s);
}

// An index or dense selection that holds nothing (density 0): the whole matrix gets decay and the
// state-free rule, one elementwise job, no state.
void Optimizer::step_state_free_only(GroupState& g, ParamState& p, const float* gscale, StreamHandle s) {
  const frugal_group_options& o = g.options;
  ElementwiseJob j{};
  j.p = p.data; j.p_dtype = p.dtype;
  j.g = p.grad; j.g_dtype = p.grad_dtype;
  j.state_dtype = o.state_dtype;
  j.n = p.numel;
  j.decay = (float)(1.0 - (double)o.lr * o.weight_decay);
  j.rule = state_free_scalars(o);
  backend_->elementwise_step(&j, 1, gscale, s);
}

void Optimizer::step_indexed(GroupState& g, ParamState& p, const float* gscale, StreamHandle s) {
  const frugal_group_options& o = g.options;
  if (p.count == 0) return step_state_free_only(g, p, gscale, s);
  p.state_step++;
  IndexedJob j{};
  j.p = p.data; j.p_dtype = p.dtype;
  j.g = p.grad; j.g_dtype = p.grad_dtype;
  j.gc = p.gc; j.gc_dtype = p.gc_dtype;
  j.rows = p.rows; j.cols = p.cols;
  j.axis = p.axis;
  j.idx = p.indices.as<int32_t>();
  j.k = p.count;
  j.scale = p.scales.as<float>();
  j.mask = p.mask.as<uint8_t>();
  j.m = p.m.get(); j.v = p.v.get();
  j.state_dtype = o.state_dtype;
  j.decay = (float)(1.0 - (double)o.lr * o.weight_decay);
  j.state_full = state_full_scalars(o, p.state_step);
  j.state_free = state_free_scalars(o);
  j.has_duplicates = p.has_duplicates;
  if (p.slot_steps) {
    j.slot_step = p.slot_steps.as<int32_t>();
    j.bias = adam_bias_inputs(o);
  }
  backend_->indexed_step(j, gscale, s);
}

void Optimizer::step_dense(GroupState& g, ParamState& p, const float* gscale, StreamHandle s) {
  const frugal_group_options& o = g.options;
  if (p.count == 0) return step_state_free_only(g, p, gscale, s);
  p.state_step++;
  int64_t m = p.rows, n = p.cols, r = p.count;
  int64_t mn = p.numel;
  float* gf = workspace(0, mn);
  float* gc = workspace(1, r * (p.left ? n : m));
  float* full = workspace(2, mn);
  float* proj = o.state_free != FRUGAL_RULE_NONE ? workspace(3, mn) : nullptr;
  const float* P = p.basis.as<float>();
  backend_->to_f32_scaled(p.grad, p.grad_dtype, gf, mn, gscale, s);
  GemmArgs a{};
  if (p.left) {  // gc = P^T G (r x n); back: P X (m x n)
    a = GemmArgs{true, false, r, n, m, 1.f, P, r, gf, n, 0.f, gc, n};
  } else {       // gc = G P (m x r); back: X P^T (m x n)
    a = GemmArgs{false, false, m, r, n, 1.f, gf, n, P, r, 0.f, gc, r};
  }
  backend_->gemm(a, s);
  auto back = [&](const float* x, float* out) {
    GemmArgs b = p.left ? GemmArgs{false, false, m, n, r, 1.f, P, r, x, n, 0.f, out, n}
                        : GemmArgs{false, true, m, n, r, 1.f, x, r, P, r, 0.f, out, n};
    backend_->gemm(b, s);
  };
  if (proj) back(gc, proj);
  RuleScalars rule = state_full_scalars(o, p.state_step);
  backend_->compressed_direction(gc, p.m.get(), p.v.get(), o.state_dtype, r * (p.left ? n : m), rule, s);
  back(gc, full);
  DenseApplyJob d{};
  d.p = p.data; d.p_dtype = p.dtype;
  d.g = gf; d.g_dtype = FRUGAL_F32;  // already scaled by the clip factor
  d.full = full; d.proj = proj;
  d.n = mn;
  d.decay = (float)(1.0 - (double)o.lr * o.weight_decay);
  d.lr_full = rule.rule == RULE_ADAMW ? rule.step_size : rule.lr;
  d.state_free = state_free_scalars(o);
  backend_->dense_apply(d, nullptr, s);
}

}  // namespace frugal
