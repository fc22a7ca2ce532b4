// Dense linear algebra for the dense-subspace selections (GaLore, random orthogonal): fp32 GEMM
// (cuBLAS when it loads, a tiled kernel otherwise) and thin SVD (cuSOLVER when it loads).
#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include "core/backend.h"
#include "device_env.cuh"

namespace frugal {
namespace cuda {

// The library handles of one device, created on first use. A handle is used by one thread at a
// time (set stream + call under the mutex), because cuBLAS / cuSOLVER handles are not reentrant.
//
// Creation failures are recorded, never silent: an allocation failure (CUBLAS_STATUS_ALLOC_FAILED,
// CUSOLVER_STATUS_ALLOC_FAILED) is reported as out of memory and retried at the next call, after
// the hook below releases cached memory; any other failure is final for the process, the library
// path is replaced by the fallback (the fp64 GEMM kernel, the host SVD), a warning goes to stderr
// once, and *_error says why (frugal_cuda_math_status reports it; cuda_math_available turns false).
struct MathHandles {
  std::mutex mutex;
  void* blas = nullptr;
  bool blas_failed = false;  // final: GEMMs use the fallback kernel
  std::string blas_error;    // why, for the status report; empty while fine
  void* solver = nullptr;
  bool solver_failed = false;  // final: SVDs use the host
  std::string solver_error;
  // Set by the backend (cuda_backend.cu), unset in the kernel simulator: binds the stream's own
  // cuBLAS workspace after cublasSetStream (which resets the handle to the default workspace), so
  // that results are deterministic per stream; and gives back cached pool memory before a retry.
  std::function<void(void* blas, cudaStream_t stream)> bind_blas_workspace;
  std::function<void()> release_cached_memory;
};

// Row-major C = alpha op(A) op(B) + beta C (C is not read when beta is 0). Always succeeds.
void run_gemm(const DeviceEnv& env, MathHandles& handles, const GemmArgs& args);
// Thin SVD as Backend::svd documents. Syncs env.stream. false when cuSOLVER is missing, the
// matrix is too large for its 32-bit sizes, or it did not converge: the caller uses the host SVD.
bool run_svd(const DeviceEnv& env, MathHandles& handles, const float* a, int64_t m, int64_t n, float* u, float* s,
             float* vt);

}  // namespace cuda
}  // namespace frugal
