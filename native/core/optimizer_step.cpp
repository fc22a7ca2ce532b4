// One optimizer step: the checks of everything it can refuse (step_checks.cpp), the clip factor and
// non-finite skip flag on the device, refreshes where due, then the updates. The whole-tensor
// updates of every group go to the backend as one multi-tensor job list.
#include <cmath>
#include "devices.h"
#include "errors.h"
#include "optimizer.h"

namespace frugal {

float* Optimizer::workspace(int slot, int64_t floats) {
  if (!workspace_lease_) fail(FRUGAL_ERR_STATE, "internal error: workspace asked for outside a step");
  return workspace_lease_->slot(slot, floats);
}

StepScalars* Optimizer::step_scalars(StreamHandle s) {
  if (!step_scalars_) {
    step_scalars_ = Buffer(device_, sizeof(StepScalars), FRUGAL_MEM_WORKSPACE);
    backend_->zero(step_scalars_.get(), sizeof(StepScalars), s);
  }
  return step_scalars_.as<StepScalars>();
}

GradientRead gradient_read(const ParamState& p) {
  if (p.gc) return {p.gc, p.gc_dtype, p.count * (p.axis == AXIS_ROWS ? p.cols : p.rows)};
  return {p.grad, p.grad_dtype, p.grad ? p.numel : 0};
}

// The sum of squares of every gradient this step reads, into step_scalars_ (no sync), when
// clipping or a non-finite policy needs it.
void Optimizer::reduce_gradients(StreamHandle s) {
  reduced_ = clip_ > 0 || nonfinite_ != FRUGAL_NONFINITE_PROPAGATE;
  if (!reduced_) return;
  std::vector<const void*> ptrs;
  std::vector<int32_t> dtypes;
  std::vector<int64_t> ns;
  for (auto& pp : params_) {
    GradientRead r = gradient_read(*pp);
    if (!r.ptr) continue;  // no gradient this step: skipped, as torch does
    ptrs.push_back(r.ptr);
    dtypes.push_back(r.dtype);
    ns.push_back(r.n);
  }
  StepScalars* ss = step_scalars(s);
  backend_->zero(&ss->sumsq, sizeof(double), s);
  backend_->sum_squares(ptrs.data(), dtypes.data(), ns.data(), ptrs.size(), &ss->sumsq, s);
}

// The gscale pair every update reads ({clip factor, skip}); null when neither clipping nor a
// non-finite policy is on. Counts the step as skipped on the device when it is.
const float* Optimizer::compute_step_scalars(StreamHandle s) {
  if (!reduced_) return nullptr;
  StepScalars* ss = step_scalars(s);
  backend_->step_scalars(&ss->sumsq, clip_, nonfinite_ == FRUGAL_NONFINITE_SKIP, &ss->scale, &ss->skipped, s);
  return &ss->scale;
}

// Whether this step is being skipped, read on the host (syncs): only for steps that refresh.
bool Optimizer::step_known_skipped(StreamHandle s) {
  if (nonfinite_ != FRUGAL_NONFINITE_SKIP || !reduced_) return false;
  float skip = 0.f;
  backend_->copy_to_host(&skip, &step_scalars(s)->skip, sizeof skip, s);
  return skip != 0.f;
}

void Optimizer::set_nonfinite(int32_t policy) {
  if (policy < FRUGAL_NONFINITE_PROPAGATE || policy > FRUGAL_NONFINITE_ERROR)
    invalid("nonfinite: expected 0 (propagate), 1 (skip) or 2 (error), got " + std::to_string(policy));
  nonfinite_ = policy;
}

int64_t Optimizer::skipped_steps(StreamHandle s) {
  if (!step_scalars_) return 0;
  int64_t count = 0;
  backend_->copy_to_host(&count, &step_scalars(s)->skipped, sizeof count, s);
  return count;
}

void Optimizer::set_skipped_steps(int64_t count, StreamHandle s) {
  if (count < 0) invalid("skipped_steps: expected >= 0, got " + std::to_string(count));
  backend_->copy_from_host(&step_scalars(s)->skipped, &count, sizeof count, s);
  backend_->synchronize(s);  // `count` lives on this stack frame
}

void Optimizer::step(StreamHandle s) {
  WorkspacePool::Lease lease(device_, s, &workspace_lease_);  // steps on one device take turns
  // A compressed gradient serves the one step it was given for, whether that step succeeds or not.
  struct ClearCompressed {
    std::vector<std::unique_ptr<ParamState>>& params;
    ~ClearCompressed() {
      for (auto& p : params) p->gc = nullptr;
    }
  } clear_compressed{params_};
  reduce_gradients(s);  // writes only scratch: a refused step still changes nothing
  check_step(s);        // everything the step can refuse, for every group, before any change
  const float* gscale = compute_step_scalars(s);
  bool refresh_due = false;
  for (GroupState& g : groups_) {
    int32_t sel = g.options.selection;
    refresh_due |= sel != FRUGAL_SEL_ALL && sel != FRUGAL_SEL_NONE && g.step % g.options.update_gap == 0;
  }
  // A step due to refresh learns whether it is skipped (it syncs anyway): if so it changes nothing
  // on the host either, no refresh and no counter, and the refresh is retried at the next step.
  if (refresh_due && step_known_skipped(s)) return;
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
            // FREEZE (BAdam): a block outside the active set is not touched at all, decay included.
            // NONE (FRUGAL's rule 'no') still decays it, as the authors decay every param first.
            if (p.kind == FRUGAL_SEL_BLOCKS && o.state_free == FRUGAL_RULE_FREEZE) break;
            if (free_rule.rule == RULE_NONE && decay == 1.f) break;  // nothing to apply
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
  const float* gate = gscale ? gscale + 2 : nullptr;  // {1, skip}: gf is already scaled
  backend_->compressed_direction(gc, p.m.get(), p.v.get(), o.state_dtype, r * (p.left ? n : m), rule, gate, s);
  back(gc, full);
  DenseApplyJob d{};
  d.p = p.data; d.p_dtype = p.dtype;
  d.g = gf; d.g_dtype = FRUGAL_F32;  // already scaled by the clip factor
  d.full = full; d.proj = proj;
  d.n = mn;
  d.decay = (float)(1.0 - (double)o.lr * o.weight_decay);
  d.lr_full = rule.rule == RULE_ADAMW ? rule.step_size : rule.lr;
  d.state_free = state_free_scalars(o);
  backend_->dense_apply(d, gate, s);
}

}  // namespace frugal
