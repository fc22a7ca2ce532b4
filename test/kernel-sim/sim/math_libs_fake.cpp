// The cuda_libs interface of cuda/math_libs.h, faked (see math_libs_fake.h for the two modes).
#include "math_libs_fake.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>
#include "core/host_linalg.h"
#include "math_libs.h"
#include "sim_runtime.h"

namespace sim {
namespace {
MathLibs g_mode = MathLibs::Absent;
int g_blas_token, g_solver_token;  // their addresses are the handles
int g_create_fail_status = 0, g_create_fail_times = 0;
int g_gesvd_calls = 0;
// cublasSetStream resets the handle to cuBLAS's default workspace (shared by all streams); the
// fake models one handle state: its current stream and whether a workspace was set since.
void* g_blas_stream = nullptr;
bool g_workspace_bound = false;
int g_workspace_sets = 0;
int g_default_workspace_gemms = 0;
std::map<void*, void*> g_stream_workspace;  // stream -> the workspace it was given

constexpr int kNotLoaded = -1;          // what math_libs.cpp returns when a library is absent
constexpr int kBlasInvalidValue = 7;    // CUBLAS_STATUS_INVALID_VALUE
constexpr int kSolverInvalidValue = 3;  // CUSOLVER_STATUS_INVALID_VALUE

// Device memory holding the column-major rows x cols matrix with leading dimension ld.
bool device_matrix(const float* p, int rows, int cols, int ld) {
  if (rows == 0 || cols == 0) return true;
  return is_device_range(p, sizeof(float) * ((size_t)ld * (cols - 1) + rows));
}

int reject(const char* what, int status) {
  report_error(std::string("fake math library: ") + what);
  return status;
}
}  // namespace

void set_math_libs(MathLibs mode) { g_mode = mode; }
void fail_blas_create(int status, int times) {
  g_create_fail_status = status;
  g_create_fail_times = times;
}
int gesvd_calls() { return g_gesvd_calls; }
int blas_workspace_sets() { return g_workspace_sets; }
int blas_default_workspace_gemms() { return g_default_workspace_gemms; }
int blas_streams_with_workspace() { return (int)g_stream_workspace.size(); }
void blas_stream_destroyed(void* stream) {
  g_stream_workspace.erase(stream);
  if (g_blas_stream == stream) g_blas_stream = nullptr;
}

}  // namespace sim

namespace frugal {
namespace cuda_libs {

using sim::g_mode;
using sim::MathLibs;

bool cublas_loaded(std::string* why) {
  if (g_mode == MathLibs::Absent && why) *why = "cuBLAS absent (kernel simulator)";
  return g_mode == MathLibs::Reference;
}
bool cusolver_loaded(std::string* why) {
  if (g_mode == MathLibs::Absent && why) *why = "cuSOLVER absent (kernel simulator)";
  return g_mode == MathLibs::Reference;
}

std::string cublas_path() { return g_mode == MathLibs::Reference ? "/kernel-sim/fake/libcublas.so" : ""; }
std::string cusolver_path() { return g_mode == MathLibs::Reference ? "/kernel-sim/fake/libcusolver.so" : ""; }

int blas_create(void** handle) {
  if (g_mode == MathLibs::Absent) return sim::kNotLoaded;
  if (sim::g_create_fail_times > 0) {
    --sim::g_create_fail_times;
    return sim::g_create_fail_status;
  }
  *handle = &sim::g_blas_token;
  return 0;
}
int blas_destroy(void*) { return g_mode == MathLibs::Absent ? sim::kNotLoaded : 0; }
int blas_set_stream(void* handle, void* stream) {
  if (g_mode == MathLibs::Absent) return sim::kNotLoaded;
  if (handle != &sim::g_blas_token) return sim::reject("cublasSetStream on an unknown handle", 1);
  sim::g_blas_stream = stream;
  sim::g_workspace_bound = false;  // as cuBLAS documents: back to the default workspace
  return 0;
}

// A workspace belongs to one stream for as long as that stream has it; a stream keeps one.
int blas_set_workspace(void* handle, void* workspace, size_t bytes) {
  if (g_mode == MathLibs::Absent) return sim::kNotLoaded;
  if (handle != &sim::g_blas_token) return sim::reject("cublasSetWorkspace on an unknown handle", 1);
  if (!sim::is_device_range(workspace, bytes))
    return sim::reject("cublasSetWorkspace: not device memory of its size", sim::kBlasInvalidValue);
  for (auto& [stream, ws] : sim::g_stream_workspace) {
    if (ws == workspace && stream != sim::g_blas_stream)
      sim::reject("cublasSetWorkspace: a workspace bound to two streams", 0);
  }
  auto it = sim::g_stream_workspace.find(sim::g_blas_stream);
  if (it != sim::g_stream_workspace.end() && it->second != workspace && sim::is_device_range(it->second, 1))
    sim::reject("cublasSetWorkspace: a stream given a second workspace while its first is live", 0);
  sim::g_stream_workspace[sim::g_blas_stream] = workspace;
  sim::g_workspace_bound = true;
  ++sim::g_workspace_sets;
  return 0;
}

// Column-major: X(i, j) = x[i + j * ldx]. op(A) is m x k, op(B) is k x n, C is m x n.
int blas_sgemm(void* handle, int transa, int transb, int m, int n, int k, const float* alpha, const float* a, int lda,
               const float* b, int ldb, const float* beta, float* c, int ldc) {
  if (g_mode == MathLibs::Absent) return sim::kNotLoaded;
  if (handle != &sim::g_blas_token) return sim::reject("cublasSgemm on an unknown handle", 1);
  if (!sim::g_workspace_bound) ++sim::g_default_workspace_gemms;  // linalg.cu alone binds none
  const int a_rows = transa ? k : m, a_cols = transa ? m : k;
  const int b_rows = transb ? n : k, b_cols = transb ? k : n;
  if (m < 0 || n < 0 || k < 0 || lda < std::max(1, a_rows) || ldb < std::max(1, b_rows) || ldc < std::max(1, m)) {
    return sim::reject("cublasSgemm: negative size or leading dimension below the stored rows", sim::kBlasInvalidValue);
  }
  if (!sim::device_matrix(a, a_rows, a_cols, lda) || !sim::device_matrix(b, b_rows, b_cols, ldb) ||
      !sim::device_matrix(c, m, n, ldc)) {
    return sim::reject("cublasSgemm: an operand is not device memory of its stated shape", sim::kBlasInvalidValue);
  }
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < m; ++i) {
      double acc = 0.0;
      for (int l = 0; l < k; ++l) {
        const double x = transa ? a[l + (size_t)i * lda] : a[i + (size_t)l * lda];
        const double y = transb ? b[j + (size_t)l * ldb] : b[l + (size_t)j * ldb];
        acc += x * y;
      }
      float& out = c[i + (size_t)j * ldc];
      out = (float)((double)*alpha * acc + (*beta == 0.f ? 0.0 : (double)*beta * (double)out));
    }
  }
  return 0;
}

int solver_create(void** handle) {
  if (g_mode == MathLibs::Absent) return sim::kNotLoaded;
  *handle = &sim::g_solver_token;
  return 0;
}
int solver_destroy(void*) { return g_mode == MathLibs::Absent ? sim::kNotLoaded : 0; }
int solver_set_stream(void* handle, void*) {
  if (g_mode == MathLibs::Absent) return sim::kNotLoaded;
  return handle == &sim::g_solver_token ? 0 : sim::reject("cusolverDnSetStream on an unknown handle", 1);
}

static int gesvd_work(int m, int n) { return m * n + 64; }

int solver_sgesvd_buffer_size(void* handle, int m, int n, int* lwork) {
  if (g_mode == MathLibs::Absent) return sim::kNotLoaded;
  if (handle != &sim::g_solver_token) return sim::reject("gesvd_bufferSize on an unknown handle", 1);
  *lwork = gesvd_work(m, n);
  return 0;
}

// cusolverDnSgesvd with jobu = jobvt = 'S' (the subset linalg.cu uses): m >= n, A (m x n) is
// destroyed, U gets the n left singular vectors (m x n), VT the n x n matrix V^T, S descending.
int solver_sgesvd(void* handle, signed char jobu, signed char jobvt, int m, int n, float* a, int lda, float* s,
                  float* u, int ldu, float* vt, int ldvt, float* work, int lwork, float* rwork, int* info) {
  if (g_mode == MathLibs::Absent) return sim::kNotLoaded;
  if (handle != &sim::g_solver_token) return sim::reject("cusolverDnSgesvd on an unknown handle", 1);
  ++sim::g_gesvd_calls;
  if (jobu != 'S' || jobvt != 'S') return sim::reject("cusolverDnSgesvd: the fake supports jobu = jobvt = 'S' only", 1);
  if (n < 1 || m < n || lda < m || ldu < m || ldvt < n || lwork < gesvd_work(m, n)) {
    return sim::reject("cusolverDnSgesvd: needs m >= n >= 1, lda >= m, ldu >= m, ldvt >= n, lwork >= the query",
                       sim::kSolverInvalidValue);
  }
  if (!sim::device_matrix(a, m, n, lda) || !sim::device_matrix(u, m, n, ldu) || !sim::device_matrix(vt, n, n, ldvt) ||
      !sim::is_device_range(s, sizeof(float) * n) || !sim::is_device_range(work, sizeof(float) * lwork) ||
      !sim::is_device_range(info, sizeof(int)) || (n > 1 && !sim::is_device_range(rwork, sizeof(float) * (n - 1)))) {
    return sim::reject("cusolverDnSgesvd: a buffer is not device memory of its documented size",
                       sim::kSolverInvalidValue);
  }
  std::vector<double> rm((size_t)m * n), uu, ss, vv;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) rm[(size_t)i * n + j] = a[i + (size_t)j * lda];
  frugal::host_svd(rm.data(), m, n, uu, ss, vv);  // u m x n, s n, vt n x n, row-major
  for (int j = 0; j < n; ++j) {
    s[j] = (float)ss[j];
    for (int i = 0; i < m; ++i) u[i + (size_t)j * ldu] = (float)uu[(size_t)i * n + j];
    for (int i = 0; i < n; ++i) vt[i + (size_t)j * ldvt] = (float)vv[(size_t)i * n + j];
  }
  for (int j = 0; j < n; ++j)  // gesvd destroys A
    for (int i = 0; i < m; ++i) a[i + (size_t)j * lda] = std::numeric_limits<float>::quiet_NaN();
  *info = 0;
  return 0;
}

}  // namespace cuda_libs
}  // namespace frugal
