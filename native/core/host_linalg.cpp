#include "host_linalg.h"
#include <algorithm>
#include <cmath>
#include <numeric>

namespace frugal {

namespace {

// One-sided Jacobi on the columns of w, stored column by column (column j at w[j * rows]) so every
// inner loop runs over contiguous memory. Rotations accumulate in v (cols x cols, column-major).
// On return the columns of w are mutually orthogonal: w = a v.
void jacobi_columns(std::vector<double>& w, int64_t rows, int64_t cols, std::vector<double>& v) {
  v.assign(cols * cols, 0.0);
  for (int64_t i = 0; i < cols; i++) v[i * cols + i] = 1.0;
  std::vector<double> norms(cols);
  for (int64_t j = 0; j < cols; j++) {
    const double* x = &w[j * rows];
    double acc = 0;
    for (int64_t r = 0; r < rows; r++) acc += x[r] * x[r];
    norms[j] = acc;
  }
  for (int sweep = 0; sweep < 60; sweep++) {
    double off = 0.0;
    for (int64_t p = 0; p < cols - 1; p++) {
      for (int64_t q = p + 1; q < cols; q++) {
        double* x = &w[p * rows];
        double* y = &w[q * rows];
        double gamma = 0;
        for (int64_t r = 0; r < rows; r++) gamma += x[r] * y[r];
        double alpha = norms[p], beta = norms[q];
        if (gamma == 0.0 || alpha == 0.0 || beta == 0.0) continue;
        double rel = std::fabs(gamma) / std::sqrt(alpha * beta);
        off = std::max(off, rel);
        if (rel < 1e-15) continue;
        double zeta = (beta - alpha) / (2.0 * gamma);
        double t = (zeta >= 0 ? 1.0 : -1.0) / (std::fabs(zeta) + std::sqrt(1.0 + zeta * zeta));
        double c = 1.0 / std::sqrt(1.0 + t * t), s = c * t;
        double na = 0, nb = 0;
        for (int64_t r = 0; r < rows; r++) {
          double xr = x[r], yr = y[r];
          double nx = c * xr - s * yr, ny = s * xr + c * yr;
          x[r] = nx;
          y[r] = ny;
          na += nx * nx;
          nb += ny * ny;
        }
        norms[p] = na;
        norms[q] = nb;
        double* vp = &v[p * cols];
        double* vq = &v[q * cols];
        for (int64_t r = 0; r < cols; r++) {
          double xr = vp[r], yr = vq[r];
          vp[r] = c * xr - s * yr;
          vq[r] = s * xr + c * yr;
        }
      }
    }
    if (off < 1e-15) break;
  }
}

}  // namespace

void host_svd(const double* a, int64_t m, int64_t n, std::vector<double>& u, std::vector<double>& s,
              std::vector<double>& vt) {
  // Work on the orientation with fewer columns: a (m >= n) or a^T (m < n).
  bool transposed = m < n;
  int64_t rows = transposed ? n : m, cols = transposed ? m : n;
  // Column-major w: element (r, c) of the worked matrix at w[c * rows + r].
  std::vector<double> w(rows * cols), v;
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      if (transposed) w[i * rows + j] = a[i * n + j];  // worked matrix a^T: (j, i)
      else w[j * rows + i] = a[i * n + j];
    }
  jacobi_columns(w, rows, cols, v);
  int64_t q = cols;
  std::vector<double> norms(q);
  for (int64_t j = 0; j < q; j++) {
    double acc = 0;
    for (int64_t r = 0; r < rows; r++) acc += w[j * rows + r] * w[j * rows + r];
    norms[j] = std::sqrt(acc);
  }
  std::vector<int64_t> order(q);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return norms[x] > norms[y]; });
  // left = w_j / s_j (rows x q), right = v (cols x q): for a^T the roles swap.
  std::vector<double> left(rows * q), right(cols * q);
  s.assign(q, 0.0);
  for (int64_t k = 0; k < q; k++) {
    int64_t j = order[k];
    s[k] = norms[j];
    for (int64_t r = 0; r < rows; r++) left[r * q + k] = norms[j] > 0 ? w[j * rows + r] / norms[j] : 0.0;
    for (int64_t r = 0; r < cols; r++) right[r * q + k] = v[j * cols + r];
  }
  // A zero singular value leaves its left vector empty: complete it to an orthonormal set.
  for (int64_t k = 0; k < q; k++) {
    if (s[k] > 0) continue;
    for (int64_t e = 0; e < rows; e++) {
      std::vector<double> cand(rows, 0.0);
      cand[e] = 1.0;
      for (int64_t k2 = 0; k2 < q; k2++) {
        if (k2 == k || (s[k2] == 0 && k2 > k)) continue;
        double d = 0;
        for (int64_t r = 0; r < rows; r++) d += cand[r] * left[r * q + k2];
        for (int64_t r = 0; r < rows; r++) cand[r] -= d * left[r * q + k2];
      }
      double nn = 0;
      for (double x : cand) nn += x * x;
      if (nn > 1e-6) {
        nn = std::sqrt(nn);
        for (int64_t r = 0; r < rows; r++) left[r * q + k] = cand[r] / nn;
        break;
      }
    }
  }
  u.assign(m * q, 0.0);
  vt.assign(q * n, 0.0);
  if (!transposed) {
    u = left;  // m x q
    for (int64_t k = 0; k < q; k++)
      for (int64_t j = 0; j < n; j++) vt[k * n + j] = right[j * q + k];
  } else {
    // a^T = left s right^T  =>  a = right s left^T: u = right (m x q), vt = left^T (q x n).
    u = right;
    for (int64_t k = 0; k < q; k++)
      for (int64_t j = 0; j < n; j++) vt[k * n + j] = left[j * q + k];
  }
}

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
