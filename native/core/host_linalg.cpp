#include "host_linalg.h"
#include <algorithm>
#include <cmath>
#include <numeric>

namespace frugal {

void orthonormalize_columns(std::vector<double>& a, int64_t rows, int64_t cols) {
  for (int64_t j = 0; j < cols; j++) {
    for (int pass = 0; pass < 2; pass++) {  // twice is enough for full orthogonality
      for (int64_t k = 0; k < j; k++) {
        double d = 0;
        for (int64_t r = 0; r < rows; r++) d += a[r * cols + j] * a[r * cols + k];
        for (int64_t r = 0; r < rows; r++) a[r * cols + j] -= d * a[r * cols + k];
      }
    }
    double nn = 0;
    for (int64_t r = 0; r < rows; r++) nn += a[r * cols + j] * a[r * cols + j];
    nn = std::sqrt(nn);
    for (int64_t r = 0; r < rows; r++) a[r * cols + j] = nn > 0 ? a[r * cols + j] / nn : 0.0;
  }
}

std::vector<double> host_randomized_singular_vectors(const double* a, int64_t m, int64_t n, int64_t rank,
                                                     bool want_left, HostRng& rng) {
  // Work with b = a (left vectors) or b = a^T (right vectors) as a rows x cols matrix.
  int64_t rows = want_left ? m : n, cols = want_left ? n : m;
  auto b = [&](int64_t i, int64_t j) { return want_left ? a[i * n + j] : a[j * n + i]; };
  int64_t l = std::min<int64_t>(std::min(rows, cols), rank + 10);
  std::vector<double> omega(cols * l), y(rows * l, 0.0), z(cols * l, 0.0);
  for (auto& x : omega) x = rng.normal();
  auto mul_b = [&](const std::vector<double>& in, std::vector<double>& out) {  // out = b in
    std::fill(out.begin(), out.end(), 0.0);
    for (int64_t i = 0; i < rows; i++)
      for (int64_t k = 0; k < cols; k++) {
        double bik = b(i, k);
        if (bik == 0) continue;
        for (int64_t j = 0; j < l; j++) out[i * l + j] += bik * in[k * l + j];
      }
  };
  auto mul_bt = [&](const std::vector<double>& in, std::vector<double>& out) {  // out = b^T in
    std::fill(out.begin(), out.end(), 0.0);
    for (int64_t i = 0; i < rows; i++)
      for (int64_t k = 0; k < cols; k++) {
        double bik = b(i, k);
        if (bik == 0) continue;
        for (int64_t j = 0; j < l; j++) out[k * l + j] += bik * in[i * l + j];
      }
  };
  mul_b(omega, y);
  orthonormalize_columns(y, rows, l);
  for (int it = 0; it < 2; it++) {
    mul_bt(y, z);
    orthonormalize_columns(z, cols, l);
    mul_b(z, y);
    orthonormalize_columns(y, rows, l);
  }
  // small = y^T b (l x cols); its SVD's left vectors rotate y into b's top singular vectors.
  std::vector<double> small(l * cols, 0.0);
  for (int64_t i = 0; i < rows; i++)
    for (int64_t k = 0; k < cols; k++) {
      double bik = b(i, k);
      for (int64_t j = 0; j < l; j++) small[j * cols + k] += y[i * l + j] * bik;
    }
  std::vector<double> su, ss, svt;
  host_svd(small.data(), l, cols, su, ss, svt);
  int64_t q = std::min(l, cols);
  std::vector<double> out(rows * rank, 0.0);
  for (int64_t i = 0; i < rows; i++)
    for (int64_t r = 0; r < rank && r < q; r++) {
      double acc = 0;
      for (int64_t j = 0; j < l; j++) acc += y[i * l + j] * su[j * q + r];
      out[i * rank + r] = acc;
    }
  return out;
}

}  // namespace frugal
