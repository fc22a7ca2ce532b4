// Refresh steps: re-choosing the state-full part of each param of a group from the current
// gradient (or from the caller), and reshaping the optimizer state to match.
#include <algorithm>
#include <cmath>
#include <cstring>
#include "devices.h"
#include "errors.h"
#include "host_linalg.h"
#include "optimizer.h"
#include "../math/dtype_convert.h"
#include "selection.h"

namespace frugal {

void Optimizer::refresh_group(GroupState& g, StreamHandle s) {
  int32_t sel = g.options.selection;
  if (sel == FRUGAL_SEL_ALL || sel == FRUGAL_SEL_NONE) return;
  // What a refresh can refuse (a missing or bad caller selection...) was checked for every group
  // before any refreshed (Optimizer::check_step).
  if (sel == FRUGAL_SEL_BLOCKS) return refresh_blocks(g, s);
  for (int pi : g.params) {
    ParamState& p = *params_[pi];
    if (p.kind == FRUGAL_SEL_ALL) continue;
    // A selection read off the gradient waits for a step that has one; the old one stays.
    bool from_gradient = p.kind == FRUGAL_SEL_SVD || (p.kind == FRUGAL_SEL_GRASS && !g.options.external_selection);
    if (from_gradient && !p.grad) continue;
    if (is_index_kind(p.kind)) refresh_indexed(g, p, s);
    else refresh_dense(g, p, s);
  }
}

// Blocks in order of first appearance: a param with block_id 0 alone, else all params sharing the id.
std::vector<std::vector<ParamState*>> Optimizer::group_blocks(const GroupState& g) const {
  std::vector<std::vector<ParamState*>> blocks;
  std::vector<std::pair<int32_t, size_t>> shared;  // block_id -> position in blocks
  for (int pi : g.params) {
    ParamState* p = params_[pi].get();
    if (p->kind != FRUGAL_SEL_BLOCKS) continue;
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

void Optimizer::refresh_blocks(GroupState& g, StreamHandle s) {
  const frugal_group_options& o = g.options;
  const std::vector<std::vector<ParamState*>> blocks = group_blocks(g);
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
        p.active = on;
        // Each refresh starts the chosen blocks afresh (moments and bias correction), as the
        // authors' BlockOptimizer does for every block it (re)activates.
        if (on) allocate_moments(p, p.numel, s);
      }
    }
  }
}

void Optimizer::install_indices(ParamState& p, const std::vector<int32_t>& idx, const std::vector<float>& scales,
                                bool keep_state, StreamHandle s) {
  int64_t lines = p.axis == AXIS_ROWS ? p.rows : (p.axis == AXIS_COLS ? p.cols : p.numel);
  int64_t line_len = p.axis == AXIS_ROWS ? p.cols : (p.axis == AXIS_COLS ? p.rows : 1);
  int64_t k = (int64_t)idx.size();
  if (k == 0) {
    // density 0: nothing is state-full, so no indices, mask or moments are kept; the step gives
    // the whole matrix the state-free rule.
    p.indices.reset();
    p.scales.reset();
    p.mask.reset();
    p.slot_steps.reset();
    p.m.reset();
    p.v.reset();
    p.state_elems = 0;
    p.state_step = 0;
    p.count = 0;
    p.has_duplicates = false;
    return;
  }
  std::vector<uint8_t> mask(((lines + 3) / 4) * 4, 0);
  bool dup = false;
  for (int32_t i : idx) {
    if (mask[i]) dup = true;
    mask[i] = 1;
  }
  // Carrying moments: a line kept from the old selection keeps its slot's values.
  std::vector<uint8_t> old_m, old_v;
  std::vector<int32_t> old_idx, old_steps;
  const frugal_group_options& o = groups_[p.group].options;
  int64_t esize = dtype_size(o.state_dtype);
  bool carry = keep_state && p.m && p.count > 0;
  if (carry) {
    old_idx.resize(p.count);
    backend_->copy_to_host(old_idx.data(), p.indices.get(), p.count * 4, s);
    old_m.resize(p.m.bytes());
    backend_->copy_to_host(old_m.data(), p.m.get(), p.m.bytes(), s);
    if (p.v) {
      old_v.resize(p.v.bytes());
      backend_->copy_to_host(old_v.data(), p.v.get(), p.v.bytes(), s);
    }
    if (p.slot_steps) {
      old_steps.resize(p.count);
      backend_->copy_to_host(old_steps.data(), p.slot_steps.get(), p.count * 4, s);
    } else {
      old_steps.assign(p.count, (int32_t)std::min<int64_t>(p.state_step, INT32_MAX));
    }
  }
  Buffer new_idx(device_, k * 4, FRUGAL_MEM_OPTIMIZER_STATE);
  Buffer new_scales;
  if (p.kind == FRUGAL_SEL_GRASS) new_scales = Buffer(device_, k * 4, FRUGAL_MEM_OPTIMIZER_STATE);
  Buffer new_mask(device_, mask.size(), FRUGAL_MEM_OPTIMIZER_STATE);
  // Per-entry step counters: 0 for every entry here; carried ones are filled in below.
  std::vector<int32_t> steps;
  Buffer new_steps;
  if (per_slot_steps(p)) {
    steps.assign(k, 0);
    new_steps = Buffer(device_, k * 4, FRUGAL_MEM_OPTIMIZER_STATE);
  }
  backend_->copy_from_host(new_idx.get(), idx.data(), k * 4, s);
  if (new_scales) backend_->copy_from_host(new_scales.get(), scales.data(), k * 4, s);
  backend_->copy_from_host(new_mask.get(), mask.data(), mask.size(), s);
  int64_t old_count = p.count;
  p.indices = std::move(new_idx);
  p.scales = std::move(new_scales);
  p.mask = std::move(new_mask);
  p.slot_steps = std::move(new_steps);
  p.count = k;
  p.has_duplicates = dup;
  int64_t saved_step = p.state_step;
  allocate_moments(p, k * line_len, s);
  if (carry) {
    // Slot layout: ROWS/COORDS slot j is contiguous (j * line_len + t); COLS is (t * k + j).
    std::vector<uint8_t> new_m(p.m.bytes(), 0), new_v(p.v ? p.v.bytes() : 0, 0);
    std::vector<char> used(old_count, 0);
    for (int64_t j = 0; j < k; j++) {
      int64_t from = -1;
      for (int64_t oj = 0; oj < old_count; oj++)
        if (!used[oj] && old_idx[oj] == idx[j]) { from = oj; used[oj] = 1; break; }
      if (from < 0) continue;
      if (!steps.empty()) steps[j] = old_steps[from];
      for (int64_t t = 0; t < line_len; t++) {
        int64_t dst = p.axis == AXIS_COLS ? t * k + j : j * line_len + t;
        int64_t src = p.axis == AXIS_COLS ? t * old_count + from : from * line_len + t;
        memcpy(&new_m[dst * esize], &old_m[src * esize], esize);
        if (p.v) memcpy(&new_v[dst * esize], &old_v[src * esize], esize);
      }
    }
    backend_->copy_from_host(p.m.get(), new_m.data(), new_m.size(), s);
    if (p.v) backend_->copy_from_host(p.v.get(), new_v.data(), new_v.size(), s);
    p.state_step = saved_step;
  }
  if (p.slot_steps) backend_->copy_from_host(p.slot_steps.get(), steps.data(), k * 4, s);
  if (carry || p.slot_steps) backend_->synchronize(s);  // the host vectors die at the end of this scope
}

void Optimizer::refresh_indexed(GroupState& g, ParamState& p, StreamHandle s) {
  const frugal_group_options& o = g.options;
  std::vector<int32_t> idx;
  std::vector<float> scales;
  p.axis = index_axis(o, p);
  int64_t lines = line_count(p, p.axis);
  if (o.external_selection) {  // indices checked by check_step
    idx = p.pending_indices;
    scales = p.pending_scales;
    p.pending = false;
    if (scales.empty()) scales.assign(idx.size(), 1.f);
  } else if (p.kind == FRUGAL_SEL_GRASS) {  // the draw count was checked by check_step
    int64_t r = o.rank > 0 ? std::min<int64_t>(o.rank, o.grass_replacement ? o.rank : lines)
                           : line_count(lines, o.density);
    if (r == 0) return install_indices(p, {}, {}, false, s);
    Buffer norms(device_, lines * 4, FRUGAL_MEM_WORKSPACE);
    backend_->line_norms(p.grad, p.grad_dtype, p.rows, p.cols, p.axis, norms.as<float>(), s);
    std::vector<float> host(lines);
    backend_->copy_to_host(host.data(), norms.get(), lines * 4, s);
    GrassChoice c = choose_grass(host, r, o.grass_sampling, o.grass_replacement != 0, g.rng);
    idx = std::move(c.indices);
    scales = std::move(c.scales);
  } else {
    int64_t k = line_count(lines, o.density);
    idx = choose_distinct(lines, k, g.rng);
    scales.assign(idx.size(), 1.f);
  }
  install_indices(p, idx, scales, !o.reset_statistics, s);
}

void Optimizer::refresh_dense(GroupState& g, ParamState& p, StreamHandle s) {
  const frugal_group_options& o = g.options;
  bool left;
  switch (o.side) {
    case FRUGAL_SIDE_LEFT: left = true; break;
    case FRUGAL_SIDE_RIGHT: left = false; break;
    case FRUGAL_SIDE_REVERSE_STD: left = p.rows >= p.cols; break;
    default: left = p.rows < p.cols; break;  // std: right (G V) if m >= n, else left (U^T G)
  }
  int64_t q = std::min(p.rows, p.cols);
  int64_t side_len = left ? p.rows : p.cols;
  // The rank follows the projected side's length, as the reference's projector does (right:
  // round(n * density), left: round(m * density)), capped at min(m, n); density 0 is rank 0.
  int64_t rank = dense_rank(o.rank, o.density, p.rows, p.cols, left);
  if (rank == 0) {
    // Nothing is state-full: the whole matrix gets the state-free rule, and no state is kept.
    p.basis.reset();
    p.m.reset();
    p.v.reset();
    p.state_elems = 0;
    p.state_step = 0;
    p.left = left;
    p.axis = left ? AXIS_ROWS : AXIS_COLS;
    p.count = 0;
    return;
  }
  std::vector<float> basis(side_len * rank);
  if (p.kind == FRUGAL_SEL_SVD) {
    int64_t mn = p.numel;
    float* gf = workspace(0, mn);
    backend_->to_f32_scaled(p.grad, p.grad_dtype, gf, mn, nullptr, s);
    bool done = false;
    if (!o.randomized_svd) {
      float* u = workspace(1, p.rows * q);
      float* sv = workspace(2, q);
      float* vt = workspace(3, q * p.cols);
      if (backend_->svd(gf, p.rows, p.cols, u, sv, vt, s)) {
        std::vector<float> hu(left ? p.rows * q : q * p.cols);
        backend_->copy_to_host(hu.data(), left ? (const void*)u : (const void*)vt, hu.size() * 4, s);
        for (int64_t i = 0; i < side_len; i++)
          for (int64_t r = 0; r < rank; r++) basis[i * rank + r] = left ? hu[i * q + r] : hu[r * p.cols + i];
        done = true;
      }
    }
    if (!done) {
      std::vector<float> hg(mn);
      backend_->copy_to_host(hg.data(), gf, mn * 4, s);
      // Finite: check_step refused (or skipped) a step whose SVD refresh reads NaN or Inf.
      std::vector<double> a(hg.begin(), hg.end());
      if (o.randomized_svd) {
        std::vector<double> vecs = host_randomized_singular_vectors(a.data(), p.rows, p.cols, rank, left, g.rng);
        for (size_t i = 0; i < basis.size(); i++) basis[i] = (float)vecs[i];
      } else {
        // Only the top `rank` vectors of the side in use: no full decomposition.
        std::vector<double> vecs = host_top_singular_vectors(a.data(), p.rows, p.cols, rank, left);
        for (size_t i = 0; i < basis.size(); i++) basis[i] = (float)vecs[i];
      }
    }
  } else if (p.kind == FRUGAL_SEL_RANDOM_ORTHO) {
    std::vector<double> a(side_len * rank);
    for (auto& x : a) x = g.rng.normal();
    orthonormalize_columns(a, side_len, rank);
    for (size_t i = 0; i < a.size(); i++) basis[i] = (float)a[i];
  } else {  // randperm: the basis picks `rank` random coordinates of the projected side
    std::fill(basis.begin(), basis.end(), 0.f);
    std::vector<int32_t> pick = choose_distinct(side_len, rank, g.rng);
    for (int64_t r = 0; r < rank; r++) basis[pick[r] * rank + r] = 1.f;
  }
  bool shape_changed = !p.basis || p.left != left || p.count != rank;
  if (shape_changed) p.basis = Buffer(device_, side_len * rank * 4, FRUGAL_MEM_OPTIMIZER_STATE);
  backend_->copy_from_host(p.basis.get(), basis.data(), basis.size() * 4, s);
  backend_->synchronize(s);  // `basis` is a host vector that dies here
  p.left = left;
  p.axis = left ? AXIS_ROWS : AXIS_COLS;
  p.count = rank;
  int64_t elems = rank * (left ? p.cols : p.rows);
  // GaLore keeps its moments across subspace changes (reset_statistics false); FRUGAL zeroes them.
  if (o.reset_statistics || !p.m || p.state_elems != elems || shape_changed) allocate_moments(p, elems, s);
}

}  // namespace frugal
