// GEMM and SVD for the dense-subspace selections. Both libraries are column-major and the
// backend's matrices are row-major; a row-major matrix read as column-major is its transpose, so
//   GEMM: row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, i.e. one cuBLAS call
//         with the operands swapped (B first) and m, n exchanged; no data moves.
//   SVD:  see run_svd.
#include "linalg.cuh"

#include <cub/block/block_reduce.cuh>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>
#include "core/memory.h"
#include "cuda_check.cuh"
#include "library_status.h"
#include "math_libs.h"

namespace frugal {
namespace cuda {
namespace {

bool fits_int(int64_t x) { return x >= 0 && x <= std::numeric_limits<int>::max(); }

using cuda_libs::check_blas;
using cuda_libs::check_solver;

// ---------------------------------------------------------------------------------------------
// Fallback GEMM: 32 x 32 output tiles, 32 x 8 threads, 4 outputs per thread. Each op(A) / op(B)
// tile is staged through shared memory with threadIdx.x along the operand's contiguous dimension,
// so the loads are coalesced whichever operand is transposed. Each output is an fp64 sum of exact
// fp64 products over k in order, then alpha and beta in fp64: the CPU reference's arithmetic, so
// without cuBLAS the two agree bit for bit.
constexpr int kTile = 32;
constexpr int kTileRows = 8;

__global__ void __launch_bounds__(kTile* kTileRows) gemm_tiled_kernel(const GemmArgs args) {
  __shared__ float a_tile[kTile][kTile + 1];  // a_tile[i][l] = op(A)(row0 + i, k0 + l)
  __shared__ float b_tile[kTile][kTile + 1];  // b_tile[l][j] = op(B)(k0 + l, col0 + j)
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t row_tiles = (args.m + kTile - 1) / kTile, col_tiles = (args.n + kTile - 1) / kTile;
  for (int64_t rt = blockIdx.y; rt < row_tiles; rt += gridDim.y) {
    for (int64_t ct = blockIdx.x; ct < col_tiles; ct += gridDim.x) {
      const int64_t row0 = rt * kTile, col0 = ct * kTile;
      double acc[kTile / kTileRows] = {0.0, 0.0, 0.0, 0.0};
      for (int64_t k0 = 0; k0 < args.k; k0 += kTile) {
        for (int q = ty; q < kTile; q += kTileRows) {
          // op(A): element (i, l) is a[i * lda + l], or a[l * lda + i] when transposed.
          if (!args.trans_a) {
            const int64_t i = row0 + q, l = k0 + tx;
            a_tile[q][tx] = (i < args.m && l < args.k) ? args.a[i * args.lda + l] : 0.f;
          } else {
            const int64_t i = row0 + tx, l = k0 + q;
            a_tile[tx][q] = (i < args.m && l < args.k) ? args.a[l * args.lda + i] : 0.f;
          }
          // op(B): element (l, j) is b[l * ldb + j], or b[j * ldb + l] when transposed.
          if (!args.trans_b) {
            const int64_t l = k0 + q, j = col0 + tx;
            b_tile[q][tx] = (l < args.k && j < args.n) ? args.b[l * args.ldb + j] : 0.f;
          } else {
            const int64_t l = k0 + tx, j = col0 + q;
            b_tile[tx][q] = (l < args.k && j < args.n) ? args.b[j * args.ldb + l] : 0.f;
          }
        }
        __syncthreads();
        const int steps = args.k - k0 < kTile ? (int)(args.k - k0) : kTile;
        for (int l = 0; l < steps; ++l) {
          const double b = b_tile[l][tx];
          for (int q = 0; q < kTile / kTileRows; ++q) acc[q] += (double)a_tile[ty + q * kTileRows][l] * b;
        }
        __syncthreads();
      }
      const int64_t j = col0 + tx;
      for (int q = 0; q < kTile / kTileRows; ++q) {
        const int64_t i = row0 + ty + q * kTileRows;
        if (i >= args.m || j >= args.n) continue;
        float* c = args.c + i * args.ldc + j;
        *c = (float)((double)args.alpha * acc[q] + (args.beta == 0.f ? 0.0 : (double)args.beta * (double)*c));
      }
    }
  }
}

void gemm_fallback(const DeviceEnv& env, const GemmArgs& args) {
  const int64_t row_tiles = (args.m + kTile - 1) / kTile, col_tiles = (args.n + kTile - 1) / kTile;
  const dim3 grid((unsigned)(col_tiles < 65535 ? col_tiles : 65535), (unsigned)(row_tiles < 65535 ? row_tiles : 65535));
  gemm_tiled_kernel<<<grid, dim3(kTile, kTileRows), 0, env.stream>>>(args);
  check_launch("gemm fallback kernel");
}

void warn_fallback(const std::string& what) { std::fprintf(stderr, "frugal-optim: warning: %s\n", what.c_str()); }

// Creates a library handle, or records why not (see MathHandles). Returns null when the library
// is unusable for good; throws out of memory (to be retried next call) on an allocation failure.
template <typename CreateFn, typename NameFn>
void* create_handle(MathHandles& handles, const char* library, const char* create_call, bool loaded,
                    const std::string& load_error, int alloc_failed, CreateFn create, NameFn status_text,
                    const char* fallback, bool* failed, std::string* error) {
  if (!loaded) {
    // Absent is a normal configuration (no warning): the fallback is documented.
    *failed = true;
    *error = load_error;
    return nullptr;
  }
  void* h = nullptr;
  int status = create(&h);
  if (status == alloc_failed && handles.release_cached_memory) {
    handles.release_cached_memory();
    status = create(&h);
  }
  if (status == 0) return h;
  if (status == alloc_failed)
    fail(FRUGAL_ERR_OUT_OF_MEMORY, std::string(create_call) + " failed: " + status_text(status) +
                                       " (device memory is exhausted; it is tried again at the next call)");
  *failed = true;
  *error = std::string(create_call) + " failed: " + status_text(status) + "; " + fallback;
  warn_fallback(std::string(library) + ": " + *error);
  return nullptr;
}

// The device's cuBLAS handle, created on first use; null when cuBLAS is missing or will not
// initialize here (for instance a cuBLAS newer than the driver), so the fallback kernel runs.
void* blas_handle(MathHandles& handles) {
  if (handles.blas || handles.blas_failed) return handles.blas;
  std::string why;
  const bool loaded = cuda_libs::cublas_loaded(&why);
  handles.blas = create_handle(handles, "cuBLAS", "cublasCreate", loaded, why, cuda_libs::kBlasAllocFailed,
                               cuda_libs::blas_create, cuda_libs::blas_status_text,
                               "GEMMs use the fp64 fallback kernel for the rest of the process (much slower)",
                               &handles.blas_failed, &handles.blas_error);
  return handles.blas;
}

void* solver_handle(MathHandles& handles) {
  if (handles.solver || handles.solver_failed) return handles.solver;
  std::string why;
  const bool loaded = cuda_libs::cusolver_loaded(&why);
  handles.solver = create_handle(handles, "cuSOLVER", "cusolverDnCreate", loaded, why, cuda_libs::kSolverAllocFailed,
                                 cuda_libs::solver_create, cuda_libs::solver_status_text,
                                 "SVD refreshes run on the host for the rest of the process", &handles.solver_failed,
                                 &handles.solver_error);
  return handles.solver;
}

// ---------------------------------------------------------------------------------------------
// Non-finite check before an SVD: each block counts the NaN / Inf values of its grid-stride share
// and writes the block total to its own slot (no atomics, one writer per slot: race-free);
// the host adds the slots.
__global__ void __launch_bounds__(kBlock) count_nonfinite_kernel(const float* a, int64_t n, int* per_block) {
  typedef cub::BlockReduce<int, kBlock> BlockCount;
  __shared__ typename BlockCount::TempStorage temp;
  int count = 0;
  for (int64_t i = (int64_t)blockIdx.x * kBlock + threadIdx.x; i < n; i += (int64_t)gridDim.x * kBlock)
    count += isfinite(a[i]) ? 0 : 1;
  const int total = BlockCount(temp).Sum(count);
  if (threadIdx.x == 0) per_block[blockIdx.x] = total;
}

// Whether every element of the device array a (n floats) is finite. Syncs env.stream.
bool all_finite(const DeviceEnv& env, const float* a, int64_t n) {
  const int blocks = grid_blocks(env, n);
  StreamScratch scratch(sizeof(int) * (size_t)blocks, env.stream);
  count_nonfinite_kernel<<<blocks, kBlock, 0, env.stream>>>(a, n, scratch.at<int>(0));
  check_launch("non-finite check kernel");
  std::vector<int> counts((size_t)blocks);
  check(cudaMemcpyAsync(counts.data(), scratch.at<int>(0), sizeof(int) * (size_t)blocks, cudaMemcpyDeviceToHost,
                        env.stream),
        "non-finite check copy");
  check(cudaStreamSynchronize(env.stream), "non-finite check");
  for (int c : counts)
    if (c) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// out (cols x rows, row-major) = in (rows x cols, row-major) transposed, through a shared tile.
__global__ void __launch_bounds__(kTile* kTileRows)
    transpose_kernel(const float* in, int64_t rows, int64_t cols, float* out) {
  __shared__ float tile[kTile][kTile + 1];
  const int64_t row_tiles = (rows + kTile - 1) / kTile, col_tiles = (cols + kTile - 1) / kTile;
  for (int64_t rt = blockIdx.y; rt < row_tiles; rt += gridDim.y) {
    for (int64_t ct = blockIdx.x; ct < col_tiles; ct += gridDim.x) {
      for (int q = threadIdx.y; q < kTile; q += kTileRows) {
        const int64_t r = rt * kTile + q, c = ct * kTile + threadIdx.x;
        if (r < rows && c < cols) tile[q][threadIdx.x] = in[r * cols + c];
      }
      __syncthreads();
      for (int q = threadIdx.y; q < kTile; q += kTileRows) {
        const int64_t c = ct * kTile + q, r = rt * kTile + threadIdx.x;
        if (r < rows && c < cols) out[c * rows + r] = tile[threadIdx.x][q];
      }
      __syncthreads();
    }
  }
}

void transpose(const DeviceEnv& env, const float* in, int64_t rows, int64_t cols, float* out) {
  const int64_t row_tiles = (rows + kTile - 1) / kTile, col_tiles = (cols + kTile - 1) / kTile;
  const dim3 grid((unsigned)(col_tiles < 65535 ? col_tiles : 65535), (unsigned)(row_tiles < 65535 ? row_tiles : 65535));
  transpose_kernel<<<grid, dim3(kTile, kTileRows), 0, env.stream>>>(in, rows, cols, out);
  check_launch("transpose kernel");
}

}  // namespace

void run_gemm(const DeviceEnv& env, MathHandles& handles, const GemmArgs& args) {
  if (args.m <= 0 || args.n <= 0) return;
  const bool int_sizes = fits_int(args.m) && fits_int(args.n) && fits_int(args.k) && fits_int(args.lda) &&
                         fits_int(args.ldb) && fits_int(args.ldc);
  if (int_sizes) {
    std::lock_guard<std::mutex> lock(handles.mutex);
    if (void* h = blas_handle(handles)) {
      check_blas(cuda_libs::blas_set_stream(h, env.stream), "cublasSetStream");
      // cublasSetStream resets the handle to its default workspace, shared by every stream.
      if (handles.bind_blas_workspace) handles.bind_blas_workspace(h, env.stream);
      const int op_a = args.trans_a ? cuda_libs::BLAS_OP_T : cuda_libs::BLAS_OP_N;
      const int op_b = args.trans_b ? cuda_libs::BLAS_OP_T : cuda_libs::BLAS_OP_N;
      check_blas(cuda_libs::blas_sgemm(h, op_b, op_a, (int)args.n, (int)args.m, (int)args.k, &args.alpha, args.b,
                                       (int)args.ldb, args.a, (int)args.lda, &args.beta, args.c, (int)args.ldc),
                 "cublasSgemm");
      return;
    }
  }
  gemm_fallback(env, args);
}

// Row-major A (m x n) in memory is column-major X = A^T (n x m); cusolverDnSgesvd needs rows >=
// cols. When n >= m, X itself qualifies: X = Ux S Vx^T gives A = Vx S Ux^T, and the column-major
// outputs land directly in row-major form: gesvd's VT output (m x m, ld m) is U of A row-major,
// and its U output (n x m, ld n) is Vt of A row-major. When n < m, A is transposed into column-
// major form first (m x n, rows >= cols), and its U and VT outputs are transposed back.
bool run_svd(const DeviceEnv& env, MathHandles& handles, const float* a, int64_t m, int64_t n, float* u, float* s,
             float* vt) {
  if (m <= 0 || n <= 0) return true;
  if (!fits_int(m) || !fits_int(n) || !fits_int(m * n)) return false;
  std::lock_guard<std::mutex> lock(handles.mutex);
  void* h = solver_handle(handles);
  if (!h) return false;
  // cusolverDnSgesvd is not defined on NaN / Inf. Returning false hands the matrix to the host
  // path, which refuses it with the error the CPU backend gives (refresh.cpp), word for word.
  if (!all_finite(env, a, m * n)) return false;
  check_solver(cuda_libs::solver_set_stream(h, env.stream), "cusolverDnSetStream");

  const bool direct = n >= m;
  const int rows = (int)(direct ? n : m), cols = (int)(direct ? m : n);  // of the column-major input
  const int64_t q = cols;                                                // = min(m, n)
  int lwork = 0;
  check_solver(cuda_libs::solver_sgesvd_buffer_size(h, rows, cols, &lwork), "cusolverDnSgesvd_bufferSize");

  const size_t input_bytes = align_up(sizeof(float) * (size_t)(m * n));
  const size_t u_bytes = direct ? 0 : align_up(sizeof(float) * (size_t)(rows * q));   // column-major U (m x q)
  const size_t vt_bytes = direct ? 0 : align_up(sizeof(float) * (size_t)(q * cols));  // column-major VT (q x n)
  const size_t work_bytes = align_up(sizeof(float) * (size_t)(lwork > 0 ? lwork : 1));
  const size_t rwork_bytes = align_up(sizeof(float) * (size_t)q);
  const size_t scratch_bytes = input_bytes + u_bytes + vt_bytes + work_bytes + rwork_bytes + sizeof(int);
  StreamScratch scratch(scratch_bytes, env.stream);
  // cuSOLVER's scratch (its lwork included) is workspace in the ledger while the refresh holds it.
  tracked_external(env.ordinal, (int64_t)scratch_bytes, FRUGAL_MEM_WORKSPACE);
  struct Counted {
    int device;
    int64_t bytes;
    ~Counted() { tracked_external(device, -bytes, FRUGAL_MEM_WORKSPACE); }
  } counted{env.ordinal, (int64_t)scratch_bytes};
  size_t offset = 0;
  float* x = scratch.at<float>(offset);
  offset += input_bytes;
  float* u_col = scratch.at<float>(offset);
  offset += u_bytes;
  float* vt_col = scratch.at<float>(offset);
  offset += vt_bytes;
  float* work = scratch.at<float>(offset);
  offset += work_bytes;
  float* rwork = scratch.at<float>(offset);
  offset += rwork_bytes;
  int* info_device = scratch.at<int>(offset);

  // gesvd overwrites its input, and a is the caller's.
  if (direct)
    check(cudaMemcpyAsync(x, a, sizeof(float) * (size_t)(m * n), cudaMemcpyDeviceToDevice, env.stream),
          "svd input copy");
  else
    transpose(env, a, m, n, x);  // row-major n x m = column-major m x n

  float* u_out = direct ? vt : u_col;   // column-major rows x q
  float* vt_out = direct ? u : vt_col;  // column-major q x cols
  check_solver(cuda_libs::solver_sgesvd(h, 'S', 'S', rows, cols, x, rows, s, u_out, rows, vt_out, (int)q, work, lwork,
                                        rwork, info_device),
               "cusolverDnSgesvd");
  if (!direct) {
    transpose(env, u_col, q, m, u);    // column-major m x q is row-major q x m
    transpose(env, vt_col, n, q, vt);  // column-major q x n is row-major n x q
  }
  int info = 0;
  check(cudaMemcpyAsync(&info, info_device, sizeof(int), cudaMemcpyDeviceToHost, env.stream), "svd status copy");
  check(cudaStreamSynchronize(env.stream), "svd");
  if (info < 0) fail(FRUGAL_ERR_DEVICE, "cusolverDnSgesvd rejected argument " + std::to_string(-info));
  return info == 0;  // info > 0: did not converge; the host SVD takes over
}

}  // namespace cuda
}  // namespace frugal
