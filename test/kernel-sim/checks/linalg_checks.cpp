// GEMM and SVD as linalg.cu runs them, in both library situations (math_libs_fake.h):
//   absent:    the tiled GEMM kernel against reference_gemm.h, bit for bit (both sum exact fp64
//              products in k order); SVD reports "not done" so the host takes over;
//   reference: the row-major -> column-major operand swap of the cuBLAS call, bit for bit against
//              the same oracle (the fake computes like it); the SVD's transposes and output
//              placement, checked by reconstruction and orthonormality (singular vectors are only
//              defined up to sign), its input left intact, and the transpose kernel it uses.
// Padded leading dimensions throughout; C starts as NaN when beta is 0, so reading it would show.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>
#include "checks.h"
#include "core/host_linalg.h"
#include "harness.h"
#include "linalg.cuh"
#include "math_libs_fake.h"
#include "reference_gemm.h"

namespace ks {

namespace {

struct GemmShape {
  int64_t m, n, k;
};

void gemm_case(const char* libs, const GemmShape& s, bool ta, bool tb, float beta, int sm) {
  cuda::MathHandles handles;
  const int64_t lda = (ta ? s.m : s.k) + 3, ldb = (tb ? s.k : s.n) + 2, ldc = s.n + 5;
  Twin a = random_twin(F32, (ta ? s.k : s.m) * lda, -1, 1);
  Twin b = random_twin(F32, (tb ? s.n : s.k) * ldb, -1, 1);
  Twin c = random_twin(F32, s.m * ldc, -1, 1);
  if (beta == 0.f) {
    for (int64_t i = 0; i < s.m * ldc; ++i) c.cpu_as<float>()[i] = std::numeric_limits<float>::quiet_NaN();
    c.publish();
  }
  auto args = [&](bool dev) {
    return GemmArgs{ta,
                    tb,
                    s.m,
                    s.n,
                    s.k,
                    1.25f,
                    static_cast<const float*>(dev ? a.dev() : a.cpu()),
                    lda,
                    static_cast<const float*>(dev ? b.dev() : b.cpu()),
                    ldb,
                    beta,
                    static_cast<float*>(dev ? c.dev() : c.cpu()),
                    ldc};
  };
  reference_gemm(args(false));
  const std::string what = std::string("gemm (") + libs + ") " + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
                           std::to_string(s.k) + " ta=" + std::to_string(ta) + " tb=" + std::to_string(tb) +
                           " beta=" + (beta == 0.f ? "0" : "0.5");
  const GemmArgs dev_args = args(true);
  run_device(what, [&] { cuda::run_gemm(env(sm), handles, dev_args); });
  compare(what + " C", c, F32);
  compare(what + " A untouched", a, F32);
}

// Largest |x| of a row-major matrix expression, for relative tolerances.
double max_abs(const std::vector<double>& x) {
  double m = 0;
  for (double v : x) m = std::max(m, std::fabs(v));
  return m;
}

void svd_case(int64_t m, int64_t n) {
  cuda::MathHandles handles;
  const int64_t q = std::min(m, n);
  Twin a = random_twin(F32, m * n, -1, 1);
  Twin u = random_twin(F32, m * q, -1, 1), s = random_twin(F32, q, -1, 1), vt = random_twin(F32, q * n, -1, 1);
  const std::string what = "svd (reference cuSOLVER) " + std::to_string(m) + "x" + std::to_string(n);
  bool done = false;
  run_device(what, [&] {
    done = cuda::run_svd(env(2), handles, a.dev_as<float>(), m, n, u.dev_as<float>(), s.dev_as<float>(),
                         vt.dev_as<float>());
  });
  record(done, what + " returns true");
  compare(what + " input untouched", a, F32);

  const float* A = a.cpu_as<float>();
  const float *U = u.dev_as<float>(), *S = s.dev_as<float>(), *VT = vt.dev_as<float>();
  std::vector<double> ad(A, A + m * n), hu, hs, hvt;
  host_svd(ad.data(), m, n, hu, hs, hvt);
  const double scale = std::max(1.0, max_abs(ad));
  double s_err = 0, recon = 0, u_orth = 0, v_orth = 0;
  bool descending = true;
  for (int64_t r = 0; r < q; ++r) {
    s_err = std::max(s_err, std::fabs(S[r] - hs[r]) / hs[0]);
    if (r > 0 && S[r] > S[r - 1]) descending = false;
  }
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double x = 0;
      for (int64_t r = 0; r < q; ++r) x += (double)U[i * q + r] * S[r] * VT[r * n + j];
      recon = std::max(recon, std::fabs(x - A[i * n + j]) / scale);
    }
  for (int64_t r1 = 0; r1 < q; ++r1)
    for (int64_t r2 = 0; r2 < q; ++r2) {
      double uu = 0, vv = 0;
      for (int64_t i = 0; i < m; ++i) uu += (double)U[i * q + r1] * U[i * q + r2];
      for (int64_t j = 0; j < n; ++j) vv += (double)VT[r1 * n + j] * VT[r2 * n + j];
      u_orth = std::max(u_orth, std::fabs(uu - (r1 == r2)));
      v_orth = std::max(v_orth, std::fabs(vv - (r1 == r2)));
    }
  record(s_err < 1e-5 && descending, what + " singular values", "relative error " + std::to_string(s_err));
  record(recon < 1e-4, what + " U S Vt reconstructs A", "max error " + std::to_string(recon));
  record(u_orth < 1e-4 && v_orth < 1e-4, what + " U and Vt orthonormal",
         "errors " + std::to_string(u_orth) + ", " + std::to_string(v_orth));
}

}  // namespace

void check_linalg() {
  begin_group("linalg");
  const GemmShape shapes[] = {{45, 37, 70}, {1, 1, 1}, {33, 65, 31}, {64, 40, 96}};
  int i = 0;
  for (sim::MathLibs libs : {sim::MathLibs::Absent, sim::MathLibs::Reference}) {
    sim::set_math_libs(libs);
    const char* name = libs == sim::MathLibs::Absent ? "tiled kernel" : "reference cuBLAS";
    for (const GemmShape& s : shapes)
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (float beta : {0.f, 0.5f}) gemm_case(name, s, ta, tb, beta, 1 + i++ % 3);
  }

  sim::set_math_libs(sim::MathLibs::Absent);
  {
    cuda::MathHandles handles;
    Twin a = random_twin(F32, 6, -1, 1), u = random_twin(F32, 4, -1, 1), s = random_twin(F32, 2, -1, 1),
         vt = random_twin(F32, 6, -1, 1);
    bool done = true;
    run_device("svd without cuSOLVER", [&] {
      done = cuda::run_svd(env(2), handles, a.dev_as<float>(), 2, 3, u.dev_as<float>(), s.dev_as<float>(),
                           vt.dev_as<float>());
    });
    record(!done, "svd without cuSOLVER returns false (the host SVD takes over)");
  }

  sim::set_math_libs(sim::MathLibs::Reference);
  for (const auto& mn : {std::pair<int64_t, int64_t>{2, 3}, {3, 2}, {5, 5}, {6, 17}, {17, 6}, {40, 33}})
    svd_case(mn.first, mn.second);
  sim::set_math_libs(sim::MathLibs::Absent);
  end_group();
}

}  // namespace ks
