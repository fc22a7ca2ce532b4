// The model's GEMMs on a GPU go through the CUDA backend's own fp32 GEMM (core Backend::gemm:
// cuBLAS loaded at run time by cuda/math_libs.cpp, or its hand-written tiled kernel when cuBLAS
// is missing), so there is one cuBLAS handle per device and one fallback. bf16 (or fp16)
// operands are widened into fp32 scratch first (slots of the device's workspace pool, counted in
// the ledger as workspace), and a bf16 result is computed in fp32 and rounded once: bf16 storage
// with fp32 accumulation, as on the CPU.
#include <cuda_runtime.h>

#include <optional>

#include "../../native/core/devices.h"
#include "../../native/core/workspace_pool.h"
#include "../../native/math/dtype_convert.h"
#include "launch.cuh"
#include "model_cuda.h"

namespace frugal {
namespace model {
namespace cuda_ops {
namespace {

// Elements a row-major operand spans: rows of ld elements, the last only `cols` long.
int64_t extent(int64_t rows, int64_t cols, int64_t ld) { return rows > 0 ? (rows - 1) * ld + cols : 0; }

}  // namespace

void gemm(int device, const GemmDesc& g, void* stream) {
  Launch l(device, stream);
  Backend* be = backend_for(device);
  const int64_t a_rows = g.trans_a ? g.k : g.m, a_cols = g.trans_a ? g.m : g.k;
  const int64_t b_rows = g.trans_b ? g.n : g.k, b_cols = g.trans_b ? g.k : g.n;
  const int64_t a_n = g.a_dtype == F32 ? 0 : extent(a_rows, a_cols, g.lda);
  const int64_t b_n = g.b_dtype == F32 ? 0 : extent(b_rows, b_cols, g.ldb);
  const int64_t c_n = g.c_dtype == F32 ? 0 : extent(g.m, g.n, g.ldc);
  // The widened copies live in the pool's slots 0..2 for this call (an all-fp32 GEMM takes none).
  std::optional<WorkspacePool::Lease> scratch;
  if (a_n || b_n || c_n) scratch.emplace(device, stream);

  GemmArgs args;
  args.trans_a = g.trans_a;
  args.trans_b = g.trans_b;
  args.m = g.m;
  args.n = g.n;
  args.k = g.k;
  args.alpha = g.alpha;
  args.beta = g.beta;
  args.lda = g.lda;
  args.ldb = g.ldb;
  args.ldc = g.ldc;
  args.a = static_cast<const float*>(g.a);
  args.b = static_cast<const float*>(g.b);
  args.c = static_cast<float*>(g.c);
  if (a_n) {
    float* a = scratch->slot(0, a_n);
    be->cast(g.a, g.a_dtype, a, F32, a_n, stream);
    args.a = a;
  }
  if (b_n) {
    float* b = scratch->slot(1, b_n);
    be->cast(g.b, g.b_dtype, b, F32, b_n, stream);
    args.b = b;
  }
  if (c_n) {
    // The whole span round-trips (exactly) so the gaps between rows keep their values.
    float* c = scratch->slot(2, c_n);
    be->cast(g.c, g.c_dtype, c, F32, c_n, stream);
    args.c = c;
  }
  be->gemm(args, stream);
  if (c_n) be->cast(args.c, F32, g.c, g.c_dtype, c_n, stream);
}

}  // namespace cuda_ops
}  // namespace model
}  // namespace frugal
