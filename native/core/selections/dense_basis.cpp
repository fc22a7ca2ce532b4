// Selections of a dense subspace: the gradient is projected onto `rank` orthonormal vectors of one
// side (left: P^T G, right: G P), the state-full rule runs in that subspace and the rest of the
// gradient gets the state-free rule. SVD (GaLore's top singular vectors), RANDOM_ORTHO (a random
// orthonormal basis) and RANDPERM (random coordinates of the projected side).
#include <algorithm>
#include <string>
#include <vector>
#include "../errors.h"
#include "../host_linalg.h"
#include "../optimizer.h"
#include "../selection.h"
#include "selection_state.h"

namespace frugal {

namespace {

class DenseBasisSelection : public SelectionState {
 public:
  using SelectionState::SelectionState;

  void refresh(SelectionContext& ctx, ParamState& p, StreamHandle s) override {
    const frugal_group_options& o = ctx.options();
    // A basis read off the gradient waits for a step that has one; the old one stays.
    if (reads_gradient() && !p.grad) return;
    bool left;
    switch (o.side) {
      case FRUGAL_SIDE_LEFT: left = true; break;
      case FRUGAL_SIDE_RIGHT: left = false; break;
      case FRUGAL_SIDE_REVERSE_STD: left = p.rows >= p.cols; break;
      default: left = p.rows < p.cols; break;  // std: right (G V) if m >= n, else left (U^T G)
    }
    int64_t side_len = left ? p.rows : p.cols;
    // The rank follows the projected side's length, as the reference's projector does (right:
    // round(n * density), left: round(m * density)), capped at min(m, n); density 0 is rank 0.
    int64_t rank = dense_rank(o.rank, o.density, p.rows, p.cols, left);
    if (rank == 0) {
      // Nothing is state-full: the whole matrix gets the state-free rule, and no state is kept.
      basis_.reset();
      p.m.reset();
      p.v.reset();
      p.state_elems = 0;
      p.state_step = 0;
      left_ = left;
      count_ = 0;
      return;
    }
    // Row-major side_len x rank: column r is basis vector r.
    std::vector<float> basis(side_len * rank);
    choose_basis(ctx, p, left, rank, basis, s);
    bool shape_changed = !basis_ || left_ != left || count_ != rank;
    if (shape_changed) basis_ = Buffer(ctx.device, side_len * rank * 4, FRUGAL_MEM_OPTIMIZER_STATE);
    ctx.backend.copy_from_host(basis_.get(), basis.data(), basis.size() * 4, s);
    ctx.backend.synchronize(s);  // `basis` is a host vector that dies here
    left_ = left;
    count_ = rank;
    int64_t elems = rank * (left ? p.cols : p.rows);
    // GaLore keeps its moments across subspace changes (reset_statistics false); FRUGAL zeroes them.
    if (o.reset_statistics || !p.m || p.state_elems != elems || shape_changed) ctx.allocate_moments(p, elems, s);
  }

  void step(SelectionContext& ctx, ParamState& p, const float* gscale, std::vector<ElementwiseJob>&,
            StreamHandle s) override {
    const frugal_group_options& o = ctx.options();
    if (count_ == 0) return step_state_free_only(ctx, p, gscale, s);
    p.state_step++;
    Backend& backend = ctx.backend;
    const bool left = left_;
    int64_t m = p.rows, n = p.cols, r = count_;
    int64_t mn = p.numel;
    float* gf = ctx.workspace(0, mn);
    float* gc = ctx.workspace(1, r * (left ? n : m));
    float* full = ctx.workspace(2, mn);
    float* proj = o.state_free != FRUGAL_RULE_NONE ? ctx.workspace(3, mn) : nullptr;
    const float* P = basis_.as<float>();
    backend.to_f32_scaled(p.grad, p.grad_dtype, gf, mn, gscale, s);
    GemmArgs a{};
    if (left) {  // gc = P^T G (r x n); back: P X (m x n)
      a = GemmArgs{true, false, r, n, m, 1.f, P, r, gf, n, 0.f, gc, n};
    } else {  // gc = G P (m x r); back: X P^T (m x n)
      a = GemmArgs{false, false, m, r, n, 1.f, gf, n, P, r, 0.f, gc, r};
    }
    backend.gemm(a, s);
    auto back = [&](const float* x, float* out) {
      GemmArgs b = left ? GemmArgs{false, false, m, n, r, 1.f, P, r, x, n, 0.f, out, n}
                        : GemmArgs{false, true, m, n, r, 1.f, x, r, P, r, 0.f, out, n};
      backend.gemm(b, s);
    };
    if (proj) back(gc, proj);
    RuleScalars rule = state_full_scalars(o, p.state_step);
    const float* gate = gscale ? gscale + 2 : nullptr;  // {1, skip}: gf is already scaled
    backend.compressed_direction(gc, p.m.get(), p.v.get(), o.state_dtype, r * (left ? n : m), rule, gate, s);
    back(gc, full);
    DenseApplyJob d{};
    d.p = p.data;
    d.p_dtype = p.dtype;
    d.g = gf;
    d.g_dtype = FRUGAL_F32;  // already scaled by the clip factor
    d.full = full;
    d.proj = proj;
    d.n = mn;
    d.decay = decay_factor(o);
    d.lr_full = rule_direction_scale(rule);
    d.state_free = state_free_scalars(o);
    backend.dense_apply(d, gate, s);
  }

  void describe(frugal_selection_info& out) const override {
    out.kind = kind_.id;
    out.axis = axis();
    out.count = count_;
  }
  void counters(const ParamState&, frugal_param_counters& c) const override {
    c.kind = kind_.id;
    c.axis = axis();
    c.selection_count = count_;
  }
  void list_state(StateTensorList& out) const override {
    out.add("basis", basis_, FRUGAL_F32, (int64_t)(basis_.bytes() / 4));
  }
  uint64_t state_bytes() const override { return basis_.bytes(); }

  void restore(SelectionContext& ctx, ParamState& p, const frugal_param_counters& c) override {
    if (c.axis != AXIS_ROWS && c.axis != AXIS_COLS)
      invalid("counters.axis: expected 0 (rows) or 1 (columns), got " + std::to_string(c.axis));
    const bool left = c.axis == AXIS_ROWS;
    const int64_t rank = c.selection_count;
    if (rank > std::min(p.rows, p.cols)) invalid("counters.selection_count: rank larger than the matrix");
    // The basis and the moments into locals first: running out of memory at either leaves the
    // param as it was.
    Buffer basis;
    if (rank) {
      basis = Buffer(ctx.device, (left ? p.rows : p.cols) * rank * 4, FRUGAL_MEM_OPTIMIZER_STATE);
      ctx.backend.zero(basis.get(), basis.bytes(), nullptr);  // zeroed, as frugal.h promises
    }
    Moments moments = ctx.new_moments(rank * (left ? p.cols : p.rows), nullptr);
    // Everything exists: the swap cannot fail.
    basis_ = std::move(basis);
    moments.install(p);
    left_ = left;
    count_ = rank;
  }

 protected:
  // The basis for this refresh: side_len x rank, row-major, orthonormal columns.
  virtual void choose_basis(SelectionContext& ctx, const ParamState& p, bool left, int64_t rank,
                            std::vector<float>& basis, StreamHandle s) = 0;
  virtual bool reads_gradient() const { return false; }

 private:
  // The projected side as a line axis: left projects the rows' side (P^T G), right the columns'.
  int32_t axis() const { return left_ ? AXIS_ROWS : AXIS_COLS; }

  bool left_ = true;
  int64_t count_ = 0;  // the rank
  Buffer basis_;
};

// GaLore: the top `rank` singular vectors of the gradient's projected side.
class SvdBasis : public DenseBasisSelection {
 public:
  using DenseBasisSelection::DenseBasisSelection;
  bool refresh_needs_finite_gradient(const ParamState& p) const override { return p.grad != nullptr; }

 protected:
  bool reads_gradient() const override { return true; }
  void choose_basis(SelectionContext& ctx, const ParamState& p, bool left, int64_t rank, std::vector<float>& basis,
                    StreamHandle s) override {
    const frugal_group_options& o = ctx.options();
    Backend& backend = ctx.backend;
    int64_t q = std::min(p.rows, p.cols);
    int64_t side_len = left ? p.rows : p.cols;
    int64_t mn = p.numel;
    float* gf = ctx.workspace(0, mn);
    backend.to_f32_scaled(p.grad, p.grad_dtype, gf, mn, nullptr, s);
    if (!o.randomized_svd) {
      float* u = ctx.workspace(1, p.rows * q);
      float* sv = ctx.workspace(2, q);
      float* vt = ctx.workspace(3, q * p.cols);
      if (backend.svd(gf, p.rows, p.cols, u, sv, vt, s)) {
        std::vector<float> hu(left ? p.rows * q : q * p.cols);
        backend.copy_to_host(hu.data(), left ? (const void*)u : (const void*)vt, hu.size() * 4, s);
        for (int64_t i = 0; i < side_len; i++)
          for (int64_t r = 0; r < rank; r++) basis[i * rank + r] = left ? hu[i * q + r] : hu[r * p.cols + i];
        return;
      }
    }
    std::vector<float> hg(mn);
    backend.copy_to_host(hg.data(), gf, mn * 4, s);
    // Finite: check_step refused (or skipped) a step whose SVD refresh reads NaN or Inf.
    std::vector<double> a(hg.begin(), hg.end());
    // Only the top `rank` vectors of the side in use: no full decomposition.
    std::vector<double> vecs =
        o.randomized_svd ? host_randomized_singular_vectors(a.data(), p.rows, p.cols, rank, left, ctx.group.rng)
                         : host_top_singular_vectors(a.data(), p.rows, p.cols, rank, left);
    for (size_t i = 0; i < basis.size(); i++) basis[i] = (float)vecs[i];
  }
};

// A random orthonormal basis (normal draws, orthonormalized).
class RandomOrthoBasis : public DenseBasisSelection {
 public:
  using DenseBasisSelection::DenseBasisSelection;

 protected:
  void choose_basis(SelectionContext& ctx, const ParamState&, bool, int64_t rank, std::vector<float>& basis,
                    StreamHandle) override {
    const int64_t side_len = (int64_t)basis.size() / rank;
    std::vector<double> a(side_len * rank);
    for (auto& x : a) x = ctx.group.rng.normal();
    orthonormalize_columns(a, side_len, rank);
    for (size_t i = 0; i < a.size(); i++) basis[i] = (float)a[i];
  }
};

// `rank` random coordinates of the projected side: a column of the identity per basis vector.
class RandpermBasis : public DenseBasisSelection {
 public:
  using DenseBasisSelection::DenseBasisSelection;

 protected:
  void choose_basis(SelectionContext& ctx, const ParamState&, bool, int64_t rank, std::vector<float>& basis,
                    StreamHandle) override {
    const int64_t side_len = (int64_t)basis.size() / rank;
    std::fill(basis.begin(), basis.end(), 0.f);
    std::vector<int32_t> pick = choose_distinct(side_len, rank, ctx.group.rng);
    for (int64_t r = 0; r < rank; r++) basis[pick[r] * rank + r] = 1.f;
  }
};

}  // namespace

std::unique_ptr<SelectionState> make_dense_basis_selection(const SelectionKind& kind) {
  switch (kind.id) {
    case FRUGAL_SEL_SVD: return std::make_unique<SvdBasis>(kind);
    case FRUGAL_SEL_RANDOM_ORTHO: return std::make_unique<RandomOrthoBasis>(kind);
    default: return std::make_unique<RandpermBasis>(kind);
  }
}

}  // namespace frugal
