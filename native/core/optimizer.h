// The one optimizer framework: every method (AdamW, SGDM, signSGD, FRUGAL, Grass, GaLore, BAdam)
// is a configuration of a selection, a state-full rule and a state-free rule per param group.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include "backend.h"
#include "frugal.h"
#include "host_rng.h"
#include "memory.h"
#include "rule_scalars.h"  // state_full_scalars, state_free_scalars, adam_bias_inputs
#include "selections/selection_state.h"
#include "workspace_pool.h"

namespace frugal {

struct ParamState {
  int index = 0, group = 0;
  int32_t block_id = 0;  // BLOCKS: shared id > 0 makes several params one block
  void* data = nullptr;
  frugal_dtype dtype = FRUGAL_F32;
  void* grad = nullptr;
  frugal_dtype grad_dtype = FRUGAL_F32;
  const void* gc = nullptr;  // Grass compressed gradient for the next step
  frugal_dtype gc_dtype = FRUGAL_F32;
  std::vector<int64_t> shape;
  int64_t numel = 0, rows = 0, cols = 0;  // 2-D view (rows = shape[0])

  // The selection in force and its own state (selections/); its kind is the group's, except for
  // 1-D params of a projectable group, which are ALL.
  std::unique_ptr<SelectionState> selection;
  int32_t kind() const { return selection->kind().id; }
  // State-full moments: m (exp_avg or momentum buffer) and v (exp_avg_sq).
  Buffer m, v;
  int64_t state_elems = 0;
  int64_t step = 0, state_step = 0;
  // A caller-supplied selection waiting for the next refresh.
  bool pending = false;
  std::vector<int32_t> pending_indices;
  std::vector<float> pending_scales;
};

// The step's scalars on the device (Optimizer::step_scalars_): the gradients' sum of squares, what
// the update calls read through gscale ({clip factor, skip}) and through the unit gate ({1, skip},
// for calls whose gradient is already scaled), and the count of skipped steps (kept across steps).
struct StepScalars {
  double sumsq;
  float scale, skip;
  float one, skip_again;
  int64_t skipped;
};

struct GroupState {
  frugal_group_options options;
  std::vector<int> params;
  int64_t step = 0;
  HostRng rng;
};

class Optimizer {
 public:
  explicit Optimizer(int device);
  int device() const { return device_; }
  int add_group(const frugal_group_options& options);
  void set_group_options(int group, const frugal_group_options& options);
  int add_param(int group, const frugal_param_desc& desc);
  // Refuses [ptr, ptr + numel elements) when it overlaps a param's data (other than param `self`;
  // -1: none excepted). O(log n): the params' data ranges are kept sorted (data_ranges_).
  void check_no_overlap(const void* data, int64_t numel, int32_t dtype, int self, const char* what) const;
  void set_buffers(int param, void* data, void* grad);
  void set_compressed_grad(int param, const void* gc, frugal_dtype dtype);
  void set_clip(float max_norm);
  // What a step does with a non-finite gradient: FRUGAL_NONFINITE_PROPAGATE / SKIP / ERROR.
  void set_nonfinite(int32_t policy);
  // Steps skipped for a non-finite gradient (a device counter: reading it syncs `s`); restorable.
  int64_t skipped_steps(StreamHandle s);
  void set_skipped_steps(int64_t count, StreamHandle s);
  void step(StreamHandle stream);

  bool needs_refresh(int param) const;
  void set_selection(int param, const int32_t* indices, int64_t count, const float* scales);
  frugal_selection_info selection_info(int param) const;
  uint64_t state_bytes(int param) const;
  int state_tensors(int param, frugal_state_tensor* out, int capacity) const;
  frugal_param_counters counters(int param) const;
  void restore_param(int param, const frugal_param_counters& c);
  // Checks a restored param's indices (range, repeats), rebuilds its mask; syncs. step() runs it
  // for every param (a no-op once checked).
  void verify_state(int param, StreamHandle s);
  GroupState& group(int g);
  ParamState& param(int p);
  const ParamState& param(int p) const;

 private:
  friend class SelectionContext;  // what a selection may use: backend, device, workspace
  // step_checks.cpp: everything a step can refuse, for every group, before any state changes.
  void check_step(StreamHandle s);
  std::vector<double> sums_of_squares(const std::vector<ParamState*>& ps, StreamHandle s);
  // optimizer_step.cpp
  void refresh_group(GroupState& g, StreamHandle s);
  void reduce_gradients(StreamHandle s);
  const float* compute_step_scalars(StreamHandle s);
  bool step_known_skipped(StreamHandle s);
  StepScalars* step_scalars(StreamHandle s);
  float* workspace(int slot, int64_t floats);

  int device_;
  Backend* backend_;
  std::vector<GroupState> groups_;
  std::vector<std::unique_ptr<ParamState>> params_;
  // Each param's data as [begin, end) bytes, by begin -> (end, param index); disjoint (enforced).
  std::map<uintptr_t, std::pair<uintptr_t, int>> data_ranges_;
  float clip_ = 0.f;
  int32_t nonfinite_ = FRUGAL_NONFINITE_PROPAGATE;
  bool reduced_ = false;  // this step's gradients were reduced into step_scalars_
  Buffer step_scalars_;   // one StepScalars on the device
  // fp32 scratch for dense projections comes from the device's pool (workspace_pool.h), leased
  // for the length of each step: one pool per device, however many optimizers.
  WorkspacePool::User workspace_user_{device_};
  WorkspacePool::Lease* workspace_lease_ = nullptr;
};

// The gradient a step reads for a param: the compressed one when given, else the full one (null
// when the param has none this step).
struct GradientRead {
  const void* ptr;
  int32_t dtype;
  int64_t n;
};
GradientRead gradient_read(const ParamState& p);

void validate_group_options(const frugal_group_options& o);
// eps_check.cpp: refuses a nonzero eps that underflows float32 (alone or folded into eps_hat).
void validate_eps(const frugal_group_options& o);
// The kind's name as options spell it (selections/registry.cpp); "unknown" out of range.
const char* selection_name(int32_t kind);

}  // namespace frugal
