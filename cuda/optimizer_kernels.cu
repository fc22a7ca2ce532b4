// The optimizer steps on the device. Each kernel streams its tensors once and calls the shared
// update rules of math/update_rules.h through the rule table's dispatch (rule_delta,
// rule_direction, advance_slot: so the CPU tests cover this arithmetic), with fp32 math for
// every storage dtype. Semantics are those documented in core/backend.h; where it leaves a choice
// open, the kernels do what the CPU reference (native/cpu/cpu_backend.cpp) does, operation for
// operation, so both round alike:
//   - the rule sees the parameter before decay: p = p * decay - rule_delta(g, p, ...);
//   - gscale multiplies whatever gradient is read, the compressed gc included; its skip flag
//     (step_skipped) makes every kernel that writes a param or a moment return at once;
//   - state slot of selection entry j, element t of its line: t * k + j for columns (the m x k
//     layout of a column-compressed gradient), j * line_len + t otherwise.
#include "optimizer_kernels.cuh"

#include <cub/device/device_radix_sort.cuh>
#include <limits>
#include "grid_stride.cuh"
#include "math/dtype_convert.h"
#include "math/update_rules.h"

namespace frugal {
namespace cuda {
namespace {

// ---------------------------------------------------------------------------------------------
// Shared per-element pieces

__device__ __forceinline__ float read_gscale(const float* gscale) { return gscale ? *gscale : 1.f; }

// Decoupled decay and the rule, both from the parameter's value before the step.
__device__ __forceinline__ float decay_and_step(float p, float g, float* m, float* v, float decay,
                                                const RuleScalars& rule) {
  const float delta = rule_delta(g, p, m, v, rule);
  return p * decay - delta;
}

// ---------------------------------------------------------------------------------------------
// elementwise_step: multi-tensor apply. The jobs of one launch travel as a kernel parameter (no
// device copy, nothing to free, capturable in a graph); the work is cut into (job, chunk) items
// that blocks take in grid-stride order, so small and large tensors share one launch.

// 160 jobs cover every projectable matrix of a LLaMA-1B (168 with its norms in two launches).
constexpr int kMaxJobsPerLaunch = 160;
// Elements per work item. A multiple of 4 so every chunk of an aligned fp32 tensor starts on a
// 16-byte boundary; 4096 = 4 float4 per thread of a 256-thread block.
constexpr int64_t kChunk = 4096;

struct ElementwiseBatch {
  ElementwiseJob jobs[kMaxJobsPerLaunch];
  int64_t chunk_begin[kMaxJobsPerLaunch + 1];  // prefix sums of each job's chunk count
  uint8_t vectorized[kMaxJobsPerLaunch];       // all-fp32 and 16-byte aligned: float4 path
  int32_t count;
};
// Kernel parameters may take 32 KB since CUDA 12.1 on Volta and newer; this build needs a CUDA 13
// runtime (and so a driver that has the large limit) and targets sm_80+, so one launch can carry
// a whole model's job list instead of 4 KB's 24 jobs.
static_assert(sizeof(ElementwiseBatch) <= 32000, "ElementwiseBatch must fit in 32 KB of kernel parameters");

__device__ __forceinline__ void step4(float4& p, float4 g, float4& m, float4& v, float gs, float decay,
                                      const RuleScalars& rule) {
  p.x = decay_and_step(p.x, g.x * gs, &m.x, &v.x, decay, rule);
  p.y = decay_and_step(p.y, g.y * gs, &m.y, &v.y, decay, rule);
  p.z = decay_and_step(p.z, g.z * gs, &m.z, &v.z, decay, rule);
  p.w = decay_and_step(p.w, g.w * gs, &m.w, &v.w, decay, rule);
}

// fp32 everywhere and 16-byte aligned: 16-byte loads and stores, scalar tail at the tensor's end.
__device__ void elementwise_chunk_f32x4(const ElementwiseJob& job, int64_t begin, int64_t end, float gs) {
  const RuleScalars rule = job.rule;
  const float decay = job.decay;
  float* p = static_cast<float*>(job.p);
  const float* g = static_cast<const float*>(job.g);
  float* m = static_cast<float*>(job.m);
  float* v = static_cast<float*>(job.v);
  const int64_t vec_end = begin + ((end - begin) & ~int64_t(3));
  for (int64_t e = begin + 4 * (int64_t)threadIdx.x; e < vec_end; e += 4 * (int64_t)blockDim.x) {
    float4 pv = *reinterpret_cast<float4*>(p + e);
    const float4 gv = __ldg(reinterpret_cast<const float4*>(g + e));
    float4 mv = m ? *reinterpret_cast<float4*>(m + e) : make_float4(0.f, 0.f, 0.f, 0.f);
    float4 vv = v ? *reinterpret_cast<float4*>(v + e) : make_float4(0.f, 0.f, 0.f, 0.f);
    step4(pv, gv, mv, vv, gs, decay, rule);
    *reinterpret_cast<float4*>(p + e) = pv;
    if (m) *reinterpret_cast<float4*>(m + e) = mv;
    if (v) *reinterpret_cast<float4*>(v + e) = vv;
  }
  for (int64_t e = vec_end + threadIdx.x; e < end; e += blockDim.x) {
    float mv = m ? m[e] : 0.f, vv = v ? v[e] : 0.f;
    p[e] = decay_and_step(p[e], g[e] * gs, &mv, &vv, decay, rule);
    if (m) m[e] = mv;
    if (v) v[e] = vv;
  }
}

// Any mix of dtypes (bf16 / fp16 parameters or gradients, bf16 state): fp32 math, one element
// per thread and pass, coalesced.
__device__ void elementwise_chunk_any(const ElementwiseJob& job, int64_t begin, int64_t end, float gs) {
  const RuleScalars rule = job.rule;
  for (int64_t e = begin + threadIdx.x; e < end; e += blockDim.x) {
    float mv = job.m ? load_elem(job.m, job.state_dtype, e) : 0.f;
    float vv = job.v ? load_elem(job.v, job.state_dtype, e) : 0.f;
    const float g = load_elem(job.g, job.g_dtype, e) * gs;
    store_elem(job.p, job.p_dtype, e, decay_and_step(load_elem(job.p, job.p_dtype, e), g, &mv, &vv, job.decay, rule));
    if (job.m) store_elem(job.m, job.state_dtype, e, mv);
    if (job.v) store_elem(job.v, job.state_dtype, e, vv);
  }
}

__global__ void __launch_bounds__(kBlock) elementwise_step_kernel(const ElementwiseBatch batch, const float* gscale) {
  if (step_skipped(gscale)) return;
  const float gs = read_gscale(gscale);
  const int64_t total = batch.chunk_begin[batch.count];
  for (int64_t item = blockIdx.x; item < total; item += gridDim.x) {
    int j = 0;
    while (item >= batch.chunk_begin[j + 1]) ++j;  // at most 24 compares, uniform across the block
    const ElementwiseJob& job = batch.jobs[j];
    const int64_t begin = (item - batch.chunk_begin[j]) * kChunk;
    const int64_t end = begin + kChunk < job.n ? begin + kChunk : job.n;
    if (batch.vectorized[j])
      elementwise_chunk_f32x4(job, begin, end, gs);
    else
      elementwise_chunk_any(job, begin, end, gs);
  }
}

bool aligned16(const void* ptr) { return (reinterpret_cast<uintptr_t>(ptr) & 15u) == 0; }

bool is_vectorizable(const ElementwiseJob& job) {
  const bool state_f32 = (!job.m && !job.v) || job.state_dtype == F32;
  return job.p_dtype == F32 && job.g_dtype == F32 && state_f32 && aligned16(job.p) && aligned16(job.g) &&
         aligned16(job.m) && aligned16(job.v);
}

// ---------------------------------------------------------------------------------------------
// indexed_step: pass 1 streams the whole matrix (decay everywhere, the state-free rule on lines
// whose mask is 0); pass 2 walks the k * line_len state slots of the selected lines and applies the
// state-full rule. Two launches on one stream, so pass 2 sees pass 1's parameters.

// Decay and the state-free rule on the lines that are not selected. Elements of selected lines
// are left alone: the state-full kernels decay and update them with one rounding.
__global__ void __launch_bounds__(kBlock)
    indexed_decay_free_kernel(const IndexedJob job, const float* gscale, bool apply_free) {
  if (step_skipped(gscale)) return;
  const float gs = read_gscale(gscale);
  const int64_t n = job.rows * job.cols;
  const int64_t stride = grid_thread_count();
  RowColWalker rc(global_thread_index(), stride, job.cols);
  for (int64_t e = global_thread_index(); e < n; e += stride, rc.advance()) {
    const int64_t line = job.axis == AXIS_ROWS ? rc.row : (job.axis == AXIS_COLS ? rc.col : e);
    if (job.mask && job.mask[line]) continue;
    const float p = load_elem(job.p, job.p_dtype, e);
    float delta = 0.f;
    if (apply_free) delta = rule_delta(load_elem(job.g, job.g_dtype, e) * gs, p, nullptr, nullptr, job.state_free);
    store_elem(job.p, job.p_dtype, e, p * job.decay - delta);
  }
}

// Per-entry step counters (index selections without resets): advance each entry's counter and
// compute its bias-corrected scalars once, for the state-full kernels to read. A skipped step
// (nonFinite 'skip') leaves the counters alone, as the CPU backend does.
__global__ void __launch_bounds__(kBlock)
    indexed_slot_scalars_kernel(const IndexedJob job, const float* gscale, SlotScalars* out) {
  if (step_skipped(gscale)) return;
  for (int64_t j = global_thread_index(); j < job.k; j += grid_thread_count()) {
    int32_t t = job.slot_step[j];
    out[j] = advance_slot(t, job.state_full.rule, job.bias);
    job.slot_step[j] = t;
  }
}

// The decay pass 1 left to the state-full pass: all of it when pass 1 knew the selected lines.
__device__ __forceinline__ float state_full_decay(const IndexedJob& job) { return job.mask ? job.decay : 1.f; }

// rho_j * delta_j of selection entry j, element t of its line (flat index e), on the param's
// value p0 before the step; updates the entry's moments.
__device__ __forceinline__ float indexed_entry_delta(const IndexedJob& job, const SlotScalars* slot_scalars, int64_t j,
                                                     int64_t t, int64_t e, float p0, float gs) {
  const int64_t slot = job.geometry().slot(j, t, job.k);
  const float rho = job.scale ? job.scale[j] : 1.f;
  const float gc = job.gc ? load_elem(job.gc, job.gc_dtype, slot) * gs : rho * load_elem(job.g, job.g_dtype, e) * gs;
  float mv = job.m ? load_elem(job.m, job.state_dtype, slot) : 0.f;
  float vv = job.v ? load_elem(job.v, job.state_dtype, slot) : 0.f;
  const RuleScalars rule = slot_scalars ? with_slot(job.state_full, slot_scalars[j]) : job.state_full;
  const float delta = rule_delta(gc, p0, &mv, &vv, rule);
  if (job.m) store_elem(job.m, job.state_dtype, slot, mv);
  if (job.v) store_elem(job.v, job.state_dtype, slot, vv);
  return rho * delta;
}

// The state-full update of one slot (selection entry j, element t of its line), decay included.
__device__ __forceinline__ void indexed_slot_update(const IndexedJob& job, const SlotScalars* slot_scalars, int64_t j,
                                                    int64_t t, float gs) {
  const int64_t e = job.geometry().element(job.idx[j], t);
  const float p0 = load_elem(job.p, job.p_dtype, e);
  const float delta = indexed_entry_delta(job, slot_scalars, j, t, e, p0, gs);
  store_elem(job.p, job.p_dtype, e, p0 * state_full_decay(job) - delta);
}

// Distinct lines: every slot owns its parameter element, so a plain read-modify-write is safe.
// Threads walk the slots in state order (j fastest for columns, t fastest otherwise), so the
// moments and gc are read contiguously; for columns the parameter reads are then 32 columns of
// one row, as close to coalesced as the selection allows.
__global__ void __launch_bounds__(kBlock)
    indexed_state_full_kernel(const IndexedJob job, const float* gscale, const SlotScalars* slot_scalars) {
  if (step_skipped(gscale)) return;
  const float gs = read_gscale(gscale);
  const int64_t line_len = job.geometry().line_length();
  const int64_t slots = job.k * line_len;
  const int64_t stride = grid_thread_count();
  const bool cols = job.axis == AXIS_COLS;
  RowColWalker walk(global_thread_index(), stride, cols ? job.k : line_len);
  for (int64_t s = global_thread_index(); s < slots; s += stride, walk.advance()) {
    if (cols)
      indexed_slot_update(job, slot_scalars, walk.col, walk.row, gs);
    else
      indexed_slot_update(job, slot_scalars, walk.row, walk.col, gs);
  }
}

// Repeated lines: the selection entries sorted by line (stable, so entries of one line stay in
// the order j), one thread per (run of equal lines, element t) adding the run's updates in order
// j in fp32 to p0 * decay and storing once. Deterministic, and identical to the CPU's loop.
__global__ void __launch_bounds__(kBlock)
    indexed_state_full_duplicates_kernel(const IndexedJob job, const float* gscale, const SlotScalars* slot_scalars,
                                         const uint32_t* sorted_lines, const int32_t* sorted_entries) {
  if (step_skipped(gscale)) return;
  const float gs = read_gscale(gscale);
  const int64_t line_len = job.geometry().line_length();
  const int64_t slots = job.k * line_len;
  const int64_t stride = grid_thread_count();
  RowColWalker st(global_thread_index(), stride, line_len);
  for (int64_t s = global_thread_index(); s < slots; s += stride, st.advance()) {
    const int64_t first = st.row;
    const uint32_t line = sorted_lines[first];
    if (first > 0 && sorted_lines[first - 1] == line) continue;  // not the start of its run
    const int64_t e = job.geometry().element(line, st.col);
    const float p0 = load_elem(job.p, job.p_dtype, e);
    float acc = p0 * state_full_decay(job);
    for (int64_t r = first; r < job.k && sorted_lines[r] == line; ++r)
      acc -= indexed_entry_delta(job, slot_scalars, sorted_entries[r], st.col, e, p0, gs);
    store_elem(job.p, job.p_dtype, e, acc);
  }
}

__global__ void iota_kernel(int32_t* out, int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += grid_thread_count()) out[i] = (int32_t)i;
}

int bits_for(uint64_t count) {
  int bits = 1;
  while (bits < 32 && (uint64_t(1) << bits) < count) ++bits;
  return bits;
}

void launch_indexed_duplicates(const DeviceEnv& env, const IndexedJob& job, const float* gscale,
                               const SlotScalars* slot_scalars, int64_t slots) {
  if (job.k > std::numeric_limits<int32_t>::max()) invalid("indexed_step: k exceeds 2^31 - 1 with duplicates");
  const int num = (int)job.k;
  const int64_t lines = job.geometry().lines();
  const int end_bit = bits_for((uint64_t)lines);
  const uint32_t* keys_in = reinterpret_cast<const uint32_t*>(job.idx);  // indices are non-negative
  size_t sort_bytes = 0;
  check(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, keys_in, (uint32_t*)nullptr, (const int32_t*)nullptr,
                                        (int32_t*)nullptr, num, 0, end_bit, env.stream),
        "indexed_step: sort size query");
  const size_t list_bytes = align_up(sizeof(int32_t) * (size_t)num);
  StreamScratch scratch(3 * list_bytes + sort_bytes, env.stream);
  uint32_t* keys_out = scratch.at<uint32_t>(0);
  int32_t* entries_in = scratch.at<int32_t>(list_bytes);
  int32_t* entries_out = scratch.at<int32_t>(2 * list_bytes);
  void* sort_temp = scratch.at<void>(3 * list_bytes);

  iota_kernel<<<grid_blocks(env, num), kBlock, 0, env.stream>>>(entries_in, num);
  check_launch("indexed_step iota kernel");
  check(cub::DeviceRadixSort::SortPairs(sort_temp, sort_bytes, keys_in, keys_out, entries_in, entries_out, num, 0,
                                        end_bit, env.stream),
        "indexed_step: sort of duplicate indices");
  indexed_state_full_duplicates_kernel<<<grid_blocks(env, slots), kBlock, 0, env.stream>>>(job, gscale, slot_scalars,
                                                                                           keys_out, entries_out);
  check_launch("indexed_step state-full kernel (duplicates)");
}

// ---------------------------------------------------------------------------------------------
// compressed_direction and dense_apply: one element per thread, grid-stride. The direction is the
// rule table's (rule_direction: the rule's own where it has one, SGDM's for every other rule), as
// on the CPU.

__global__ void __launch_bounds__(kBlock)
    compressed_direction_kernel(float* gc, void* m, void* v, int32_t state_dtype, int64_t n, const RuleScalars rule,
                                const float* gate) {
  if (step_skipped(gate)) return;
  for (int64_t i = global_thread_index(); i < n; i += grid_thread_count()) {
    float mv = m ? load_elem(m, state_dtype, i) : 0.f;
    float vv = v ? load_elem(v, state_dtype, i) : 0.f;
    const float g = gc[i];
    gc[i] = rule_direction(g, mv, vv, rule);
    if (m) store_elem(m, state_dtype, i, mv);
    if (v) store_elem(v, state_dtype, i, vv);
  }
}

__global__ void __launch_bounds__(kBlock) dense_apply_kernel(const DenseApplyJob job, const float* gscale) {
  if (step_skipped(gscale)) return;
  const float gs = read_gscale(gscale);
  for (int64_t i = global_thread_index(); i < job.n; i += grid_thread_count()) {
    const float p = load_elem(job.p, job.p_dtype, i);
    float delta = job.full ? job.lr_full * job.full[i] : 0.f;
    if (job.state_free.rule != RULE_NONE) {
      const float g = load_elem(job.g, job.g_dtype, i) * gs;
      const float residual = job.proj ? g - job.proj[i] : g;
      delta += rule_delta(residual, p, nullptr, nullptr, job.state_free);
    }
    store_elem(job.p, job.p_dtype, i, p * job.decay - delta);
  }
}

}  // namespace

void launch_elementwise_step(const DeviceEnv& env, const ElementwiseJob* jobs, size_t count, const float* gscale) {
  size_t next = 0;
  while (next < count) {
    ElementwiseBatch batch;
    batch.count = 0;
    batch.chunk_begin[0] = 0;
    for (; next < count && batch.count < kMaxJobsPerLaunch; ++next) {
      const ElementwiseJob& job = jobs[next];
      if (job.n <= 0) continue;
      const int j = batch.count++;
      batch.jobs[j] = job;
      batch.vectorized[j] = is_vectorizable(job) ? 1 : 0;
      batch.chunk_begin[j + 1] = batch.chunk_begin[j] + (job.n + kChunk - 1) / kChunk;
    }
    if (batch.count == 0) break;
    const int64_t items = batch.chunk_begin[batch.count];
    elementwise_step_kernel<<<grid_blocks(env, items, 1), kBlock, 0, env.stream>>>(batch, gscale);
    check_launch("elementwise_step kernel");
  }
}

void launch_indexed_step(const DeviceEnv& env, const IndexedJob& job, const float* gscale) {
  const int64_t n = job.rows * job.cols;
  if (n <= 0) return;
  // Pass 1 only when it changes something: decay, or a state-free rule on unselected lines.
  // Without a mask no line is known to be unselected, so the state-free rule has nowhere to apply.
  const bool apply_free = job.state_free.rule != RULE_NONE && job.mask && job.g;
  if (job.decay != 1.f || apply_free) {
    indexed_decay_free_kernel<<<grid_blocks(env, n), kBlock, 0, env.stream>>>(job, gscale, apply_free);
    check_launch("indexed_step decay / state-free kernel");
  }
  // The state-full pass runs even for a rule without an update: it carries the selected lines' decay.
  if (job.k <= 0) return;
  if (!job.gc && !job.g) invalid("indexed_step: neither g nor gc is given for the selected lines");
  const int64_t line_len = job.geometry().line_length();
  const int64_t slots = job.k * line_len;
  StreamScratch scalars(job.slot_step ? sizeof(SlotScalars) * (size_t)job.k : 0, env.stream);
  const SlotScalars* slot_scalars = nullptr;
  if (job.slot_step) {
    indexed_slot_scalars_kernel<<<grid_blocks(env, job.k), kBlock, 0, env.stream>>>(job, gscale,
                                                                                    scalars.at<SlotScalars>(0));
    check_launch("indexed_step slot scalars kernel");
    slot_scalars = scalars.at<SlotScalars>(0);
  }
  if (job.has_duplicates) {
    launch_indexed_duplicates(env, job, gscale, slot_scalars, slots);
  } else {
    indexed_state_full_kernel<<<grid_blocks(env, slots), kBlock, 0, env.stream>>>(job, gscale, slot_scalars);
    check_launch("indexed_step state-full kernel");
  }
}

void launch_compressed_direction(const DeviceEnv& env, float* gc, void* m, void* v, int32_t state_dtype, int64_t n,
                                 const RuleScalars& rule, const float* gate) {
  if (n <= 0) return;
  compressed_direction_kernel<<<grid_blocks(env, n), kBlock, 0, env.stream>>>(gc, m, v, state_dtype, n, rule, gate);
  check_launch("compressed_direction kernel");
}

void launch_dense_apply(const DeviceEnv& env, const DenseApplyJob& job, const float* gscale) {
  if (job.n <= 0) return;
  dense_apply_kernel<<<grid_blocks(env, job.n), kBlock, 0, env.stream>>>(job, gscale);
  check_launch("dense_apply kernel");
}

}  // namespace cuda
}  // namespace frugal
