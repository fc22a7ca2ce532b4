// The CPU backend: the reference arithmetic. Loops call the same shared rules (native/math) as
// the CUDA kernels, so what CI tests here is what the GPU computes.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>
#include "../core/backend.h"
#include "../math/counter_rng.h"
#include "../math/dtype_convert.h"
#include "model/cpu_model_ops.h"
#include "elementwise_cpu.h"
#include "indexed_cpu.h"
#include "parallel_for.h"
#include "path_counters.h"

namespace frugal {

namespace {

inline float gscale_value(const float* gscale) { return gscale ? *gscale : 1.f; }

// Large copies and fills in chunks across the cores: one thread's memmove moves about half of what
// the machine can, and the benchmarks' copy baseline should be the machine's, not one core's.
constexpr int64_t kCopyChunk = int64_t(1) << 20;

void parallel_copy(void* dst, const void* src, size_t bytes) {
  auto* d = static_cast<char*>(dst);
  const auto* s = static_cast<const char*>(src);
  const bool overlap = d < s + bytes && s < d + bytes;
  if (overlap || bytes < size_t(2 * kCopyChunk)) {
    std::memmove(dst, src, bytes);
    return;
  }
  parallel_for(
      int64_t(bytes), [&](int64_t b, int64_t e) { std::memcpy(d + b, s + b, size_t(e - b)); }, kCopyChunk);
}

void parallel_zero(void* dst, size_t bytes) {
  auto* d = static_cast<char*>(dst);
  parallel_for(
      int64_t(bytes), [&](int64_t b, int64_t e) { std::memset(d + b, 0, size_t(e - b)); }, kCopyChunk);
}

// FRUGAL_CPU_GENERIC_LOOPS=1: the scalar loops for every job, so tests can check the typed loops
// against them in one process (read per call: a test flips it between steps).
bool generic_loops_forced() {
  const char* env = std::getenv("FRUGAL_CPU_GENERIC_LOOPS");
  return env && env[0] == '1';
}

class CpuBackend final : public Backend {
 public:
  const char* name() const override { return "cpu"; }
  bool is_cuda() const override { return false; }

  void* alloc(size_t bytes) override {
    // aligned_alloc needs a multiple of the alignment; a size within 63 bytes of SIZE_MAX would
    // round up to 0 (an "allocation" with no memory), so it fails like any impossible size.
    if (bytes > SIZE_MAX - 63) return nullptr;
    size_t rounded = (bytes + 63) / 64 * 64;
    return std::aligned_alloc(64, rounded);
  }
  void release(void* ptr) override { std::free(ptr); }
  void zero(void* ptr, size_t bytes, StreamHandle) override { parallel_zero(ptr, bytes); }
  void copy_from_host(void* dst, const void* src, size_t bytes, StreamHandle) override {
    parallel_copy(dst, src, bytes);
  }
  void copy_to_host(void* dst, const void* src, size_t bytes, StreamHandle) override { parallel_copy(dst, src, bytes); }
  void copy_within(void* dst, const void* src, size_t bytes, StreamHandle) override { parallel_copy(dst, src, bytes); }
  void synchronize(StreamHandle) override {}

  void fill(void* p, int32_t dtype, int64_t n, float value, StreamHandle) override {
    parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) store_elem(p, dtype, i, value);
    });
  }

  void random(void* p, int32_t dtype, int64_t n, int32_t dist, uint64_t seed, float a, float b, StreamHandle) override {
    parallel_for(n, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; i++) {
        float x =
            dist == 0 ? a + (b - a) * counter_uniform(seed, (uint64_t)i, 0) : a + b * counter_normal(seed, (uint64_t)i);
        store_elem(p, dtype, i, x);
      }
    });
  }

  void cast(const void* src, int32_t sd, void* dst, int32_t dd, int64_t n, StreamHandle) override {
    parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) store_elem(dst, dd, i, load_elem(src, sd, i));
    });
  }

  void to_f32_scaled(const void* src, int32_t dtype, float* dst, int64_t n, const float* gscale,
                     StreamHandle) override {
    float s = gscale_value(gscale);
    parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) dst[i] = load_elem(src, dtype, i) * s;
    });
  }

  void elementwise_step(const ElementwiseJob* jobs, size_t count, const float* gscale, StreamHandle) override {
    if (step_skipped(gscale)) return;
    float gs = gscale_value(gscale);
    const bool generic_only = generic_loops_forced();
    for (size_t j = 0; j < count; j++) {
      const ElementwiseJob& job = jobs[j];
      cpu_elementwise::RangeFn typed = generic_only ? nullptr : cpu_elementwise::typed_loop(job);
      debug::count_path(typed ? debug::ELEMENTWISE_TYPED : debug::ELEMENTWISE_GENERIC);
      if (typed) {
        parallel_for(job.n, [&](int64_t b, int64_t e) { typed(job, gs, b, e); });
        continue;
      }
      parallel_for(job.n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; i++) {
          float p0 = load_elem(job.p, job.p_dtype, i);
          float g = load_elem(job.g, job.g_dtype, i) * gs;
          float m = job.m ? load_elem(job.m, job.state_dtype, i) : 0.f;
          float v = job.v ? load_elem(job.v, job.state_dtype, i) : 0.f;
          float d = rule_delta(g, p0, &m, &v, job.rule);
          store_elem(job.p, job.p_dtype, i, p0 * job.decay - d);
          if (job.m) store_elem(job.m, job.state_dtype, i, m);
          if (job.v) store_elem(job.v, job.state_dtype, i, v);
        }
      });
    }
  }

  void indexed_step(const IndexedJob& job, const float* gscale, StreamHandle) override {
    if (step_skipped(gscale)) return;
    float gs = gscale_value(gscale);
    int64_t total = job.rows * job.cols;
    // Pass 1: decay and the state-free rule on the lines that are not selected (the selected ones
    // are left to pass 2, which rounds them once). Skipped when it would change nothing, so a
    // Grass step touches only its k selected lines.
    const LineGeometry geo = job.geometry();
    const bool free_applies = job.state_free.rule != RULE_NONE && job.mask && job.g;
    const bool pass1 = job.decay != 1.f || free_applies;
    const bool generic_only = generic_loops_forced();
    cpu_indexed::RowsFn typed = pass1 && !generic_only ? cpu_indexed::typed_pass1(job, free_applies) : nullptr;
    if (pass1) debug::count_path(typed ? debug::INDEXED_PASS1_TYPED : debug::INDEXED_PASS1_GENERIC);
    if (typed) {
      parallel_for(
          job.rows, [&](int64_t b, int64_t e) { typed(job, gs, b, e); },
          std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, job.cols)));
    } else if (pass1) {
      parallel_for(total, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; i++) {
          int64_t line = geo.line_of(i);
          if (job.mask && job.mask[line]) continue;
          float p0 = load_elem(job.p, job.p_dtype, i);
          float d = free_applies
                        ? rule_delta(load_elem(job.g, job.g_dtype, i) * gs, p0, nullptr, nullptr, job.state_free)
                        : 0.f;
          store_elem(job.p, job.p_dtype, i, p0 * job.decay - d);
        }
      });
    }
    if (job.k <= 0) return;
    // Per-entry step counters (no resets): each entry's bias correction, once per step.
    std::vector<SlotScalars> slot_scalars;
    if (job.slot_step) {
      slot_scalars.resize((size_t)job.k);
      for (int64_t j = 0; j < job.k; j++)
        slot_scalars[j] = advance_slot(job.slot_step[j], job.state_full.rule, job.bias);
    }
    const SlotScalars* ss = job.slot_step ? slot_scalars.data() : nullptr;
    // Pass 2: the state-full rule on the selected lines, scattered back with the decay pass 1 left
    // out: p = p0 * decay - sum of rho_j * delta_j, in fp32, stored once.
    const float decay = job.mask ? job.decay : 1.f;
    int64_t line_len = geo.line_length();
    // rho_j * delta_j of entry j, element t of its line (flat index e), on the param's value p0.
    auto entry_delta = [&](int64_t j, int64_t t, int64_t e, float p0) {
      float rho = job.scale ? job.scale[j] : 1.f;
      int64_t s = geo.slot(j, t, job.k);
      float gc = job.gc ? load_elem(job.gc, job.gc_dtype, s) * gs : rho * load_elem(job.g, job.g_dtype, e) * gs;
      float m = job.m ? load_elem(job.m, job.state_dtype, s) : 0.f;
      float v = job.v ? load_elem(job.v, job.state_dtype, s) : 0.f;
      float d = rule_delta(gc, p0, &m, &v, ss ? with_slot(job.state_full, ss[j]) : job.state_full);
      if (job.m) store_elem(job.m, job.state_dtype, s, m);
      if (job.v) store_elem(job.v, job.state_dtype, s, v);
      return rho * d;
    };
    if (job.has_duplicates) {
      debug::count_path(debug::INDEXED_DUPLICATES);
      // Entries sorted by line (stable, so one line's entries stay in order j): each run of equal
      // lines updates its elements in fp32 and stores once, as the CUDA kernel does.
      std::vector<int64_t> order((size_t)job.k);
      for (int64_t j = 0; j < job.k; j++) order[j] = j;
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return job.idx[a] < job.idx[b]; });
      std::vector<int64_t> runs;  // start of each run, then k
      for (int64_t r = 0; r < job.k; r++)
        if (r == 0 || job.idx[order[r]] != job.idx[order[r - 1]]) runs.push_back(r);
      runs.push_back(job.k);
      auto run_element = [&](size_t run, int64_t t) {
        int64_t e = geo.element(job.idx[order[runs[run]]], t);
        float p0 = load_elem(job.p, job.p_dtype, e);
        float acc = p0 * decay;
        for (int64_t r = runs[run]; r < runs[run + 1]; r++) acc -= entry_delta(order[r], t, e, p0);
        store_elem(job.p, job.p_dtype, e, acc);
      };
      const int64_t nruns = (int64_t)runs.size() - 1;
      parallel_for(
          nruns,
          [&](int64_t rb, int64_t re) {
            for (int64_t run = rb; run < re; run++)
              for (int64_t t = 0; t < line_len; t++) run_element((size_t)run, t);
          },
          std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, line_len)));
      return;
    }
    auto apply = [&](int64_t j, int64_t t) {
      int64_t e = geo.element(job.idx[j], t);
      float p0 = load_elem(job.p, job.p_dtype, e);
      store_elem(job.p, job.p_dtype, e, p0 * decay - entry_delta(j, t, e, p0));
    };
    const cpu_indexed::Pass2Fns typed2 =
        generic_only ? cpu_indexed::Pass2Fns{nullptr, nullptr} : cpu_indexed::typed_pass2(job);
    debug::count_path((job.axis == AXIS_COLS ? typed2.rows != nullptr : typed2.lines != nullptr)
                          ? debug::INDEXED_PASS2_TYPED
                          : debug::INDEXED_PASS2_GENERIC);
    if (job.axis == AXIS_COLS) {
      // Row by row: slots (t, 0..k) are contiguous and the gathered elements share a row, where a
      // column at a time would stride through the whole matrix.
      parallel_for(
          job.rows,
          [&](int64_t tb, int64_t te) {
            if (typed2.rows) return typed2.rows(job, gs, ss, tb, te);
            for (int64_t t = tb; t < te; t++)
              for (int64_t j = 0; j < job.k; j++) apply(j, t);
          },
          std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, job.k)));
    } else {
      parallel_for(
          job.k,
          [&](int64_t jb, int64_t je) {
            if (typed2.lines) return typed2.lines(job, gs, ss, jb, je);
            for (int64_t j = jb; j < je; j++)
              for (int64_t t = 0; t < line_len; t++) apply(j, t);
          },
          std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, line_len)));
    }
  }

  void compressed_direction(float* gc, void* m, void* v, int32_t sd, int64_t n, const RuleScalars& rule,
                            const float* gate, StreamHandle) override {
    if (step_skipped(gate)) return;
    // The rule's direction (the table's DirectionOf, SGDM's for an unknown id) resolved once.
    auto run = [&](auto direction) {
      using Direction = typename decltype(direction)::type;
      parallel_for(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; i++) {
          float mi = m ? load_elem(m, sd, i) : 0.f;
          float vi = v ? load_elem(v, sd, i) : 0.f;
          gc[i] = Direction::direction(gc[i], mi, vi, rule);
          if (m) store_elem(m, sd, i, mi);
          if (v) store_elem(v, sd, i, vi);
        }
      });
      return true;
    };
    const auto known = [&](auto tag) { return run(RuleTag<DirectionOf<typename decltype(tag)::type>>{}); };
    if (!visit_rule(rule.rule, known, false)) run(RuleTag<SgdMomentum>{});
  }

  void dense_apply(const DenseApplyJob& job, const float* gscale, StreamHandle) override {
    if (step_skipped(gscale)) return;
    float gs = gscale_value(gscale);
    parallel_for(job.n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) {
        float p0 = load_elem(job.p, job.p_dtype, i);
        float d = job.lr_full * job.full[i];
        if (job.state_free.rule != RULE_NONE) {
          float r = load_elem(job.g, job.g_dtype, i) * gs - job.proj[i];
          d += rule_delta(r, p0, nullptr, nullptr, job.state_free);
        }
        store_elem(job.p, job.p_dtype, i, p0 * job.decay - d);
      }
    });
  }

  void gemm(const GemmArgs& a, StreamHandle) override {
    // The blocked fp32 GEMM the CPU model ops use (AVX-512 / AVX2 micro kernels, picked at run
    // time): results agree with the GPU's cuBLAS within float32 tolerance, as DESIGN.md asks.
    // The kernel simulator holds the CUDA fallback kernel to a double-accumulation oracle instead.
    model::cpu_gemm(model::GemmDesc{a.trans_a, a.trans_b, a.m, a.n, a.k, a.alpha, a.a, F32, a.lda, a.b, F32, a.ldb,
                                    a.beta, a.c, F32, a.ldc});
  }

  void sum_squares(const void* const* ptrs, const int32_t* dtypes, const int64_t* ns, size_t count, double* acc,
                   StreamHandle) override {
    double total = 0;
    for (size_t t = 0; t < count; t++)
      for (int64_t i = 0; i < ns[t]; i++) {
        double x = load_elem(ptrs[t], dtypes[t], i);
        total += x * x;
      }
    *acc += total;
  }

  void step_scalars(const double* sumsq, float max_norm, int32_t skip_nonfinite, float* out, int64_t* skipped,
                    StreamHandle) override {
    if (step_gate_values(*sumsq, max_norm, skip_nonfinite, out) != 0.f) *skipped += 1;
  }

  void line_norms(const void* g, int32_t dtype, int64_t rows, int64_t cols, int32_t axis, float* out,
                  StreamHandle) override {
    // Each line's sum runs over its elements in order (t = 0, 1, ...), in double, whichever way
    // the matrix is walked, so the norms are the same bits as a line-at-a-time loop.
    if (axis == AXIS_COLS) {
      // Rows outer, a block of columns inner: contiguous reads instead of a stride of cols.
      parallel_for(
          cols,
          [&](int64_t cb, int64_t ce) {
            std::vector<double> acc((size_t)(ce - cb), 0.0);
            for (int64_t t = 0; t < rows; t++)
              for (int64_t c = cb; c < ce; c++) {
                double x = load_elem(g, dtype, t * cols + c);
                acc[(size_t)(c - cb)] += x * x;
              }
            for (int64_t c = cb; c < ce; c++) out[c] = (float)std::sqrt(acc[(size_t)(c - cb)]);
          },
          std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, rows)));
      return;
    }
    const LineGeometry geo{axis, rows, cols};  // rows here (columns took the path above)
    int64_t lines = geo.lines();
    int64_t len = geo.line_length();
    parallel_for(
        lines,
        [&](int64_t lb, int64_t le) {
          for (int64_t l = lb; l < le; l++) {
            double s = 0;
            for (int64_t t = 0; t < len; t++) {
              double x = load_elem(g, dtype, geo.element(l, t));
              s += x * x;
            }
            out[l] = (float)std::sqrt(s);
          }
        },
        std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, len)));
  }
};

}  // namespace

Backend* cpu_backend() {
  static CpuBackend b;
  return &b;
}

}  // namespace frugal
