// CPU model ops that work row by row or element by element: embedding, RMSNorm, SwiGLU, axpy,
// column gathers. Reductions over rows (weight gradients) are split by columns instead, so each
// output has one owner that sums the rows in order: deterministic for any thread count.
#include <cmath>
#include <algorithm>
#include <cstring>
#include <vector>

#include "../../math/dtype_convert.h"
#include "../../model/model_math.h"
#include "cpu_model_ops.h"
#include "../thread_pool.h"

namespace frugal {
namespace model {

namespace {
// A weight vector widened to fp32 once per call (bf16 weights would otherwise be converted once
// per row).
std::vector<float> widened(const void* w, int32_t dtype, int64_t n) {
  std::vector<float> out((size_t)n);
  for (int64_t i = 0; i < n; i++) out[(size_t)i] = load_elem(w, dtype, i);
  return out;
}

// Rows per task so that a task has some tens of thousands of elements.
int64_t row_grain(int64_t width) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, width)); }
// Columns per task for column-split reductions.
constexpr int64_t kColumnGrain = 64;
}  // namespace

// vocab is not read: the C API has range-checked the ids on the host.
void cpu_embedding_forward(const int32_t* ids, int64_t n, const void* table, int32_t dtype, int64_t /*vocab*/,
                           int64_t dim, float* out) {
  parallel_range(n, row_grain(dim), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) {
      int64_t base = (int64_t)ids[i] * dim;
      float* o = out + i * dim;
      if (dtype == F32) {
        std::memcpy(o, static_cast<const float*>(table) + base, (size_t)dim * sizeof(float));
      } else {
        for (int64_t c = 0; c < dim; c++) o[c] = load_elem(table, dtype, base + c);
      }
    }
  });
}

void cpu_embedding_backward(const int32_t* ids, int64_t n, const float* dout, void* dtable, int32_t dtype,
                            int64_t vocab, int64_t dim, bool accumulate) {
  parallel_range(dim, kColumnGrain, [&](int64_t c0, int64_t c1) {
    int64_t w = c1 - c0;
    if (dtype == F32) {
      float* t = static_cast<float*>(dtable);
      if (!accumulate)
        for (int64_t v = 0; v < vocab; v++) std::memset(t + v * dim + c0, 0, (size_t)w * sizeof(float));
      for (int64_t i = 0; i < n; i++) {
        float* row = t + (int64_t)ids[i] * dim;
        const float* g = dout + i * dim;
        for (int64_t c = c0; c < c1; c++) row[c] += g[c];
      }
    } else {
      // bf16 / f16 tables: sum in fp32 per column slice, round once.
      std::vector<float> acc((size_t)(vocab * w), 0.f);
      if (accumulate)
        for (int64_t v = 0; v < vocab; v++)
          for (int64_t c = c0; c < c1; c++) acc[(size_t)(v * w + c - c0)] = load_elem(dtable, dtype, v * dim + c);
      for (int64_t i = 0; i < n; i++) {
        float* row = acc.data() + (int64_t)ids[i] * w;
        const float* g = dout + i * dim + c0;
        for (int64_t c = 0; c < w; c++) row[c] += g[c];
      }
      for (int64_t v = 0; v < vocab; v++)
        for (int64_t c = c0; c < c1; c++) store_elem(dtable, dtype, v * dim + c, acc[(size_t)(v * w + c - c0)]);
    }
  });
}

void cpu_rmsnorm_forward(const float* x, const void* w, int32_t w_dtype, float* y, float* rstd, int64_t rows,
                         int64_t dim, float eps) {
  const std::vector<float> wf = widened(w, w_dtype, dim);
  parallel_range(rows, row_grain(dim), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const float* xr = x + r * dim;
      float ss = 0.f;
      for (int64_t c = 0; c < dim; c++) ss += xr[c] * xr[c];
      float rs = rms_rstd(ss, dim, eps);
      rstd[r] = rs;
      float* yr = y + r * dim;
      for (int64_t c = 0; c < dim; c++) yr[c] = xr[c] * rs * wf[(size_t)c];
    }
  });
}

void cpu_rmsnorm_backward(const float* x, const void* w, int32_t w_dtype, const float* rstd, const float* dy, float* dx,
                          bool accumulate_dx, void* dw, int32_t dw_dtype, bool accumulate_dw, int64_t rows,
                          int64_t dim) {
  // dx = rstd * (g - x * rstd^2 * mean(g * x)) with g = dy * w.
  if (dx) {
    const std::vector<float> wf = widened(w, w_dtype, dim);
    parallel_range(rows, row_grain(dim), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; r++) {
        const float* xr = x + r * dim;
        const float* dyr = dy + r * dim;
        float dot = 0.f;
        for (int64_t c = 0; c < dim; c++) dot += dyr[c] * wf[(size_t)c] * xr[c];
        float rs = rstd[r];
        float coef = rs * rs * rs * dot / (float)dim;
        float* dxr = dx + r * dim;
        for (int64_t c = 0; c < dim; c++) {
          float v = rs * dyr[c] * wf[(size_t)c] - coef * xr[c];
          dxr[c] = accumulate_dx ? dxr[c] + v : v;
        }
      }
    });
  }
  // dw[c] = sum over rows of dy * x * rstd.
  if (dw) {
    parallel_range(dim, kColumnGrain, [&](int64_t c0, int64_t c1) {
      std::vector<float> acc((size_t)(c1 - c0), 0.f);
      for (int64_t r = 0; r < rows; r++) {
        const float* xr = x + r * dim;
        const float* dyr = dy + r * dim;
        float rs = rstd[r];
        for (int64_t c = c0; c < c1; c++) acc[(size_t)(c - c0)] += dyr[c] * xr[c] * rs;
      }
      for (int64_t c = c0; c < c1; c++) {
        float old = accumulate_dw ? load_elem(dw, dw_dtype, c) : 0.f;
        store_elem(dw, dw_dtype, c, old + acc[(size_t)(c - c0)]);
      }
    });
  }
}

void cpu_swiglu_forward(const float* gate, const float* up, float* out, int64_t n) {
  parallel_range(n, 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) out[i] = swiglu(gate[i], up[i]);
  });
}

void cpu_swiglu_backward(const float* gate, const float* up, const float* dout, float* dgate, float* dup, int64_t n) {
  parallel_range(n, 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) swiglu_grad(gate[i], up[i], dout[i], &dgate[i], &dup[i]);
  });
}

void cpu_axpy(float* y, const float* x, int64_t n, float alpha) {
  parallel_range(n, 65536, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) y[i] += alpha * x[i];
  });
}

void cpu_gather_columns(const float* src, int64_t rows, int64_t cols, const int32_t* idx, const float* scale, int64_t k,
                        float* dst) {
  parallel_range(rows, row_grain(k), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const float* s = src + r * cols;
      float* d = dst + r * k;
      for (int64_t j = 0; j < k; j++) d[j] = (scale ? scale[j] : 1.f) * s[idx[j]];
    }
  });
}

}  // namespace model
}  // namespace frugal
