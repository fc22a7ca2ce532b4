// The exact thin SVD on the host, for SVD refreshes without cuSOLVER (and on the CPU backend).
//
// Method: the Gram matrix of the smaller side, C = B B^T (q x q, q = min(m, n)), formed in
// double; its eigen-decomposition by Householder tridiagonalization and the implicit symmetric
// QR algorithm with Wilkinson shifts; singular values sqrt(lambda); the other side's vectors
// B^T u / sigma, re-orthonormalized. In double, the eigenvectors of C are accurate to about
// 1e-16 * sigma_1^2 / (sigma_k^2 - sigma_k+1^2): far below float32 for every vector whose
// singular value stands apart, which is what a subspace refresh uses. The cost is O(q^2 max(m, n))
// for C plus O(q^3), where one-sided Jacobi needs some ten sweeps of O(q^2 max(m, n)) each.
//
// Singular vectors are defined up to sign; those of this routine need not match LAPACK's or
// cuSOLVER's (the reference runs are insensitive to the signs: see test/reference.test.ts).
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <stdexcept>
#include "host_linalg.h"
#include "../cpu/thread_pool.h"

namespace frugal {

namespace {

double dot(const double* __restrict x, const double* __restrict y, int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t r = 0;
  for (; r + 4 <= n; r += 4) {
    s0 += x[r] * y[r];
    s1 += x[r + 1] * y[r + 1];
    s2 += x[r + 2] * y[r + 2];
    s3 += x[r + 3] * y[r + 3];
  }
  for (; r < n; r++) s0 += x[r] * y[r];
  return (s0 + s1) + (s2 + s3);
}

// Rows per task so that a task does at least ~32k multiply-adds.
int64_t grain_for(int64_t work_per_row) {
  return std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(1, work_per_row));
}

// c = b b^T for b (q x len, row-major): both triangles written.
std::vector<double> gram(const std::vector<double>& b, int64_t q, int64_t len) {
  std::vector<double> c((size_t)(q * q));
  parallel_range(q, grain_for(q * len / 2), [&](int64_t ib, int64_t ie) {
    for (int64_t i = ib; i < ie; i++)
      for (int64_t j = i; j < q; j++) c[i * q + j] = dot(&b[i * len], &b[j * len], len);
  });
  for (int64_t i = 0; i < q; i++)
    for (int64_t j = 0; j < i; j++) c[i * q + j] = c[j * q + i];
  return c;
}

// The Householder reflectors of a tridiagonalization: H_k = I - beta_k v_k v_k^T acting on
// indices k+1 .. q-1 (beta_k = 0: H_k = I), Q = H_0 H_1 ... H_{q-3}.
struct Reflectors {
  std::vector<std::vector<double>> v;
  std::vector<double> beta;
};

// Householder reduction of the symmetric a (q x q, row-major, overwritten) to tridiagonal form
// T = Q^T a Q: diagonal d, off-diagonal e (e[i] = T[i][i+1]).
Reflectors tridiagonalize(std::vector<double>& a, int64_t q, std::vector<double>& d, std::vector<double>& e) {
  Reflectors h;
  h.v.resize(std::max<int64_t>(0, q - 2));
  h.beta.assign(std::max<int64_t>(0, q - 2), 0.0);
  std::vector<double> p(q), w(q);
  for (int64_t k = 0; k + 2 < q; k++) {
    const int64_t n = q - k - 1;    // size of the trailing block, rows/cols k+1 .. q-1
    double* x = &a[k * q + k + 1];  // row k right of the diagonal = column k below it
    const double norm = std::sqrt(dot(x, x, n));
    std::vector<double>& v = h.v[k];
    if (norm == 0.0) continue;  // already reduced: H_k = I
    const double alpha = x[0] > 0 ? -norm : norm;
    v.assign(x, x + n);
    v[0] -= alpha;
    const double vv = dot(v.data(), v.data(), n);
    if (vv == 0.0) continue;
    const double beta = 2.0 / vv;
    h.beta[k] = beta;
    // p = beta * A22 v; w = p - (beta / 2) (v.p) v; A22 -= v w^T + w v^T.
    double* a22 = &a[(k + 1) * q + k + 1];
    parallel_range(n, grain_for(n), [&](int64_t ib, int64_t ie) {
      for (int64_t i = ib; i < ie; i++) p[i] = beta * dot(a22 + i * q, v.data(), n);
    });
    const double kk = 0.5 * beta * dot(v.data(), p.data(), n);
    for (int64_t i = 0; i < n; i++) w[i] = p[i] - kk * v[i];
    parallel_range(n, grain_for(2 * n), [&](int64_t ib, int64_t ie) {
      for (int64_t i = ib; i < ie; i++) {
        double* row = a22 + i * q;
        const double vi = v[i], wi = w[i];
        for (int64_t j = 0; j < n; j++) row[j] -= vi * w[j] + wi * v[j];
      }
    });
    a[k * q + k + 1] = alpha;
    a[(k + 1) * q + k] = alpha;
  }
  d.resize(q);
  e.assign(q, 0.0);
  for (int64_t i = 0; i < q; i++) d[i] = a[i * q + i];
  for (int64_t i = 0; i + 1 < q; i++) e[i] = a[i * q + i + 1];
  return h;
}

// y <- H_k y for y (q x cols, row-major): rows k+1.. minus beta v (v^T y), restricted to the
// columns [c0, cols) (the others hold zeros below row k+1 when forming Q from the identity).
void apply_reflector(const Reflectors& h, int64_t k, int64_t q, std::vector<double>& y, int64_t cols, int64_t c0,
                     std::vector<double>& t) {
  if (h.beta[k] == 0.0) return;
  const std::vector<double>& v = h.v[k];
  const int64_t n = q - k - 1, width = cols - c0;
  double* block = &y[(k + 1) * cols + c0];
  std::fill(t.begin(), t.begin() + width, 0.0);
  for (int64_t i = 0; i < n; i++) {
    const double vi = v[i];
    const double* row = block + i * cols;
    for (int64_t j = 0; j < width; j++) t[j] += vi * row[j];
  }
  const double beta = h.beta[k];
  parallel_range(n, grain_for(width), [&](int64_t ib, int64_t ie) {
    for (int64_t i = ib; i < ie; i++) {
      double* row = block + i * cols;
      const double f = beta * v[i];
      for (int64_t j = 0; j < width; j++) row[j] -= f * t[j];
    }
  });
}

// Q = H_0 ... H_{q-3} (row-major), accumulated from the right end: H_k only touches rows and
// columns k+1.., where the product of the later reflectors is still the identity outside that block.
std::vector<double> form_q(const Reflectors& h, int64_t q) {
  std::vector<double> qm((size_t)(q * q), 0.0), t(q);
  for (int64_t i = 0; i < q; i++) qm[i * q + i] = 1.0;
  for (int64_t k = q - 3; k >= 0; k--) apply_reflector(h, k, q, qm, q, k + 1, t);
  return qm;
}

// y <- Q y for y (q x cols, row-major).
void apply_q(const Reflectors& h, int64_t q, std::vector<double>& y, int64_t cols) {
  std::vector<double> t(cols);
  for (int64_t k = q - 3; k >= 0; k--) apply_reflector(h, k, q, y, cols, 0, t);
}

// Implicit symmetric QR on the tridiagonal (d, e) with Wilkinson shifts; d ends holding the
// eigenvalues (unsorted). Every rotation G of the (k, k+1) plane, T <- G^T T G, is also applied to
// the columns of z when given (q x q, column-major: column k at z[k * q]), so z ends with the
// eigenvectors of the original matrix as columns.
void tridiagonal_qr(std::vector<double>& d, std::vector<double>& e, double* z, int64_t q) {
  const double eps = std::numeric_limits<double>::epsilon();
  std::vector<double> cs, sn;
  int64_t hi = q - 1;
  int64_t steps = 0;
  while (hi > 0) {
    if (std::fabs(e[hi - 1]) <= eps * (std::fabs(d[hi - 1]) + std::fabs(d[hi])) ||
        std::fabs(e[hi - 1]) < std::numeric_limits<double>::min()) {
      e[hi - 1] = 0.0;
      hi--;
      continue;
    }
    int64_t lo = hi - 1;
    while (lo > 0 && std::fabs(e[lo - 1]) > eps * (std::fabs(d[lo - 1]) + std::fabs(d[lo])) &&
           std::fabs(e[lo - 1]) >= std::numeric_limits<double>::min())
      lo--;
    if (++steps > 50 * q) throw std::runtime_error("host SVD: the symmetric QR iteration did not converge");
    // Wilkinson shift: the eigenvalue of the trailing 2 x 2 block nearer its last diagonal entry.
    const double delta = 0.5 * (d[hi - 1] - d[hi]);
    const double b2 = e[hi - 1] * e[hi - 1];
    const double mu = d[hi] - b2 / (delta + (delta >= 0 ? 1.0 : -1.0) * std::sqrt(delta * delta + b2));
    // Chase the bulge from lo to hi. Step k rotates rows/columns k, k+1 so that the entry below
    // the previous rotation's reach (x, z) becomes (r, 0); first (d[lo] - mu, e[lo]).
    double x = d[lo] - mu, g = e[lo];
    cs.clear();
    sn.clear();
    for (int64_t k = lo; k < hi; k++) {
      const double r = std::hypot(x, g);
      const double c = r == 0.0 ? 1.0 : x / r, s = r == 0.0 ? 0.0 : -g / r;
      if (k > lo) e[k - 1] = r;
      const double a = d[k], b = e[k], cc = d[k + 1];
      d[k] = c * c * a - 2.0 * c * s * b + s * s * cc;
      d[k + 1] = s * s * a + 2.0 * c * s * b + c * c * cc;
      e[k] = c * s * (a - cc) + (c * c - s * s) * b;
      if (k + 1 < hi) {
        const double f = e[k + 1];
        g = -s * f;  // the new bulge, at (k + 2, k)
        e[k + 1] = c * f;
        x = e[k];
      }
      cs.push_back(c);
      sn.push_back(s);
    }
    if (!z) continue;
    // z <- z G for every rotation of the sweep, in order; rows are independent, so row blocks
    // run in parallel: one long block per thread, so each rotation is a long vector operation.
    const int64_t block = std::max<int64_t>(64, (q + pool_threads() - 1) / pool_threads());
    parallel_range(q, (hi - lo) * q < (int64_t(1) << 14) ? q : block, [&](int64_t rb, int64_t re) {
      for (int64_t k = lo; k < hi; k++) {
        const double c = cs[k - lo], s = sn[k - lo];
        double* zk = &z[k * q];
        double* zk1 = &z[(k + 1) * q];
        for (int64_t r = rb; r < re; r++) {
          const double u = zk[r], v = zk1[r];
          zk[r] = c * u - s * v;
          zk1[r] = s * u + c * v;
        }
      }
    });
  }
}

// T - sigma I for the tridiagonal T = (d, e), factored by Gaussian elimination with partial
// pivoting (the upper factor has a second superdiagonal where rows were swapped), to solve with
// it several times. A zero pivot is replaced by `tiny`: inverse iteration wants a huge, not an
// infinite, solution.
struct ShiftedTridiagonalLU {
  std::vector<double> dd, dl, du, du2;
  std::vector<char> swapped;

  ShiftedTridiagonalLU(const std::vector<double>& d, const std::vector<double>& e, int64_t q, double sigma, double tiny)
      : dd(q), dl(q, 0.0), du(q, 0.0), du2(q, 0.0), swapped(q, 0) {
    for (int64_t i = 0; i < q; i++) dd[i] = d[i] - sigma;
    for (int64_t i = 0; i + 1 < q; i++) dl[i] = du[i] = e[i];
    for (int64_t i = 0; i + 1 < q; i++) {
      if (std::fabs(dd[i]) >= std::fabs(dl[i])) {
        if (dd[i] == 0.0) dd[i] = tiny;
        const double f = dl[i] / dd[i];
        dl[i] = f;
        dd[i + 1] -= f * du[i];
      } else {  // rows i and i + 1 swap
        const double f = dd[i] / dl[i];
        dd[i] = dl[i];
        dl[i] = f;
        const double old_du = du[i];
        du[i] = dd[i + 1];
        dd[i + 1] = old_du - f * dd[i + 1];
        if (i + 2 < q) {
          du2[i] = du[i + 1];
          du[i + 1] = -f * du[i + 1];
        }
        swapped[i] = 1;
      }
    }
    if (dd[q - 1] == 0.0) dd[q - 1] = tiny;
  }

  // b <- (T - sigma I)^-1 b.
  void solve(std::vector<double>& b) const {
    const int64_t q = (int64_t)dd.size();
    for (int64_t i = 0; i + 1 < q; i++) {
      if (swapped[i]) std::swap(b[i], b[i + 1]);
      b[i + 1] -= dl[i] * b[i];
    }
    b[q - 1] /= dd[q - 1];
    if (q >= 2) b[q - 2] = (b[q - 2] - du[q - 2] * b[q - 1]) / dd[q - 2];
    for (int64_t i = q - 3; i >= 0; i--) b[i] = (b[i] - du[i] * b[i + 1] - du2[i] * b[i + 2]) / dd[i];
  }
};

// Eigenvectors of the tridiagonal T = (d, e) for its eigenvalues lam[0..r) (descending), by
// inverse iteration; returned as the columns of y (q x r, row-major). Eigenvalues closer than
// 1e-3 |T| form a cluster: their vectors are kept orthogonal to the cluster's earlier ones, and
// equal eigenvalues are nudged apart so each solve differs.
std::vector<double> tridiagonal_eigenvectors(const std::vector<double>& d, const std::vector<double>& e, int64_t q,
                                             const std::vector<double>& lam, int64_t r) {
  double tnorm = 0;
  for (int64_t i = 0; i < q; i++)
    tnorm =
        std::max(tnorm, std::fabs(d[i]) + (i > 0 ? std::fabs(e[i - 1]) : 0.0) + (i + 1 < q ? std::fabs(e[i]) : 0.0));
  const double eps = std::numeric_limits<double>::epsilon();
  const double scale = tnorm > 0 ? tnorm : 1.0;
  const double tiny = eps * scale;
  std::vector<double> y((size_t)(q * r), 0.0), x(q), vec(q);
  uint64_t state = 0x9e3779b97f4a7c15ull;  // a fixed start: results do not depend on anything else
  int64_t cluster_start = 0;
  double shift_prev = 0;
  for (int64_t k = 0; k < r; k++) {
    double sigma = lam[k];
    if (k > 0 && lam[k - 1] - lam[k] < 1e-3 * scale) {
      if (sigma >= shift_prev - 10 * tiny) sigma = shift_prev - 10 * tiny;  // distinct solves within a cluster
    } else {
      cluster_start = k;
    }
    shift_prev = sigma;
    for (int64_t i = 0; i < q; i++) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      x[i] = double(int64_t(state >> 11) - (int64_t(1) << 52)) / double(int64_t(1) << 52);  // in (-1, 1)
    }
    const ShiftedTridiagonalLU lu(d, e, q, sigma, tiny);
    for (int it = 0; it < 4; it++) {
      lu.solve(x);
      for (int pass = 0; pass < 2; pass++)
        for (int64_t j = cluster_start; j < k; j++) {
          double dd = 0;
          for (int64_t i = 0; i < q; i++) dd += x[i] * y[i * r + j];
          for (int64_t i = 0; i < q; i++) x[i] -= dd * y[i * r + j];
        }
      double nn = std::sqrt(dot(x.data(), x.data(), q));
      if (!(nn > 0) || !std::isfinite(nn)) {  // start again from a unit vector
        std::fill(x.begin(), x.end(), 0.0);
        x[k % q] = 1.0;
        continue;
      }
      for (int64_t i = 0; i < q; i++) x[i] /= nn;
    }
    for (int64_t i = 0; i < q; i++) y[i * r + k] = x[i];
  }
  return y;
}

// Makes columns [first, q) of x (q columns of length len, column-major: column k at x[k * len])
// orthonormal to every earlier column and to each other: classical Gram-Schmidt applied twice
// (as stable as the modified one, and each pass is one batch of dot products). A column that
// vanishes (a zero singular value) is replaced by the first unit vector that survives.
void orthonormalize_tail(std::vector<double>& x, int64_t len, int64_t q, int64_t first) {
  std::vector<double> col(len), dots(q);
  for (int64_t k = first; k < q; k++) {
    double* out = &x[k * len];
    for (int64_t attempt = -1; attempt < len; attempt++) {
      if (attempt < 0)
        std::copy(out, out + len, col.begin());
      else {
        std::fill(col.begin(), col.end(), 0.0);
        col[attempt] = 1.0;
      }
      for (int pass = 0; pass < 2; pass++) {
        parallel_range(k, grain_for(len), [&](int64_t jb, int64_t je) {
          for (int64_t j = jb; j < je; j++) dots[j] = dot(col.data(), &x[j * len], len);
        });
        parallel_range(len, grain_for(k), [&](int64_t rb, int64_t re) {
          for (int64_t j = 0; j < k; j++) {
            const double dj = dots[j];
            const double* xj = &x[j * len];
            for (int64_t r = rb; r < re; r++) col[r] -= dj * xj[r];
          }
        });
      }
      const double nn = std::sqrt(dot(col.data(), col.data(), len));
      if (nn > (attempt < 0 ? 1e-6 : 1e-3)) {
        for (int64_t r = 0; r < len; r++) out[r] = col[r] / nn;
        break;
      }
    }
  }
}

// The other side's vectors for the first `count` columns of near (q x count, row-major) with
// singular values s: far_k = b^T near_k / s_k (len x count, column-major: column k at
// far[k * len]). For singular values well above the Gram matrix's resolution these columns are
// orthonormal to within about 1e-16 (s_0 / s_k)^2, under 1e-8 here; the rest (the tail, in
// descending order) are re-orthonormalized against everything before them, or completed when
// they vanish.
std::vector<double> far_side(const std::vector<double>& b, int64_t q, int64_t len, const std::vector<double>& near,
                             int64_t count, const std::vector<double>& s) {
  std::vector<double> far((size_t)(len * count), 0.0);
  parallel_range(count, grain_for(q * len), [&](int64_t kb, int64_t ke) {
    for (int64_t k = kb; k < ke; k++) {
      double* out = &far[k * len];
      for (int64_t i = 0; i < q; i++) {
        const double coef = near[i * count + k];
        const double* row = &b[i * len];
        for (int64_t t = 0; t < len; t++) out[t] += coef * row[t];
      }
      const double inv = s[k] > 0 ? 1.0 / s[k] : 0.0;
      for (int64_t t = 0; t < len; t++) out[t] *= inv;
    }
  });
  int64_t good = 0;
  while (good < count && s[good] >= 1e-4 * s[0] && s[good] > 0) good++;
  orthonormalize_tail(far, len, count, good);
  return far;
}

// b: the smaller side as rows (min(m, n) x max(m, n)): a itself when m <= n, else a^T.
std::vector<double> smaller_side_rows(const double* a, int64_t m, int64_t n) {
  const bool transposed = m > n;
  const int64_t len = std::max(m, n);
  std::vector<double> b((size_t)(m * n));
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) b[transposed ? j * len + i : i * len + j] = a[i * n + j];
  return b;
}

}  // namespace

std::vector<double> host_top_singular_vectors(const double* a, int64_t m, int64_t n, int64_t rank, bool want_left) {
  const bool transposed = m > n;
  const int64_t q = std::min(m, n), len = std::max(m, n);
  rank = std::max<int64_t>(0, std::min(rank, q));
  const std::vector<double> b = smaller_side_rows(a, m, n);
  if (rank == 0) return {};
  std::vector<double> c = gram(b, q, len);
  std::vector<double> d, e;
  const Reflectors h = tridiagonalize(c, q, d, e);
  std::vector<double> lam = d, off = e;
  tridiagonal_qr(lam, off, nullptr, q);
  std::sort(lam.begin(), lam.end(), std::greater<double>());
  // near: the smaller side's top vectors (q x rank, row-major) = Q times T's eigenvectors.
  std::vector<double> near = tridiagonal_eigenvectors(d, e, q, lam, rank);
  apply_q(h, q, near, rank);
  // The smaller side is the left one (u) when m <= n, else the right one (v).
  if (want_left == !transposed) return near;
  // The other side: far_k = b^T near_k / s_k.
  std::vector<double> s(rank);
  for (int64_t k = 0; k < rank; k++) s[k] = std::sqrt(std::max(0.0, lam[k]));
  std::vector<double> far = far_side(b, q, len, near, rank, s);
  std::vector<double> out((size_t)(len * rank));
  for (int64_t k = 0; k < rank; k++)
    for (int64_t t = 0; t < len; t++) out[t * rank + k] = far[k * len + t];
  return out;
}

void host_svd(const double* a, int64_t m, int64_t n, std::vector<double>& u, std::vector<double>& s,
              std::vector<double>& vt) {
  const bool transposed = m > n;
  const int64_t q = std::min(m, n), len = std::max(m, n);
  const std::vector<double> b = smaller_side_rows(a, m, n);
  s.assign(q, 0.0);
  u.assign((size_t)(m * q), 0.0);
  vt.assign((size_t)(q * n), 0.0);
  if (q == 0) return;

  std::vector<double> c = gram(b, q, len);
  std::vector<double> d, e;
  std::vector<double> qm = form_q(tridiagonalize(c, q, d, e), q);
  std::vector<double> z((size_t)(q * q));  // column-major eigenvectors
  for (int64_t i = 0; i < q; i++)
    for (int64_t j = 0; j < q; j++) z[j * q + i] = qm[i * q + j];
  tridiagonal_qr(d, e, z.data(), q);

  std::vector<int64_t> order(q);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return d[x] > d[y]; });
  // near: q x q (row-major, columns = the smaller side's singular vectors), descending.
  std::vector<double> near((size_t)(q * q));
  for (int64_t k = 0; k < q; k++) {
    s[k] = std::sqrt(std::max(0.0, d[order[k]]));
    const double* zk = &z[order[k] * q];
    for (int64_t i = 0; i < q; i++) near[i * q + k] = zk[i];
  }
  std::vector<double> far = far_side(b, q, len, near, q, s);

  // a = near s far^T (m <= n: u = near, v = far) or, for a^T, a = far s near^T.
  for (int64_t k = 0; k < q; k++) {
    const double* fk = &far[k * len];
    if (transposed) {  // u = far (m = len rows), vt = near^T
      for (int64_t i = 0; i < m; i++) u[i * q + k] = fk[i];
      for (int64_t j = 0; j < n; j++) vt[k * n + j] = near[j * q + k];
    } else {  // u = near (m = q rows), vt = far^T
      for (int64_t i = 0; i < m; i++) u[i * q + k] = near[i * q + k];
      for (int64_t j = 0; j < n; j++) vt[k * n + j] = fk[j];
    }
  }
}

}  // namespace frugal
