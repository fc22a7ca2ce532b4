// Everything a step can refuse, checked for every group before any group refreshes or updates, so
// a refused step leaves every param, moment, selection and counter as it was: restored state,
// compressed gradients, caller-supplied selections, Grass's draw count, the gradients a host SVD
// refresh would decompose, and the non-finite policy 'error'.
#include <cmath>
#include "errors.h"
#include "optimizer.h"

namespace frugal {

namespace {
std::string label(const ParamState& p) { return "param " + std::to_string(p.index); }
}  // namespace

// One fp64 sum of squares per param (its gradient as the step reads it); syncs.
std::vector<double> Optimizer::sums_of_squares(const std::vector<ParamState*>& ps, StreamHandle s) {
  std::vector<double> out(ps.size(), 0.0);
  if (ps.empty()) return out;
  // Scratch from the device's pool (slot 0, before any refresh uses it): a transient buffer here
  // would ride on top of the pool that other optimizers' steps have grown.
  const size_t bytes = ps.size() * sizeof(double);
  auto* sums = reinterpret_cast<double*>(workspace(0, (int64_t)(2 * ps.size())));
  backend_->zero(sums, bytes, s);
  for (size_t i = 0; i < ps.size(); i++) {
    GradientRead r = gradient_read(*ps[i]);
    backend_->sum_squares(&r.ptr, &r.dtype, &r.n, 1, sums + i, s);
  }
  backend_->copy_to_host(out.data(), sums, bytes, s);
  return out;
}

void Optimizer::check_step(StreamHandle s) {
  for (auto& pp : params_) verify_state(pp->index, s);  // a no-op for checked ones
  std::vector<ParamState*> svd_refresh;
  for (auto& pp : params_) {
    ParamState& p = *pp;
    GroupState& g = groups_[p.group];
    if (p.grad || p.gc) p.selection->check_step(SelectionContext(*this, g), p);
    bool refresh = needs_refresh(p.index);
    if (p.gc) {
      if (refresh)
        fail(FRUGAL_ERR_STATE, label(p) + ": step " + std::to_string(g.step) +
                                   " is a refresh and needs the full gradient; a compressed gradient was given");
      if (g.options.state_free != FRUGAL_RULE_NONE && g.options.state_free != FRUGAL_RULE_FREEZE && !p.grad)
        invalid(label(p) + ": its state-free rule needs the full gradient (grad is NULL)");
    }
    if (!refresh) continue;
    // What refresh_group would refuse for this param at this step.
    if (g.options.external_selection && !p.pending)
      fail(FRUGAL_ERR_STATE, label(p) + ": its group takes the selection from the caller, and step " +
                                 std::to_string(g.step) + " is a refresh: call set_selection first");
    p.selection->check_refresh(SelectionContext(*this, g), p);
    if (p.selection->refresh_needs_finite_gradient(p)) svd_refresh.push_back(&p);
  }
  if (nonfinite_ == FRUGAL_NONFINITE_ERROR) {
    double total = 0;
    backend_->copy_to_host(&total, &step_scalars(s)->sumsq, sizeof total, s);
    if (std::isfinite(total)) return;
    std::vector<ParamState*> read;
    for (auto& pp : params_)
      if (gradient_read(*pp).ptr) read.push_back(pp.get());
    std::vector<double> sums = sums_of_squares(read, s);
    std::string names;
    for (size_t i = 0; i < read.size(); i++)
      if (!std::isfinite(sums[i])) names += (names.empty() ? "" : ", ") + label(*read[i]);
    invalid("nonfinite 'error': the gradient of " + names +
            " has non-finite values (NaN or Inf); the step was refused and changed nothing");
  }
  // As torch.linalg.svd does: no subspace can be chosen from NaN or Inf. Under 'skip' the whole
  // step is skipped instead (optimizer_step.cpp), so only 'propagate' gets here with one.
  if (nonfinite_ == FRUGAL_NONFINITE_PROPAGATE && !svd_refresh.empty()) {
    std::vector<double> sums = sums_of_squares(svd_refresh, s);
    for (size_t i = 0; i < svd_refresh.size(); i++)
      if (!std::isfinite(sums[i]))
        invalid(label(*svd_refresh[i]) +
                ": the gradient at this SVD refresh has non-finite values (NaN or Inf); "
                "no subspace can be chosen from it");
  }
}

}  // namespace frugal
