// cuBLAS and cuSOLVER status codes by name, and which frugal_status each becomes. We never include
// the libraries' headers (math_libs.cpp loads them at run time), so the documented values of
// cublasStatus_t and cusolverStatus_t are restated here. Header-only, so the kernel simulator's
// build of linalg.cu needs nothing more.
#pragma once
#include <string>
#include "core/errors.h"

namespace frugal {
namespace cuda_libs {

const int kStatusNotLoaded = -1;   // our own: the library could not be loaded (math_libs.cpp)
const int kBlasAllocFailed = 3;    // CUBLAS_STATUS_ALLOC_FAILED
const int kSolverAllocFailed = 2;  // CUSOLVER_STATUS_ALLOC_FAILED

inline const char* blas_status_name(int status) {
  switch (status) {
    case kStatusNotLoaded: return "library not loaded";
    case 0: return "CUBLAS_STATUS_SUCCESS";
    case 1: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case 3: return "CUBLAS_STATUS_ALLOC_FAILED";
    case 7: return "CUBLAS_STATUS_INVALID_VALUE";
    case 8: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case 11: return "CUBLAS_STATUS_MAPPING_ERROR";
    case 13: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case 14: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case 15: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case 16: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "unknown cuBLAS status";
  }
}

inline const char* solver_status_name(int status) {
  switch (status) {
    case kStatusNotLoaded: return "library not loaded";
    case 0: return "CUSOLVER_STATUS_SUCCESS";
    case 1: return "CUSOLVER_STATUS_NOT_INITIALIZED";
    case 2: return "CUSOLVER_STATUS_ALLOC_FAILED";
    case 3: return "CUSOLVER_STATUS_INVALID_VALUE";
    case 4: return "CUSOLVER_STATUS_ARCH_MISMATCH";
    case 5: return "CUSOLVER_STATUS_MAPPING_ERROR";
    case 6: return "CUSOLVER_STATUS_EXECUTION_FAILED";
    case 7: return "CUSOLVER_STATUS_INTERNAL_ERROR";
    case 8: return "CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED";
    case 9: return "CUSOLVER_STATUS_NOT_SUPPORTED";
    case 10: return "CUSOLVER_STATUS_ZERO_PIVOT";
    case 11: return "CUSOLVER_STATUS_INVALID_LICENSE";
    default: return "unknown cuSOLVER status";
  }
}

// "CUBLAS_STATUS_ALLOC_FAILED (3)".
inline std::string blas_status_text(int status) {
  return std::string(blas_status_name(status)) + " (" + std::to_string(status) + ")";
}
inline std::string solver_status_text(int status) {
  return std::string(solver_status_name(status)) + " (" + std::to_string(status) + ")";
}

// Throws for a failed call: an allocation failure is out of memory, like a failed cudaMalloc.
inline void check_blas(int status, const char* what) {
  if (status == 0) return;
  fail(status == kBlasAllocFailed ? FRUGAL_ERR_OUT_OF_MEMORY : FRUGAL_ERR_DEVICE,
       std::string(what) + " failed: " + blas_status_text(status));
}
inline void check_solver(int status, const char* what) {
  if (status == 0) return;
  fail(status == kSolverAllocFailed ? FRUGAL_ERR_OUT_OF_MEMORY : FRUGAL_ERR_DEVICE,
       std::string(what) + " failed: " + solver_status_text(status));
}

}  // namespace cuda_libs
}  // namespace frugal
