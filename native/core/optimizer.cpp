// Optimizer construction, validation, and the state it exposes (bytes, tensors, counters).
#include "optimizer.h"
#include "../math/dtype_convert.h"
#include <cmath>
#include <cstring>
#include "devices.h"
#include "errors.h"
#include "schema.generated.h"

namespace frugal {

namespace {
std::string num(double x) {
  char buf[64];
  snprintf(buf, sizeof buf, "%g", x);
  return buf;
}
bool is_float_dtype(int32_t d) { return d == FRUGAL_F32 || d == FRUGAL_BF16 || d == FRUGAL_F16; }
const char* dtype_name(int32_t d) {
  switch (d) {
    case FRUGAL_F32: return "float32";
    case FRUGAL_BF16: return "bfloat16";
    case FRUGAL_F16: return "float16";
    case FRUGAL_I32: return "int32";
    default: return "unknown";
  }
}
}  // namespace

void validate_group_options(const frugal_group_options& o) {
  // Each field in its own range (schema/options.json); here, the rules between fields.
  schema_check_group_options(o);
  validate_eps(o);
  // Which rules may stand where is the rule table's to say (native/math/rules/rule_table.h), and
  // which selections take a caller's choice the selection registry's; here, the rules between fields.
  if (!rule_allowed(o.state_full, RuleRole::StateFull))
    invalid("state_full: expected " + rule_choices(RuleRole::StateFull) + ", got " + std::to_string(o.state_full));
  if (!rule_allowed(o.state_free, RuleRole::StateFree))
    invalid("state_free: expected " + rule_choices(RuleRole::StateFree) + " (a state-free rule keeps no state), got " +
            std::to_string(o.state_free));
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    invalid("nesterov: needs momentum > 0 and dampening 0 (as torch.optim.SGD)");
  if (o.state_free == FRUGAL_RULE_FREEZE && o.selection != FRUGAL_SEL_BLOCKS)
    invalid("state_free: freeze (5) leaves whole blocks untouched and needs selection blocks");
  if (selection_kind(o.selection).chooses && !rule_allowed(o.state_full, RuleRole::Partial))
    invalid(std::string("state_full: selection '") + selection_name(o.selection) + "' needs " +
            rule_choices(RuleRole::Partial));
  if (o.external_selection && !selection_kind(o.selection).caller_selection)
    invalid("external_selection: supported for " + selection_names_with(&SelectionKind::caller_selection, "and") +
            ", not '" + selection_name(o.selection) + "'");
}

Optimizer::Optimizer(int device) : device_(device), backend_(backend_for(device)) {}

GroupState& Optimizer::group(int g) {
  if (g < 0 || g >= (int)groups_.size())
    invalid("group: expected 0.." + std::to_string((int)groups_.size() - 1) + ", got " + std::to_string(g));
  return groups_[g];
}
ParamState& Optimizer::param(int p) {
  if (p < 0 || p >= (int)params_.size())
    invalid("param: expected 0.." + std::to_string((int)params_.size() - 1) + ", got " + std::to_string(p));
  return *params_[p];
}
const ParamState& Optimizer::param(int p) const { return const_cast<Optimizer*>(this)->param(p); }

int Optimizer::add_group(const frugal_group_options& options) {
  validate_group_options(options);
  GroupState g;
  g.options = options;
  g.rng.reseed(options.seed);
  groups_.push_back(std::move(g));
  return (int)groups_.size() - 1;
}

void Optimizer::set_group_options(int gi, const frugal_group_options& o) {
  GroupState& g = group(gi);
  validate_group_options(o);
  const frugal_group_options& old = g.options;
  // What shapes the state cannot change under a live optimizer; scalars can (schedules).
  if (o.selection != old.selection || o.state_full != old.state_full || o.state_dtype != old.state_dtype ||
      o.external_selection != old.external_selection || o.side != old.side)
    fail(FRUGAL_ERR_STATE,
         "options: selection, state_full, state_dtype, side and external_selection are fixed once a "
         "group exists; only scalars (lr, betas, eps, decay, scales, density, update_gap...) may change");
  g.options = o;
}

// The same tensor (or overlapping memory) twice in one optimizer would be updated twice per
// step: concurrently by two blocks on a GPU, losing updates, and in turn on the CPU. Refused, as
// torch refuses duplicate params. A gradient (or compressed gradient) in another param's data is
// refused too: one block would update the data while another reads it as a gradient. `self` is
// the param being re-pointed (set_buffers), or -1. The data ranges are disjoint and sorted, so
// only the ranges starting before the end of the query, from the one before its start, can meet it.
namespace {
bool ranges_meet(const void* a, int64_t an, int32_t at, const void* b, int64_t bn, int32_t bt) {
  const uintptr_t a0 = (uintptr_t)a, a1 = a0 + (uintptr_t)an * dtype_size(at);
  const uintptr_t b0 = (uintptr_t)b, b1 = b0 + (uintptr_t)bn * dtype_size(bt);
  return a0 < b1 && b0 < a1;
}
}  // namespace

void Optimizer::check_no_overlap(const void* data, int64_t numel, int32_t dtype, int self, const char* what) const {
  const uintptr_t begin = (uintptr_t)data, end = begin + (uintptr_t)numel * dtype_size(dtype);
  auto it = data_ranges_.upper_bound(begin);
  if (it != data_ranges_.begin()) --it;
  for (; it != data_ranges_.end() && it->first < end; ++it) {
    const auto [qe, index] = it->second;
    if (index == self || qe <= begin) continue;
    invalid(std::string(what) + ": overlaps the memory of param " + std::to_string(index) +
            " (the same tensor, or a view of it, passed twice); each param may appear in an optimizer once, and a "
            "gradient may not share memory with a param's data");
  }
}

int Optimizer::add_param(int gi, const frugal_param_desc& d) {
  GroupState& g = group(gi);
  if (!d.data) invalid("param.data: expected a buffer pointer, got NULL");
  if (!is_float_dtype(d.dtype))
    invalid(std::string("param.dtype: expected float32, bfloat16 or float16, got ") + dtype_name(d.dtype));
  if (!is_float_dtype(d.grad_dtype))
    invalid(std::string("param.grad_dtype: expected float32, bfloat16 or float16, got ") + dtype_name(d.grad_dtype));
  if ((uintptr_t)d.data % dtype_size(d.dtype))
    invalid("param.data: pointer is not aligned to its " + std::to_string(dtype_size(d.dtype)) + "-byte elements");
  if (d.grad && (uintptr_t)d.grad % dtype_size(d.grad_dtype))
    invalid("param.grad: pointer is not aligned to its " + std::to_string(dtype_size(d.grad_dtype)) + "-byte elements");
  if (d.ndim < 1 || d.ndim > FRUGAL_MAX_DIMS)
    invalid("param.ndim: expected 1.." + std::to_string(FRUGAL_MAX_DIMS) + ", got " + std::to_string(d.ndim));
  auto p = std::make_unique<ParamState>();
  p->numel = 1;
  for (int i = 0; i < d.ndim; i++) {
    if (d.shape[i] <= 0)
      invalid("param.shape[" + std::to_string(i) + "]: expected > 0, got " + std::to_string(d.shape[i]));
    // The element count, and its byte size, must fit int64 (and the address space) before any
    // range arithmetic uses them.
    if (p->numel > INT64_MAX / 8 / d.shape[i])
      invalid("param.shape: the element count overflows (more than 2^60 elements), at shape[" + std::to_string(i) +
              "]");
    p->shape.push_back(d.shape[i]);
    p->numel *= d.shape[i];
  }
  check_no_overlap(d.data, p->numel, d.dtype, -1, "param.data");
  if (d.grad) {
    check_no_overlap(d.grad, p->numel, d.grad_dtype, -1, "param.grad");
    if (ranges_meet(d.grad, p->numel, d.grad_dtype, d.data, p->numel, d.dtype))
      invalid("param.grad: overlaps the param's own data");
  }
  p->index = (int)params_.size();
  p->group = gi;
  if (d.block_id < 0)
    invalid("param.block_id: expected >= 0 (0: a block of its own), got " + std::to_string(d.block_id));
  p->block_id = d.block_id;
  p->data = d.data;
  p->dtype = d.dtype;
  p->grad = d.grad;
  p->grad_dtype = d.grad_dtype;
  p->rows = d.ndim >= 2 ? d.shape[0] : 1;
  p->cols = p->numel / p->rows;
  // A param the group's kind does not take (projections need a matrix) is a regular one.
  const SelectionKind* kind = &selection_kind(g.options.selection);
  if (!kind->takes_param(d)) kind = &selection_kind(FRUGAL_SEL_ALL);
  p->selection = kind->make(*kind);
  SelectionContext ctx(*this, g);
  p->selection->attach(ctx, *p);
  g.params.push_back(p->index);
  const uintptr_t begin = (uintptr_t)p->data;
  data_ranges_[begin] = {begin + (uintptr_t)p->numel * dtype_size(p->dtype), p->index};
  params_.push_back(std::move(p));
  return (int)params_.size() - 1;
}

void Optimizer::set_buffers(int pi, void* data, void* grad) {
  ParamState& p = param(pi);
  if (!data) invalid("data: expected a buffer pointer, got NULL");
  if ((uintptr_t)data % dtype_size(p.dtype)) invalid("data: pointer is not aligned to its elements");
  if (grad && (uintptr_t)grad % dtype_size(p.grad_dtype)) invalid("grad: pointer is not aligned to its elements");
  // Only a moved data pointer needs the data check (a step re-points every param, and usually
  // only its gradient changes); both checks are O(log n).
  if (data != p.data) check_no_overlap(data, p.numel, p.dtype, p.index, "data");
  if (grad) {
    check_no_overlap(grad, p.numel, p.grad_dtype, p.index, "grad");
    if (ranges_meet(grad, p.numel, p.grad_dtype, data, p.numel, p.dtype))  // the new data, not the range held
      invalid("grad: overlaps the param's own data");
  }
  if (data != p.data) {
    data_ranges_.erase((uintptr_t)p.data);
    const uintptr_t begin = (uintptr_t)data;
    data_ranges_[begin] = {begin + (uintptr_t)p.numel * dtype_size(p.dtype), p.index};
  }
  p.data = data;
  p.grad = grad;
}

void Optimizer::set_compressed_grad(int pi, const void* gc, frugal_dtype dtype) {
  ParamState& p = param(pi);
  if (gc && !p.selection->kind().compressed_gradient)
    invalid("gc: param " + std::to_string(pi) + " uses selection '" + p.selection->kind().name +
            "'; a compressed gradient needs " + selection_names_with(&SelectionKind::compressed_gradient, "or"));
  // What the step reads of it: the kept lines (optimizer_step.cpp's sum of squares).
  const int64_t elems = gc ? p.selection->compressed_gradient_elems(p) : 0;
  if (gc && elems == 0)
    invalid("gc: param " + std::to_string(pi) +
            " has an empty selection (density 0): there is nothing to compress; "
            "give the full gradient");
  if (gc && !is_float_dtype(dtype)) invalid(std::string("gc.dtype: expected a float dtype, got ") + dtype_name(dtype));
  if (gc && (uintptr_t)gc % dtype_size(dtype)) invalid("gc: pointer is not aligned to its elements");
  if (gc) check_no_overlap(gc, elems, dtype, -1, "gc");
  p.gc = gc;
  p.gc_dtype = dtype;
}

void Optimizer::set_clip(float max_norm) {
  if (!std::isfinite(max_norm))
    invalid("max_norm: expected a finite number (<= 0 disables clipping), got " + num(max_norm));
  clip_ = max_norm > 0 ? max_norm : 0.f;
}

bool Optimizer::needs_refresh(int pi) const {
  const ParamState& p = param(pi);
  if (!p.selection->kind().chooses) return false;
  const GroupState& g = groups_[p.group];
  return g.step % g.options.update_gap == 0;
}

frugal_selection_info Optimizer::selection_info(int pi) const {
  frugal_selection_info s{};
  param(pi).selection->describe(s);
  return s;
}

uint64_t Optimizer::state_bytes(int pi) const {
  if (pi < 0) {
    uint64_t total = 0;
    for (size_t i = 0; i < params_.size(); i++) total += state_bytes((int)i);
    return total;
  }
  const ParamState& p = param(pi);
  return p.m.bytes() + p.v.bytes() + p.selection->state_bytes();
}

int Optimizer::state_tensors(int pi, frugal_state_tensor* out, int capacity) const {
  const ParamState& p = param(pi);
  const frugal_group_options& o = groups_[p.group].options;
  StateTensorList list;
  list.add(rule_slot_name(o.state_full, 0), p.m, o.state_dtype, p.state_elems);
  list.add(rule_slot_name(o.state_full, 1), p.v, o.state_dtype, p.state_elems);
  p.selection->list_state(list);
  const std::vector<frugal_state_tensor>& tensors = list.tensors;
  if (out) {
    if (capacity < (int)tensors.size())
      invalid("capacity: expected at least " + std::to_string(tensors.size()) + " state tensor slots, got " +
              std::to_string(capacity));
    for (size_t i = 0; i < tensors.size(); i++) out[i] = tensors[i];
  }
  return (int)tensors.size();
}

frugal_param_counters Optimizer::counters(int pi) const {
  const ParamState& p = param(pi);
  frugal_param_counters c{};
  c.step = p.step;
  c.state_step = p.state_step;
  p.selection->counters(p, c);
  return c;
}

void Optimizer::restore_param(int pi, const frugal_param_counters& c) {
  ParamState& p = param(pi);
  if (c.kind != p.kind())
    invalid(std::string("counters.kind: the checkpoint's selection is '") + selection_name(c.kind) +
            "', this param's is '" + selection_name(p.kind()) + "'");
  if (c.step < 0 || c.state_step < 0 || c.selection_count < 0) invalid("counters: negative step or count");
  // The steps since the state began (bias correction) are some of the param's steps; and the
  // next step advances the counter, which must not overflow.
  if (c.state_step > c.step)
    invalid("counters.state_step: " + std::to_string(c.state_step) + " exceeds counters.step " +
            std::to_string(c.step) + " (the state's steps cannot outnumber the param's)");
  if (c.step == INT64_MAX) invalid("counters.step: 2^63 - 1 would overflow at the next step");
  SelectionContext ctx(*this, groups_[p.group]);
  p.selection->restore(ctx, p, c);  // all or nothing: a refusal or a failed allocation changes nothing
  p.step = c.step;
  p.state_step = c.state_step;
  p.pending = false;
}

void Optimizer::verify_state(int pi, StreamHandle s) {
  ParamState& p = param(pi);
  SelectionContext ctx(*this, groups_[p.group]);
  p.selection->verify(ctx, p, s);
}

}  // namespace frugal
