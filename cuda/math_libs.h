// cuBLAS and cuSOLVER, reached through dlopen at run time (see math_libs.cpp for why and how).
// Plain C++ with no CUDA types: streams are cudaStream_t passed as void*, handles are opaque.
// Every call returns the library's status code (0 = success); callers turn failures into errors.
#pragma once
#include <cstddef>
#include <string>

namespace frugal {
namespace cuda_libs {

// Whether the library was found and every symbol we use resolved. Loaded once per process on
// the first call; *why (when given) says what was tried when it is not available.
bool cublas_loaded(std::string* why = nullptr);
bool cusolver_loaded(std::string* why = nullptr);
// The file each library was loaded from (its full path), or "" when it is not loaded.
std::string cublas_path();
std::string cusolver_path();

// cuBLAS operation codes (cublasOperation_t).
enum BlasOp : int { BLAS_OP_N = 0, BLAS_OP_T = 1 };

// Handles belong to the device current on the calling thread when they are created.
int blas_create(void** handle);
int blas_destroy(void* handle);
int blas_set_stream(void* handle, void* stream);
// cublasSetWorkspace_v2: the handle's workspace until the next cublasSetStream (which resets it).
int blas_set_workspace(void* handle, void* workspace, size_t bytes);
// Column-major SGEMM, exactly cublasSgemm_v2 (alpha and beta on the host).
int blas_sgemm(void* handle, int transa, int transb, int m, int n, int k, const float* alpha, const float* a, int lda,
               const float* b, int ldb, const float* beta, float* c, int ldc);

int solver_create(void** handle);
int solver_destroy(void* handle);
int solver_set_stream(void* handle, void* stream);
// Column-major thin SVD, exactly cusolverDnSgesvd (requires m >= n).
int solver_sgesvd_buffer_size(void* handle, int m, int n, int* lwork);
int solver_sgesvd(void* handle, signed char jobu, signed char jobvt, int m, int n, float* a, int lda, float* s,
                  float* u, int ldu, float* vt, int ldvt, float* work, int lwork, float* rwork, int* info);

}  // namespace cuda_libs
}  // namespace frugal
