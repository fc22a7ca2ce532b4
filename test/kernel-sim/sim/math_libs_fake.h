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

}  // namespace sim
