// Stands in for cuda/math_libs.cpp (cuBLAS / cuSOLVER through dlopen) in the simulator build, so
// the result never depends on which libraries the CI machine happens to have.
//   Absent:    both libraries "fail to load": linalg.cu takes its own paths (the tiled GEMM kernel;
//              SVD returns false for the host to take over), as on a machine without them.
//   Reference: both "load" and compute, on host memory, exactly what the documented column-major
//              cublasSgemm / cusolverDnSgesvd contracts say (GEMM in fp64, like the CPU backend;
//              SVD by the host Jacobi SVD), checking leading dimensions and buffer sizes. This
//              tests linalg.cu's row-major <-> column-major mapping, not the libraries.
#pragma once

namespace sim {

enum class MathLibs { Absent, Reference };
void set_math_libs(MathLibs mode);

// The next `times` cublasCreate calls return `status` (e.g. 3, CUBLAS_STATUS_ALLOC_FAILED).
void fail_blas_create(int status, int times);
// Calls of cusolverDnSgesvd so far.
int gesvd_calls();
// cuBLAS workspaces as the fake saw them: cublasSetWorkspace calls, how many distinct
// (stream -> workspace) bindings exist, and the sgemm calls made with cuBLAS's default workspace
// (cublasSetStream resets to it; linalg.cu's own checks, with no backend, bind none). A workspace
// bound to two streams is reported as an error.
int blas_workspace_sets();
int blas_default_workspace_gemms();
int blas_streams_with_workspace();
// The fake runtime's cudaStreamDestroy: the stream's workspace binding ends with it.
void blas_stream_destroyed(void* stream);

}  // namespace sim
