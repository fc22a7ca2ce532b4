// What every selection family shares: the context it works in, and the updates that need no
// selection state (whole tensors, and empty selections).
#include "selection_state.h"
#include <cstring>
#include "../../math/dtype_convert.h"
#include "../optimizer.h"

namespace frugal {

SelectionContext::SelectionContext(Optimizer& opt, GroupState& g)
    : backend(*opt.backend_), device(opt.device_), group(g), opt_(opt) {}

const frugal_group_options& SelectionContext::options() const { return group.options; }

std::vector<ParamState*> SelectionContext::group_params() const {
  std::vector<ParamState*> out;
  out.reserve(group.params.size());
  for (int pi : group.params) out.push_back(&opt_.param(pi));
  return out;
}

float* SelectionContext::workspace(int slot, int64_t floats) const { return opt_.workspace(slot, floats); }

Moments SelectionContext::new_moments(int64_t elems, StreamHandle s) const {
  const frugal_group_options& o = options();
  int slots = elems == 0 ? 0 : rule_state_slots(o.state_full);  // nothing selected keeps no state
  uint64_t bytes = (uint64_t)elems * dtype_size(o.state_dtype);
  Moments out;
  if (slots >= 1) out.m = Buffer(device, bytes, FRUGAL_MEM_OPTIMIZER_STATE);
  if (slots >= 2) out.v = Buffer(device, bytes, FRUGAL_MEM_OPTIMIZER_STATE);
  if (out.m) backend.zero(out.m.get(), bytes, s);
  if (out.v) backend.zero(out.v.get(), bytes, s);
  out.elems = slots ? elems : 0;
  return out;
}

void SelectionContext::allocate_moments(ParamState& p, int64_t elems, StreamHandle s) const {
  p.m.reset();
  p.v.reset();
  p.state_elems = 0;
  p.state_step = 0;
  new_moments(elems, s).install(p);
}

void Moments::install(ParamState& p) noexcept {
  p.m = std::move(m);
  p.v = std::move(v);
  p.state_elems = elems;
  p.state_step = 0;
}

void StateTensorList::add(const char* name, const Buffer& b, frugal_dtype dtype, int64_t count) {
  if (!b) return;
  frugal_state_tensor t{};
  strncpy(t.name, name, sizeof t.name - 1);
  t.data = b.get();
  t.dtype = dtype;
  t.count = count;
  tensors.push_back(t);
}

void refresh_each_param(SelectionContext& ctx, StreamHandle s) {
  for (ParamState* p : ctx.group_params()) p->selection->refresh(ctx, *p, s);
}

float decay_factor(const frugal_group_options& o) { return (float)(1.0 - (double)o.lr * o.weight_decay); }

ElementwiseJob whole_tensor_job(const ParamState& p, const frugal_group_options& o) {
  ElementwiseJob j{};
  j.p = p.data;
  j.p_dtype = p.dtype;
  j.g = p.grad;
  j.g_dtype = p.grad_dtype;
  j.state_dtype = o.state_dtype;
  j.n = p.numel;
  j.decay = decay_factor(o);
  return j;
}

void step_state_free_only(SelectionContext& ctx, ParamState& p, const float* gscale, StreamHandle s) {
  ElementwiseJob j = whole_tensor_job(p, ctx.options());
  j.rule = state_free_scalars(ctx.options());
  ctx.backend.elementwise_step(&j, 1, gscale, s);
}

}  // namespace frugal
