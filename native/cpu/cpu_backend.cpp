// The CPU backend: the reference arithmetic. Loops call the same shared rules (native/math) as
// the CUDA kernels, so what CI tests here is what the GPU computes.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>
#include "../core/backend.h"
#include "../math/counter_rng.h"
#include "../math/dtype_convert.h"
#include "parallel_for.h"

namespace frugal {

namespace {

inline float gscale_value(const float* gscale) { return gscale ? *gscale : 1.f; }

// Which element of a rows x cols matrix is position t of line `line` along `axis`.
inline int64_t element_of(int32_t axis, int64_t line, int64_t t, int64_t cols) {
  switch (axis) {
    case AXIS_ROWS: return line * cols + t;
    case AXIS_COLS: return t * cols + line;
    default: return line;
  }
}

class CpuBackend final : public Backend {
 public:
  const char* name() const override { return "cpu"; }
  bool is_cuda() const override { return false; }

  void* alloc(size_t bytes) override {
    size_t rounded = (bytes + 63) / 64 * 64;
    return std::aligned_alloc(64, rounded);
  }
  void release(void* ptr) override { std::free(ptr); }
  void zero(void* ptr, size_t bytes, StreamHandle) override { std::memset(ptr, 0, bytes); }
  void copy_from_host(void* dst, const void* src, size_t bytes, StreamHandle) override { std::memmove(dst, src, bytes); }
  void copy_to_host(void* dst, const void* src, size_t bytes, StreamHandle) override { std::memmove(dst, src, bytes); }
  void copy_within(void* dst, const void* src, size_t bytes, StreamHandle) override { std::memmove(dst, src, bytes); }
  void synchronize(StreamHandle) override {}

  void fill(void* p, int32_t dtype, int64_t n, float value, StreamHandle) override {
    parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) store_elem(p, dtype, i, value);
    });
  }

  void random(void* p, int32_t dtype, int64_t n, int32_t dist, uint64_t seed, float a, float b, StreamHandle) override {
    parallel_for(n, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; i++) {
        float x = dist == 0 ? a + (b - a) * counter_uniform(seed, (uint64_t)i, 0) : a + b * counter_normal(seed, (uint64_t)i);
        store_elem(p, dtype, i, x);
      }
    });
  }

  void cast(const void* src, int32_t sd, void* dst, int32_t dd, int64_t n, StreamHandle) override {
    parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) store_elem(dst, dd, i, load_elem(src, sd, i));
    });
  }

  void to_f32_scaled(const void* src, int32_t dtype, float* dst, int64_t n, const float* gscale, StreamHandle) override {
    float s = gscale_value(gscale);
    parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) dst[i] = load_elem(src, dtype, i) * s;
    });
  }

  void elementwise_step(const ElementwiseJob* jobs, size_t count, const float* gscale, StreamHandle) override {
    float gs = gscale_value(gscale);
    for (size_t j = 0; j < count; j++) {
      const ElementwiseJob& job = jobs[j];
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
    float gs = gscale_value(gscale);
    int64_t total = job.rows * job.cols;
    // Pass 1: decay everywhere; the state-free rule on the lines that are not selected. Skipped
    // when it would change nothing, so a Grass step touches only its k selected lines.
    bool pass1 = job.decay != 1.f || (job.state_free.rule != RULE_NONE && job.mask && job.g);
    if (pass1) parallel_for(total, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) {
        float p0 = load_elem(job.p, job.p_dtype, i);
        float d = 0.f;
        if (job.state_free.rule != RULE_NONE && job.mask && job.g) {
          int64_t line = job.axis == AXIS_ROWS ? i / job.cols : (job.axis == AXIS_COLS ? i % job.cols : i);
          if (!job.mask[line]) d = rule_delta(load_elem(job.g, job.g_dtype, i) * gs, p0, nullptr, nullptr, job.state_free);
        }
        store_elem(job.p, job.p_dtype, i, p0 * job.decay - d);
      }
    });
    // Pass 2: the state-full rule on the selected lines, scattered back (sequential when lines
    // repeat, so repeated draws add up deterministically).
    int64_t line_len = job.axis == AXIS_ROWS ? job.cols : (job.axis == AXIS_COLS ? job.rows : 1);
    auto slot_pass = [&](int64_t jb, int64_t je) {
      for (int64_t j = jb; j < je; j++) {
        int64_t line = job.idx[j];
        float rho = job.scale ? job.scale[j] : 1.f;
        for (int64_t t = 0; t < line_len; t++) {
          int64_t e = element_of(job.axis, line, t, job.cols);
          int64_t s = job.axis == AXIS_COLS ? t * job.k + j : j * line_len + t;
          float gc = job.gc ? load_elem(job.gc, job.gc_dtype, s) * gs : rho * load_elem(job.g, job.g_dtype, e) * gs;
          float p0 = load_elem(job.p, job.p_dtype, e);
          float m = job.m ? load_elem(job.m, job.state_dtype, s) : 0.f;
          float v = job.v ? load_elem(job.v, job.state_dtype, s) : 0.f;
          float d = rule_delta(gc, p0, &m, &v, job.state_full);
          store_elem(job.p, job.p_dtype, e, p0 - rho * d);
          if (job.m) store_elem(job.m, job.state_dtype, s, m);
          if (job.v) store_elem(job.v, job.state_dtype, s, v);
        }
      }
    };
    if (job.has_duplicates) slot_pass(0, job.k);
    else parallel_for(job.k, slot_pass, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, line_len)));
  }

  void compressed_direction(float* gc, void* m, void* v, int32_t sd, int64_t n, const RuleScalars& rule,
                            StreamHandle) override {
    parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) {
        float mi = m ? load_elem(m, sd, i) : 0.f;
        float vi = v ? load_elem(v, sd, i) : 0.f;
        float d = rule.rule == RULE_ADAMW ? adam_direction(gc[i], mi, vi, rule) : sgdm_direction(gc[i], mi, rule);
        gc[i] = d;
        if (m) store_elem(m, sd, i, mi);
        if (v) store_elem(v, sd, i, vi);
      }
    });
  }

  void dense_apply(const DenseApplyJob& job, const float* gscale, StreamHandle) override {
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
    // Double accumulation: the reference GEMM, exact to float32 rounding of the result.
    parallel_for(a.m, [&](int64_t rb, int64_t re) {
      std::vector<double> acc(a.n);
      for (int64_t i = rb; i < re; i++) {
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t l = 0; l < a.k; l++) {
          double av = a.trans_a ? a.a[l * a.lda + i] : a.a[i * a.lda + l];
          if (av == 0.0) continue;
          if (a.trans_b) {
            for (int64_t j = 0; j < a.n; j++) acc[j] += av * a.b[j * a.ldb + l];
          } else {
            const float* brow = a.b + l * a.ldb;
            for (int64_t j = 0; j < a.n; j++) acc[j] += av * brow[j];
          }
        }
        float* crow = a.c + i * a.ldc;
        for (int64_t j = 0; j < a.n; j++)
          crow[j] = (float)(a.alpha * acc[j] + (a.beta == 0.f ? 0.0 : (double)a.beta * crow[j]));
      }
    }, std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(1, a.n * a.k)));
  }

  void sum_squares(const void* const* ptrs, const int32_t* dtypes, const int64_t* ns, size_t count, float* acc,
                   StreamHandle) override {
    double total = 0;
    for (size_t t = 0; t < count; t++)
      for (int64_t i = 0; i < ns[t]; i++) {
        double x = load_elem(ptrs[t], dtypes[t], i);
        total += x * x;
      }
    *acc = (float)((double)*acc + total);
  }

  void clip_factor(const float* sumsq, float max_norm, float* out, StreamHandle) override {
    float norm = std::sqrt(*sumsq);
    float c = max_norm / (norm + 1e-6f);
    *out = c < 1.f ? c : 1.f;
  }

  void line_norms(const void* g, int32_t dtype, int64_t rows, int64_t cols, int32_t axis, float* out,
                  StreamHandle) override {
    int64_t lines = axis == AXIS_ROWS ? rows : cols;
    int64_t len = axis == AXIS_ROWS ? cols : rows;
    for (int64_t l = 0; l < lines; l++) {
      double s = 0;
      for (int64_t t = 0; t < len; t++) {
        double x = load_elem(g, dtype, element_of(axis, l, t, cols));
        s += x * x;
      }
      out[l] = (float)std::sqrt(s);
    }
  }
};

}  // namespace

Backend* cpu_backend() {
  static CpuBackend b;
  return &b;
}

}  // namespace frugal
