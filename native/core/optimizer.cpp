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

const char* selection_name(int32_t kind) { return selection_value_name(kind); }

void validate_group_options(const frugal_group_options& o) {
  // Each field in its own range (schema/options.json); here, the rules between fields.
  schema_check_group_options(o);
  validate_eps(o);
  // Which rules may stand where is the rules' to say, not the schema's.
  if (o.state_full < FRUGAL_RULE_NONE || o.state_full > FRUGAL_RULE_SGD)
    invalid("state_full: expected a rule 0..4, got " + std::to_string(o.state_full));
  if (o.state_free < FRUGAL_RULE_NONE || o.state_free > FRUGAL_RULE_FREEZE)
    invalid("state_free: expected a rule 0..5, got " + std::to_string(o.state_free));
  if (o.state_free == FRUGAL_RULE_ADAMW || o.state_free == FRUGAL_RULE_SGDM)
    invalid("state_free: expected none, signsgd or sgd (a state-free rule keeps no state)");
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    invalid("nesterov: needs momentum > 0 and dampening 0 (as torch.optim.SGD)");
  if (o.state_free == FRUGAL_RULE_FREEZE && o.selection != FRUGAL_SEL_BLOCKS)
    invalid("state_free: freeze (5) leaves whole blocks untouched and needs selection blocks");
  bool partial = o.selection != FRUGAL_SEL_ALL && o.selection != FRUGAL_SEL_NONE;
  if (partial && o.state_full != FRUGAL_RULE_ADAMW && o.state_full != FRUGAL_RULE_SGDM)
    invalid(std::string("state_full: selection '") + selection_name(o.selection) + "' needs adamw or sgdm");
  if (o.external_selection && !(o.selection == FRUGAL_SEL_BLOCKS || is_index_kind(o.selection)))
    invalid(std::string("external_selection: supported for blocks, columns, rows, coordinates and grass, not '") +
            selection_name(o.selection) + "'");
}

RuleScalars state_full_scalars(const frugal_group_options& o, int64_t t) {
  RuleScalars r{};
  r.rule = o.state_full;
  double lr = (double)o.lr * o.state_full_lr_scale;
  r.lr = (float)lr;
  r.beta1 = o.beta1;
  r.beta2 = o.beta2;
  // Both forms are p -= step_size * m / (sqrt(v) + eps_hat); they differ in where eps sits. The
  // shared math computes them, so per-slot counters on a device give the same bits.
  adam_bias_scalars(adam_bias_inputs(o), t, r.step_size, r.eps_hat, r.first_step);
  r.momentum = o.momentum;
  r.dampening = o.dampening;
  r.nesterov = o.nesterov;
  r.l2 = o.l2;
  return r;
}

AdamBiasInputs adam_bias_inputs(const frugal_group_options& o) {
  AdamBiasInputs a{};
  a.lr = (double)o.lr * o.state_full_lr_scale;
  a.beta1 = o.beta1;
  a.beta2 = o.beta2;
  a.eps = o.eps;
  a.hf = o.eps_mode == FRUGAL_EPS_HF;
  a.bias_correction = o.bias_correction != 0;
  return a;
}

RuleScalars state_free_scalars(const frugal_group_options& o) {
  RuleScalars r{};
  r.rule = o.state_free == FRUGAL_RULE_FREEZE ? FRUGAL_RULE_NONE : o.state_free;  // freeze: no rule, no decay
  r.lr = (float)((double)o.lr * o.state_full_lr_scale * o.state_free_lr_scale);
  r.l2 = o.l2;
  return r;
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
    fail(FRUGAL_ERR_STATE, "options: selection, state_full, state_dtype, side and external_selection are fixed once a "
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
    if (d.shape[i] <= 0) invalid("param.shape[" + std::to_string(i) + "]: expected > 0, got " + std::to_string(d.shape[i]));
    // The element count, and its byte size, must fit int64 (and the address space) before any
    // range arithmetic uses them.
    if (p->numel > INT64_MAX / 8 / d.shape[i])
      invalid("param.shape: the element count overflows (more than 2^60 elements), at shape[" + std::to_string(i) + "]");
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
  if (d.block_id < 0) invalid("param.block_id: expected >= 0 (0: a block of its own), got " + std::to_string(d.block_id));
  p->block_id = d.block_id;
  p->data = d.data;
  p->dtype = d.dtype;
  p->grad = d.grad;
  p->grad_dtype = d.grad_dtype;
  p->rows = d.ndim >= 2 ? d.shape[0] : 1;
  p->cols = p->numel / p->rows;
  int32_t sel = g.options.selection;
  // Projections need a matrix: 1-D params of a projectable group are stepped like regular ones.
  // Blocks need none, so a 1-D param given a shared block id belongs to that block (BAdam's
  // layer norms switch with their layer).
  bool in_block = sel == FRUGAL_SEL_BLOCKS && d.block_id > 0;
  p->kind = (d.ndim < 2 && sel != FRUGAL_SEL_NONE && !in_block) ? FRUGAL_SEL_ALL : sel;
  if (p->kind == FRUGAL_SEL_ALL) allocate_moments(*p, p->numel, nullptr);
  g.params.push_back(p->index);
  const uintptr_t begin = (uintptr_t)p->data;
  data_ranges_[begin] = {begin + (uintptr_t)p->numel * dtype_size(p->dtype), p->index};
  params_.push_back(std::move(p));
  return (int)params_.size() - 1;
}

void Optimizer::allocate_moments(ParamState& p, int64_t elems, StreamHandle s) {
  const frugal_group_options& o = groups_[p.group].options;
  int32_t rule = p.kind == FRUGAL_SEL_NONE ? FRUGAL_RULE_NONE : o.state_full;
  int slots = rule_state_slots(rule);
  uint64_t bytes = (uint64_t)elems * dtype_size(o.state_dtype);
  p.m.reset();
  p.v.reset();
  if (elems == 0) slots = 0;  // an inactive block or an empty selection keeps no state
  if (slots >= 1) p.m = Buffer(device_, bytes, FRUGAL_MEM_OPTIMIZER_STATE);
  if (slots >= 2) p.v = Buffer(device_, bytes, FRUGAL_MEM_OPTIMIZER_STATE);
  if (p.m) backend_->zero(p.m.get(), bytes, s);
  if (p.v) backend_->zero(p.v.get(), bytes, s);
  p.state_elems = slots ? elems : 0;
  p.state_step = 0;
}

bool Optimizer::per_slot_steps(const ParamState& p) const {
  const frugal_group_options& o = groups_[p.group].options;
  return is_index_kind(p.kind) && !o.reset_statistics && rule_state_slots(o.state_full) > 0;
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
  if (gc && p.kind != FRUGAL_SEL_GRASS && !(p.kind == FRUGAL_SEL_COLUMNS || p.kind == FRUGAL_SEL_ROWS))
    invalid("gc: param " + std::to_string(pi) + " uses selection '" + selection_name(p.kind) +
            "'; a compressed gradient needs grass, rows or columns");
  if (gc && p.count == 0)
    invalid("gc: param " + std::to_string(pi) + " has an empty selection (density 0): there is nothing to compress; "
            "give the full gradient");
  if (gc && !is_float_dtype(dtype)) invalid(std::string("gc.dtype: expected a float dtype, got ") + dtype_name(dtype));
  if (gc && (uintptr_t)gc % dtype_size(dtype)) invalid("gc: pointer is not aligned to its elements");
  // What the step reads of it: p.count kept lines (optimizer_step.cpp's sum of squares).
  if (gc) check_no_overlap(gc, p.count * (p.axis == AXIS_ROWS ? p.cols : p.rows), dtype, -1, "gc");
  p.gc = gc;
  p.gc_dtype = dtype;
}

void Optimizer::set_clip(float max_norm) {
  if (!std::isfinite(max_norm)) invalid("max_norm: expected a finite number (<= 0 disables clipping), got " + num(max_norm));
  clip_ = max_norm > 0 ? max_norm : 0.f;
}

bool Optimizer::needs_refresh(int pi) const {
  const ParamState& p = param(pi);
  if (p.kind == FRUGAL_SEL_ALL || p.kind == FRUGAL_SEL_NONE) return false;
  const GroupState& g = groups_[p.group];
  return g.step % g.options.update_gap == 0;
}

frugal_selection_info Optimizer::selection_info(int pi) const {
  const ParamState& p = param(pi);
  frugal_selection_info s{};
  s.kind = p.kind;
  s.active = p.active;
  s.axis = p.axis;
  s.count = p.count;
  s.indices_device = p.indices.as<int32_t>();
  s.scales_device = p.scales.as<float>();
  return s;
}

uint64_t Optimizer::state_bytes(int pi) const {
  if (pi < 0) {
    uint64_t total = 0;
    for (size_t i = 0; i < params_.size(); i++) total += state_bytes((int)i);
    return total;
  }
  const ParamState& p = param(pi);
  return p.m.bytes() + p.v.bytes() + p.indices.bytes() + p.scales.bytes() + p.mask.bytes() + p.basis.bytes() +
         p.slot_steps.bytes();
}

int Optimizer::state_tensors(int pi, frugal_state_tensor* out, int capacity) const {
  const ParamState& p = param(pi);
  const frugal_group_options& o = groups_[p.group].options;
  std::vector<frugal_state_tensor> list;
  auto add = [&](const char* name, const Buffer& b, frugal_dtype dt, int64_t count) {
    if (!b) return;
    frugal_state_tensor t{};
    strncpy(t.name, name, sizeof t.name - 1);
    t.data = b.get();
    t.dtype = dt;
    t.count = count;
    list.push_back(t);
  };
  bool adam = o.state_full == FRUGAL_RULE_ADAMW;
  add(adam ? "exp_avg" : "momentum_buffer", p.m, o.state_dtype, p.state_elems);
  add("exp_avg_sq", p.v, o.state_dtype, p.state_elems);
  add("indices", p.indices, FRUGAL_I32, p.count);
  add("scales", p.scales, FRUGAL_F32, p.count);
  add("mask", p.mask, FRUGAL_I32, (int64_t)(p.mask.bytes() / 4));
  add("basis", p.basis, FRUGAL_F32, (int64_t)(p.basis.bytes() / 4));
  add("slot_step", p.slot_steps, FRUGAL_I32, (int64_t)(p.slot_steps.bytes() / 4));
  if (out) {
    if (capacity < (int)list.size())
      invalid("capacity: expected at least " + std::to_string(list.size()) + " state tensor slots, got " +
              std::to_string(capacity));
    for (size_t i = 0; i < list.size(); i++) out[i] = list[i];
  }
  return (int)list.size();
}

frugal_param_counters Optimizer::counters(int pi) const {
  const ParamState& p = param(pi);
  frugal_param_counters c{};
  c.step = p.step;
  c.state_step = p.state_step;
  c.active = p.active;
  c.kind = p.kind;
  c.axis = p.axis;
  // Blocks: whether moments are held (a block that left the set keeps them without resets).
  c.selection_count = p.kind == FRUGAL_SEL_BLOCKS ? p.state_elems : p.count;
  return c;
}

void Optimizer::restore_param(int pi, const frugal_param_counters& c) {
  ParamState& p = param(pi);
  if (c.kind != p.kind)
    invalid(std::string("counters.kind: the checkpoint's selection is '") + selection_name(c.kind) +
            "', this param's is '" + selection_name(p.kind) + "'");
  if (c.step < 0 || c.state_step < 0 || c.selection_count < 0) invalid("counters: negative step or count");
  // The axis of a rows / columns / coordinates selection follows from its kind; Grass and dense
  // selections record theirs (rows or columns).
  int32_t want_axis = p.kind == FRUGAL_SEL_COLUMNS ? AXIS_COLS : p.kind == FRUGAL_SEL_ROWS ? AXIS_ROWS
                      : p.kind == FRUGAL_SEL_COORDINATES ? AXIS_COORDS : -1;
  if (want_axis >= 0 && c.axis != want_axis)
    invalid("counters.axis: " + std::to_string(c.axis) + " does not fit selection '" + selection_name(p.kind) + "'");
  if ((p.kind == FRUGAL_SEL_GRASS || is_dense_kind(p.kind)) && c.axis != AXIS_ROWS && c.axis != AXIS_COLS)
    invalid("counters.axis: expected 0 (rows) or 1 (columns), got " + std::to_string(c.axis));
  if (p.kind == FRUGAL_SEL_BLOCKS && c.selection_count != 0 && c.selection_count != p.numel)
    invalid("counters.selection_count: a block holds moments for all " + std::to_string(p.numel) +
            " elements or none, got " + std::to_string(c.selection_count));
  int64_t line_len = 1, lines = p.numel;
  if (p.kind == FRUGAL_SEL_COLUMNS || (p.kind == FRUGAL_SEL_GRASS && c.axis == AXIS_COLS)) { line_len = p.rows; lines = p.cols; }
  if (p.kind == FRUGAL_SEL_ROWS || (p.kind == FRUGAL_SEL_GRASS && c.axis == AXIS_ROWS)) { line_len = p.cols; lines = p.rows; }
  ParamState fresh;  // build the new buffers first, so a failure leaves the param as it was
  int64_t state_elems = 0;
  if (p.kind == FRUGAL_SEL_ALL) state_elems = p.numel;
  else if (p.kind == FRUGAL_SEL_BLOCKS) state_elems = c.selection_count;
  else if (is_index_kind(p.kind)) {
    if (c.selection_count > lines * (p.kind == FRUGAL_SEL_GRASS ? 64 : 1))
      invalid("counters.selection_count: " + std::to_string(c.selection_count) + " is too large for this param");
    state_elems = c.selection_count * line_len;
    if (c.selection_count) {
      fresh.indices = Buffer(device_, c.selection_count * 4, FRUGAL_MEM_OPTIMIZER_STATE);
      if (p.kind == FRUGAL_SEL_GRASS) fresh.scales = Buffer(device_, c.selection_count * 4, FRUGAL_MEM_OPTIMIZER_STATE);
      fresh.mask = Buffer(device_, ((lines + 3) / 4) * 4, FRUGAL_MEM_OPTIMIZER_STATE);
      if (per_slot_steps(p)) {
        // A checkpoint from before per-entry counters has none: every entry takes the param's
        // step counter, which is what that checkpoint's run used. A newer one overwrites these.
        if (c.state_step > INT32_MAX) invalid("counters.state_step: expected at most 2^31 - 1 with per-line counters");
        fresh.slot_steps = Buffer(device_, c.selection_count * 4, FRUGAL_MEM_OPTIMIZER_STATE);
        std::vector<int32_t> steps(c.selection_count, (int32_t)c.state_step);
        backend_->copy_from_host(fresh.slot_steps.get(), steps.data(), steps.size() * 4, nullptr);
        backend_->synchronize(nullptr);
      }
    }
  } else if (is_dense_kind(p.kind)) {
    bool left = c.axis == AXIS_ROWS;
    int64_t side_len = left ? p.rows : p.cols;
    if (c.selection_count > std::min(p.rows, p.cols)) invalid("counters.selection_count: rank larger than the matrix");
    state_elems = c.selection_count * (left ? p.cols : p.rows);
    if (c.selection_count) fresh.basis = Buffer(device_, side_len * c.selection_count * 4, FRUGAL_MEM_OPTIMIZER_STATE);
  }
  p.indices = std::move(fresh.indices);
  p.scales = std::move(fresh.scales);
  p.mask = std::move(fresh.mask);
  p.basis = std::move(fresh.basis);
  p.slot_steps = std::move(fresh.slot_steps);
  if (p.kind != FRUGAL_SEL_NONE) allocate_moments(p, state_elems, nullptr);
  p.step = c.step;
  p.state_step = c.state_step;
  p.active = c.active;
  p.axis = c.axis;
  p.left = c.axis == AXIS_ROWS;
  p.count = c.selection_count;
  // The restored indices arrive after this call: assume repeats wherever sampling allows them, so
  // the scatter accumulates (always correct; only slower when there are none).
  p.has_duplicates = p.kind == FRUGAL_SEL_GRASS && (groups_[p.group].options.grass_replacement ||
                                                     groups_[p.group].options.external_selection);
  p.pending = false;
  // The caller fills the indices next: they are checked before they are ever used as addresses.
  p.unverified = p.count > 0 && is_index_kind(p.kind);
}

void Optimizer::verify_state(int pi, StreamHandle s) {
  ParamState& p = param(pi);
  if (!p.unverified) return;
  int64_t lines = p.axis == AXIS_ROWS ? p.rows : (p.axis == AXIS_COLS ? p.cols : p.numel);
  std::vector<int32_t> idx(p.count);
  backend_->copy_to_host(idx.data(), p.indices.get(), p.count * 4, s);
  std::vector<uint8_t> mask(p.mask.bytes(), 0);
  bool dup = false;
  for (int64_t j = 0; j < p.count; j++) {
    if (idx[j] < 0 || idx[j] >= lines)
      invalid("param " + std::to_string(pi) + ": restored index " + std::to_string(idx[j]) + " is outside 0.." +
              std::to_string(lines - 1));
    if (mask[idx[j]]) {
      if (p.kind != FRUGAL_SEL_GRASS)
        invalid("param " + std::to_string(pi) + ": restored index " + std::to_string(idx[j]) + " appears twice (selection '" +
                selection_name(p.kind) + "' takes distinct indices)");
      dup = true;
    }
    mask[idx[j]] = 1;
  }
  if (p.slot_steps) {
    std::vector<int32_t> steps(p.count);
    backend_->copy_to_host(steps.data(), p.slot_steps.get(), p.count * 4, s);
    for (int64_t j = 0; j < p.count; j++)
      if (steps[j] < 0)
        invalid("param " + std::to_string(pi) + ": restored slot_step[" + std::to_string(j) + "] is " +
                std::to_string(steps[j]) + "; expected a step count >= 0");
  }
  // The mask is derived from the indices, never trusted from the file.
  backend_->copy_from_host(p.mask.get(), mask.data(), mask.size(), s);
  backend_->synchronize(s);
  p.has_duplicates = dup;
  p.unverified = false;
}

}  // namespace frugal
