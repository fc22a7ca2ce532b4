// Dense linear algebra for the dense-subspace selections (GaLore, random orthogonal): fp32 GEMM
// (cuBLAS when it loads, a tiled kernel otherwise) and thin SVD (cuSOLVER when it loads).
#pragma once
#include <cstdint>
#include <mutex>
#include "core/backend.h"
#include "device_env.cuh"

namespace frugal {
namespace cuda {

// The library handles of one device, created on first use. A handle is used by one thread at a
// time (set stream + call under the mutex), because cuBLAS / cuSOLVER handles are not reentrant.
struct MathHandles {
  std::mutex mutex;
  void* blas = nullptr;
  bool blas_tried = false;
  void* solver = nullptr;
  bool solver_tried = false;
};

// Row-major C = alpha op(A) op(B) + beta C (C is not read when beta is 0). Always succeeds.
void run_gemm(const DeviceEnv& env, MathHandles& handles, const GemmArgs& args);
// Thin SVD as Backend::svd documents. Syncs env.stream. false when cuSOLVER is missing, the
// matrix is too large for its 32-bit sizes, or it did not converge: the caller uses the host SVD.
bool run_svd(const DeviceEnv& env, MathHandles& handles, const float* a, int64_t m, int64_t n, float* u, float* s,
             float* vt);

}  // namespace cuda
}  // namespace frugal
