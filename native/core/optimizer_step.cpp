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
  if (p.gc) return {p.gc, p.gc_dtype, p.selection->compressed_gradient_elems(p)};
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
  for (GroupState& g : groups_)
    refresh_due |= selection_kind(g.options.selection).chooses && g.step % g.options.update_gap == 0;
  // A step due to refresh learns whether it is skipped (it syncs anyway): if so it changes nothing
  // on the host either, no refresh and no counter, and the refresh is retried at the next step.
  if (refresh_due && step_known_skipped(s)) return;
  for (GroupState& g : groups_)
    if (g.step % g.options.update_gap == 0) refresh_group(g, s);

  std::vector<ElementwiseJob> jobs;
  for (GroupState& g : groups_) {
    SelectionContext ctx(*this, g);
    for (int pi : g.params) {
      ParamState& p = *params_[pi];
      if (!p.grad && !p.gc) continue;  // torch semantics: a param without a gradient is not touched
      p.step++;
      p.selection->step(ctx, p, gscale, jobs, s);
    }
    g.step++;
  }
  if (!jobs.empty()) backend_->elementwise_step(jobs.data(), jobs.size(), gscale, s);
}

// Re-chooses the state-full part of the group's params (what it can refuse was checked for every
// group before any refreshed: Optimizer::check_step).
void Optimizer::refresh_group(GroupState& g, StreamHandle s) {
  const SelectionKind& kind = selection_kind(g.options.selection);
  if (!kind.chooses) return;
  SelectionContext ctx(*this, g);
  kind.refresh_group(ctx, s);
}

}  // namespace frugal
