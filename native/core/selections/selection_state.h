// A selection: which part of a param is state-full, how a refresh re-chooses it, and how a step
// updates the param through it. One class per family (whole_tensor.cpp: all, none, blocks;
// lines.cpp: columns, rows, coordinates, grass; dense_basis.cpp: svd, random, randperm), made
// from the C enum by the registry (registry.cpp). The optimizer calls only this interface; it
// never branches on the kind.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include "../backend.h"
#include "../memory.h"
#include "frugal.h"

namespace frugal {

struct ParamState;
struct GroupState;
class Optimizer;
class SelectionState;

// A param's state-full moments held apart from the param: a restore allocates everything it
// needs first (these, and the selection's own buffers) and installs them only when nothing is
// left that can fail, so running out of memory half way leaves the param as it was.
struct Moments {
  Buffer m, v;
  int64_t elems = 0;  // the param's state_elems once installed: 0 when no moments are kept
  // Moves these into p, freeing its old ones; the state step restarts. Cannot fail.
  void install(ParamState& p) noexcept;
};

// What a selection may use of its optimizer while it refreshes, steps or restores.
class SelectionContext {
 public:
  SelectionContext(Optimizer& opt, GroupState& group);
  Backend& backend;
  const int device;
  GroupState& group;
  const frugal_group_options& options() const;
  // The group's params in the order they were added (every kind: 1-D params of a projectable
  // group are ALL).
  std::vector<ParamState*> group_params() const;
  // fp32 scratch (slots 0..3), grown on demand, valid until the slot is asked for again.
  float* workspace(int slot, int64_t floats) const;
  // The param's moments for `elems` elements, zeroed (none for an empty selection or a rule
  // without state); the state step restarts. The old ones are freed first, so the two never
  // coexist (a refresh's peak is the larger of the two).
  void allocate_moments(ParamState& p, int64_t elems, StreamHandle s) const;
  // The same moments, zeroed, for the caller to install (Moments::install) once everything else
  // it needs is allocated; the param is not touched.
  Moments new_moments(int64_t elems, StreamHandle s) const;

 private:
  Optimizer& opt_;
};

// One selection kind as the C enum names it: its facts, and its family's constructor.
struct SelectionKind {
  int32_t id;                // FRUGAL_SEL_*
  const char* name;          // as options and messages spell it
  bool chooses;              // re-chosen every update_gap steps (all and none are fixed)
  bool caller_selection;     // external_selection: the caller may choose it (set_selection)
  bool compressed_gradient;  // frugal_optimizer_set_compressed_grad is accepted
  // Whether a param takes this kind; one that does not is stepped as ALL (projections need a
  // matrix, so 1-D params of a projectable group are regular ones).
  bool (*takes_param)(const frugal_param_desc& d);
  std::unique_ptr<SelectionState> (*make)(const SelectionKind& kind);
  // A refresh of every param of a group of this kind at step g.step (blocks are chosen across
  // params); refresh_each_param for kinds chosen param by param.
  void (*refresh_group)(SelectionContext& ctx, StreamHandle s);
};

// The registry (registry.cpp): the kind for a C enum value (invalid() for an unknown one), or null.
const SelectionKind& selection_kind(int32_t id);
const SelectionKind* find_selection_kind(int32_t id);
// The kinds with a fact, in enum order, as prose: "blocks, columns, rows, coordinates and grass".
std::string selection_names_with(bool SelectionKind::*fact, const char* conjunction);

// The checkpoint tensors of a param, in order: the moments, then its selection's own.
class StateTensorList {
 public:
  void add(const char* name, const Buffer& b, frugal_dtype dtype, int64_t count);
  std::vector<frugal_state_tensor> tensors;
};

class SelectionState {
 public:
  explicit SelectionState(const SelectionKind& kind) : kind_(kind) {}
  virtual ~SelectionState() = default;
  const SelectionKind& kind() const { return kind_; }

  // Once, when the param joins its group.
  virtual void attach(SelectionContext& /*ctx*/, ParamState& /*p*/) {}
  // What refresh() would refuse at this step; step_checks.cpp asks every param before any changes.
  virtual void check_refresh(const SelectionContext& /*ctx*/, const ParamState& /*p*/) const {}
  // What step() would refuse for this param at any step (a counter at its end); step_checks.cpp
  // asks every param with a gradient before any changes.
  virtual void check_step(const SelectionContext& /*ctx*/, const ParamState& /*p*/) const {}
  // Whether this refresh decomposes the gradient, so a NaN or Inf in it cannot be refreshed from.
  virtual bool refresh_needs_finite_gradient(const ParamState& /*p*/) const { return false; }
  // Re-chooses the state-full part (checked already) and reshapes the moments to match.
  virtual void refresh(SelectionContext& /*ctx*/, ParamState& /*p*/, StreamHandle /*s*/) {}
  // One step's update of the param (p.step is counted already). Whole-tensor updates go into
  // `jobs`, one multi-tensor launch for every group; the others are enqueued here.
  virtual void step(SelectionContext& ctx, ParamState& p, const float* gscale, std::vector<ElementwiseJob>& jobs,
                    StreamHandle s) = 0;

  // A caller's choice for the next refresh (set_selection): refuses one this kind cannot take.
  virtual void check_caller_selection(const ParamState& /*p*/, int64_t /*count*/) const {}
  // The elements a compressed gradient holds (kinds with compressed_gradient).
  virtual int64_t compressed_gradient_elems(const ParamState& /*p*/) const { return 0; }

  virtual void describe(frugal_selection_info& out) const = 0;
  virtual void counters(const ParamState& p, frugal_param_counters& out) const = 0;
  // The selection's own tensors after the moments, in the order checkpoints name them.
  virtual void list_state(StateTensorList& /*out*/) const {}
  virtual uint64_t state_bytes() const { return 0; }
  // From a checkpoint's counters (kind checked already): the selection's shape and zeroed state,
  // moments included, for the caller to fill. All or nothing: refuses counters that do not fit
  // this param, then allocates every new buffer into locals (Moments for the moments) and swaps
  // them in only once all exist, so a refusal or an allocation failure changes nothing.
  virtual void restore(SelectionContext& ctx, ParamState& p, const frugal_param_counters& c) = 0;
  // Checks restored state the caller filled in (indices as addresses); a no-op once checked.
  virtual void verify(SelectionContext& /*ctx*/, ParamState& /*p*/, StreamHandle /*s*/) {}

 protected:
  const SelectionKind& kind_;
};

// The default SelectionKind::refresh_group: each param of the group refreshes on its own.
void refresh_each_param(SelectionContext& ctx, StreamHandle s);

// Decoupled weight decay's factor, 1 - lr * weight_decay, as every update applies it.
float decay_factor(const frugal_group_options& o);
// A whole-tensor update of the param by its gradient, decay included; the caller sets the rule
// (and the moments, for a state-full one).
ElementwiseJob whole_tensor_job(const ParamState& p, const frugal_group_options& o);
// A selection that holds nothing (density 0): the whole matrix gets decay and the state-free
// rule, one elementwise job, no state.
void step_state_free_only(SelectionContext& ctx, ParamState& p, const float* gscale, StreamHandle s);

}  // namespace frugal
