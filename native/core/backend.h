// What a backend must do: arithmetic on buffers it is handed. The optimizer framework (core)
// decides what to compute; a backend (cpu/, cuda/) only computes it. Every call is enqueued on a
// stream (ignored by the CPU) and returns without a host sync unless its comment says otherwise.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include "../math/line_geometry.h"
#include "../math/step_gate.h"
#include "../math/update_rules.h"

namespace frugal {

typedef void* StreamHandle;  // cudaStream_t on CUDA, unused on the CPU

// gscale, where an update call takes one, is null (the gradient as it is) or points at two device
// floats {scale, skip}: the gradient is read times scale (the clip factor), and skip != 0 (a
// non-finite gradient under the 'skip' policy) makes the call a no-op that writes nothing
// (step_skipped, math/step_gate.h). The flag is read on the device: skipping needs no host sync.

// One whole tensor updated by one rule (AdamW, SGDM, signSGD, SGD) after decoupled decay:
//   p = p0 * decay - rule_delta(g * (*gscale), p0), with p0 the value before decay (every rule
//   that reads p, such as SGD's coupled L2, sees p0).
// A list of these is one multi-tensor launch.
struct ElementwiseJob {
  void* p;
  int32_t p_dtype;
  const void* g;
  int32_t g_dtype;
  void* m;
  void* v;
  int32_t state_dtype;  // state slots of the rule (null where it has none)
  int64_t n;
  float decay;  // 1 - lr * weight_decay
  RuleScalars rule;
};

// A matrix (rows x cols, row-major) split by an index selection:
//   axis ROWS: lines are rows; COLS: lines are columns; COORDS: lines are single elements.
// idx[k] lists the selected lines (duplicates allowed for sampling with replacement; each
// occurrence has its own state slot and their updates add). scale[k] (or 1 when null) is the
// importance weight rho: the state-full rule sees gc_j = rho_j * g[idx_j] and the update is
// p[idx_j] -= alpha * rho_j * delta_j, with alpha folded into state_full's lr / step_size.
// Lines with mask == 0 get decay and the state-free rule on g (pass 1); selected lines get no
// state-free update, and their decay is folded into the state-full pass, so each element is
// rounded to its storage dtype once per step: p = p0 * decay - sum over its slots of rho_j *
// delta_j, every slot's rule seeing p0 (the value before the step), as elementwise_step does.
// (Without a mask no line is known as selected: pass 1 decays every element and the state-full
// pass then starts from that; the core always passes the mask.)
// slot_step, when given (index selections without resets), holds one step counter per selection
// entry: each step adds 1 to it and the entry's bias correction (step_size, eps_hat, SGDM's
// first step) comes from it and `bias` (native/math advance_slot), not from state_full.
// gc, when given, is the compressed gradient (already scaled by rho, and multiplied by *gscale
// like g), used in place of gathering g (Grass's compressed-gradient path; g may then be null and
// state-free NONE). Slot (j, t) of gc and of the moments sits at t * k + j for COLS (an m x k
// matrix, as G[:, idx]) and at j * line_len + t otherwise (k x n for ROWS).
// mask is required whenever state_free is not NONE, and for exact rounding whenever decay != 1.
// (Axis and the line geometry: math/line_geometry.h.)
struct IndexedJob {
  void* p;
  int32_t p_dtype;
  const void* g;
  int32_t g_dtype;
  const void* gc;
  int32_t gc_dtype;
  int64_t rows, cols;
  int32_t axis;
  const int32_t* idx;
  int64_t k;
  const float* scale;
  const uint8_t* mask;  // per line (ROWS: rows, COLS: cols, COORDS: rows*cols elements)
  void* m;
  void* v;
  int32_t state_dtype;  // k * line_len slots each
  float decay;
  RuleScalars state_full, state_free;
  int32_t has_duplicates;  // idx repeats a line: the scatter must accumulate
  int32_t* slot_step;      // k per-entry step counters (advanced here), or null
  AdamBiasInputs bias;     // with slot_step: what each entry's scalars are made from
  FRUGAL_HD LineGeometry geometry() const { return LineGeometry{axis, rows, cols}; }
};

// Row-major fp32 GEMM: C = alpha * op(A) op(B) + beta * C, op(A) is m x k, op(B) is k x n.
struct GemmArgs {
  bool trans_a, trans_b;
  int64_t m, n, k;
  float alpha;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float beta;
  float* c;
  int64_t ldc;
};

// Dense-subspace apply: p = p0 * decay - (lr_full * full + rule_free(g - proj, p0)), elementwise,
// where full = P delta and proj = P P^T g were formed by GEMMs (fp32 workspaces).
struct DenseApplyJob {
  void* p;
  int32_t p_dtype;
  const void* g;
  int32_t g_dtype;
  const float* full;
  const float* proj;
  int64_t n;
  float decay, lr_full;
  RuleScalars state_free;
};

class Backend {
 public:
  virtual ~Backend() {}
  virtual const char* name() const = 0;
  virtual bool is_cuda() const = 0;

  // Memory. alloc returns nullptr when out of memory (the caller reports it).
  virtual void* alloc(size_t bytes) = 0;
  virtual void release(void* ptr) = 0;
  virtual void zero(void* ptr, size_t bytes, StreamHandle s) = 0;
  virtual void copy_from_host(void* dst, const void* src, size_t bytes, StreamHandle s) = 0;
  virtual void copy_to_host(void* dst, const void* src, size_t bytes, StreamHandle s) = 0;  // syncs s
  virtual void copy_within(void* dst, const void* src, size_t bytes, StreamHandle s) = 0;
  virtual void synchronize(StreamHandle s) = 0;
  // Waits for all work on the device, on every stream (before memory is freed).
  virtual void synchronize_device() { synchronize(nullptr); }

  // Fills and conversions.
  virtual void fill(void* p, int32_t dtype, int64_t n, float value, StreamHandle s) = 0;
  // dist 0: uniform in [a, b); 1: normal with mean a, std b. Counter-based on (seed, index).
  virtual void random(void* p, int32_t dtype, int64_t n, int32_t dist, uint64_t seed, float a, float b,
                      StreamHandle s) = 0;
  virtual void cast(const void* src, int32_t src_dtype, void* dst, int32_t dst_dtype, int64_t n, StreamHandle s) = 0;

  // Optimizer arithmetic.
  virtual void elementwise_step(const ElementwiseJob* jobs, size_t count, const float* gscale, StreamHandle s) = 0;
  virtual void indexed_step(const IndexedJob& job, const float* gscale, StreamHandle s) = 0;
  // Adam (or, for any other rule, SGDM) on an fp32 compressed gradient, in place: gc becomes the
  // direction whose multiple by state_full.lr (SGDM) or step_size (Adam) is the update. gate is a
  // gscale whose scale is not applied (gc is already scaled): only its skip flag is read.
  virtual void compressed_direction(float* gc, void* m, void* v, int32_t state_dtype, int64_t n,
                                    const RuleScalars& rule, const float* gate, StreamHandle s) = 0;
  virtual void dense_apply(const DenseApplyJob& job, const float* gscale, StreamHandle s) = 0;
  virtual void gemm(const GemmArgs& args, StreamHandle s) = 0;
  // Cast a gradient (any float dtype) to an fp32 buffer, times *gscale when given.
  virtual void to_f32_scaled(const void* src, int32_t dtype, float* dst, int64_t n, const float* gscale,
                             StreamHandle s) = 0;

  // Reductions. sum_squares adds sum(x^2) of each tensor into *acc (device fp64 scalar): squares of
  // floats are exact in fp64 and their sum cannot overflow (each is below 1.2e77), so the total is
  // finite exactly when every element is.
  virtual void sum_squares(const void* const* ptrs, const int32_t* dtypes, const int64_t* ns, size_t count, double* acc,
                           StreamHandle s) = 0;
  // The step's gscale pair from the sum of squares, on the device: out[0] = the clip factor
  // min(1, max_norm / (sqrt(*sumsq) + 1e-6)) in fp64 (1 when max_norm <= 0); out[1] = skip = 1 when
  // skip_nonfinite and *sumsq is not finite, else 0; out[2..3] = {1, skip}; *skipped += skip.
  virtual void step_scalars(const double* sumsq, float max_norm, int32_t skip_nonfinite, float* out, int64_t* skipped,
                            StreamHandle s) = 0;
  // Euclidean norm of each row (axis ROWS) or column (COLS) into out (fp32, device); ROWS/COLS only.
  virtual void line_norms(const void* g, int32_t dtype, int64_t rows, int64_t cols, int32_t axis, float* out,
                          StreamHandle s) = 0;

  // Thin SVD of an fp32 row-major m x n matrix a (refresh steps only; may sync): u is m x q,
  // s has q values (descending), vt is q x n, q = min(m, n), all row-major fp32 on this backend.
  // Returns false when the backend has no SVD of its own; the core then computes it on the host.
  virtual bool svd(const float* a, int64_t m, int64_t n, float* u, float* s, float* vt, StreamHandle st) {
    (void)a;
    (void)m;
    (void)n;
    (void)u;
    (void)s;
    (void)vt;
    (void)st;
    return false;
  }
};

Backend* cpu_backend();
// The CUDA backend for device `ordinal`, or nullptr when the addon was built without CUDA or the
// device does not exist; `why` says which.
Backend* cuda_backend(int ordinal, std::string* why);

}  // namespace frugal
