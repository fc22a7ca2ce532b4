// Reductions on the device. Squares are formed exactly in fp64 (a product of two floats fits in a
// double) and summed in fp64 in an order fixed by the launch shape, so a given device always
// returns the same bits, and CPU/GPU differences stay far below fp32 resolution. That matters for
// norm-based selections (Grass top-r), where a last-bit difference could flip the chosen lines.
#include "reduce_kernels.cuh"

#include <cub/block/block_reduce.cuh>
#include <vector>
#include "grid_stride.cuh"
#include "math/dtype_convert.h"
#include "math/step_gate.h"

namespace frugal {
namespace cuda {
namespace {

typedef cub::BlockReduce<double, kBlock> BlockSum;

__device__ __forceinline__ double square(float x) { return (double)x * (double)x; }

// ---------------------------------------------------------------------------------------------
// sum_squares: multi-tensor like elementwise_step. Each block writes one fp64 partial; a
// single-block kernel then adds the partials in order and adds the total to *acc.

constexpr int kMaxTensorsPerLaunch = 64;
constexpr int64_t kChunk = 8192;

struct SumSquaresBatch {
  const void* ptrs[kMaxTensorsPerLaunch];
  int64_t n[kMaxTensorsPerLaunch];
  int64_t chunk_begin[kMaxTensorsPerLaunch + 1];
  int32_t dtypes[kMaxTensorsPerLaunch];
  int32_t count;
};
static_assert(sizeof(SumSquaresBatch) <= 4000, "SumSquaresBatch must fit in 4 KB of kernel parameters");

__global__ void __launch_bounds__(kBlock) sum_squares_partial_kernel(const SumSquaresBatch batch, double* partials) {
  double acc = 0.0;
  const int64_t total = batch.chunk_begin[batch.count];
  for (int64_t item = blockIdx.x; item < total; item += gridDim.x) {
    int j = 0;
    while (item >= batch.chunk_begin[j + 1]) ++j;
    const int64_t begin = (item - batch.chunk_begin[j]) * kChunk;
    const int64_t end = begin + kChunk < batch.n[j] ? begin + kChunk : batch.n[j];
    const void* ptr = batch.ptrs[j];
    const int32_t dtype = batch.dtypes[j];
    for (int64_t e = begin + threadIdx.x; e < end; e += blockDim.x) acc += square(load_elem(ptr, dtype, e));
  }
  __shared__ typename BlockSum::TempStorage temp;
  const double block_total = BlockSum(temp).Sum(acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = block_total;
}

__global__ void __launch_bounds__(kBlock)
    sum_squares_finish_kernel(const double* partials, int64_t count, double* acc) {
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) sum += partials[i];
  __shared__ typename BlockSum::TempStorage temp;
  const double total = BlockSum(temp).Sum(sum);
  // Kept in fp64: a float total overflowed to Inf for a gradient norm above 1.8e19.
  if (threadIdx.x == 0) *acc += total;
}

__global__ void step_scalars_kernel(const double* sumsq, float max_norm, int32_t skip_nonfinite, float* out,
                                    int64_t* skipped) {
  if (step_gate_values(*sumsq, max_norm, skip_nonfinite, out) != 0.f) *skipped += 1;
}

// ---------------------------------------------------------------------------------------------
// line_norms

// Rows: one block per row (grid-stride over rows), threads across the row's columns.
__global__ void __launch_bounds__(kBlock)
    row_norms_kernel(const void* g, int32_t dtype, int64_t rows, int64_t cols, float* out) {
  __shared__ typename BlockSum::TempStorage temp;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    double sum = 0.0;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) sum += square(load_elem(g, dtype, r * cols + c));
    const double total = BlockSum(temp).Sum(sum);
    if (threadIdx.x == 0) out[r] = (float)sqrt(total);
    __syncthreads();  // temp is reused by the next row
  }
}

// Columns: a block owns 32 adjacent columns (coalesced 32-wide row segments); its 32 thread rows
// split the matrix rows, and the 32 partial sums of a column are added in row-group order.
constexpr int kColTile = 32;
constexpr int kRowGroups = 32;

__global__ void __launch_bounds__(kColTile* kRowGroups)
    col_norms_kernel(const void* g, int32_t dtype, int64_t rows, int64_t cols, float* out) {
  __shared__ double partial[kRowGroups][kColTile + 1];
  for (int64_t c0 = (int64_t)blockIdx.x * kColTile; c0 < cols; c0 += (int64_t)gridDim.x * kColTile) {
    const int64_t c = c0 + threadIdx.x;
    double sum = 0.0;
    if (c < cols)
      for (int64_t r = threadIdx.y; r < rows; r += kRowGroups) sum += square(load_elem(g, dtype, r * cols + c));
    partial[threadIdx.y][threadIdx.x] = sum;
    __syncthreads();
    if (threadIdx.y == 0 && c < cols) {
      double total = 0.0;
      for (int i = 0; i < kRowGroups; ++i) total += partial[i][threadIdx.x];
      out[c] = (float)sqrt(total);
    }
    __syncthreads();
  }
}

__global__ void abs_kernel(const void* g, int32_t dtype, int64_t n, float* out) {
  for (int64_t i = global_thread_index(); i < n; i += grid_thread_count()) out[i] = fabsf(load_elem(g, dtype, i));
}

}  // namespace

void launch_sum_squares(const DeviceEnv& env, const void* const* ptrs, const int32_t* dtypes, const int64_t* ns,
                        size_t count, double* acc) {
  // Batches first, so the partials of every launch fit one scratch buffer.
  std::vector<SumSquaresBatch> batches;
  std::vector<int> grids;
  int64_t partial_count = 0;
  size_t next = 0;
  while (next < count) {
    SumSquaresBatch batch;
    batch.count = 0;
    batch.chunk_begin[0] = 0;
    for (; next < count && batch.count < kMaxTensorsPerLaunch; ++next) {
      if (ns[next] <= 0) continue;
      const int j = batch.count++;
      batch.ptrs[j] = ptrs[next];
      batch.dtypes[j] = dtypes[next];
      batch.n[j] = ns[next];
      batch.chunk_begin[j + 1] = batch.chunk_begin[j] + (ns[next] + kChunk - 1) / kChunk;
    }
    if (batch.count == 0) break;
    batches.push_back(batch);
    grids.push_back(grid_blocks(env, batch.chunk_begin[batch.count], 1));
    partial_count += grids.back();
  }
  if (batches.empty()) return;

  StreamScratch scratch(sizeof(double) * (size_t)partial_count, env.stream);
  double* partials = scratch.at<double>(0);
  int64_t offset = 0;
  for (size_t b = 0; b < batches.size(); ++b) {
    sum_squares_partial_kernel<<<grids[b], kBlock, 0, env.stream>>>(batches[b], partials + offset);
    check_launch("sum_squares partial kernel");
    offset += grids[b];
  }
  sum_squares_finish_kernel<<<1, kBlock, 0, env.stream>>>(partials, partial_count, acc);
  check_launch("sum_squares finish kernel");
}

void launch_step_scalars(const DeviceEnv& env, const double* sumsq, float max_norm, int32_t skip_nonfinite, float* out,
                         int64_t* skipped) {
  step_scalars_kernel<<<1, 1, 0, env.stream>>>(sumsq, max_norm, skip_nonfinite, out, skipped);
  check_launch("step_scalars kernel");
}

void launch_line_norms(const DeviceEnv& env, const void* g, int32_t dtype, int64_t rows, int64_t cols, int32_t axis,
                       float* out) {
  if (rows <= 0 || cols <= 0) return;
  if (axis == 0) {
    row_norms_kernel<<<grid_blocks(env, rows, 1), kBlock, 0, env.stream>>>(g, dtype, rows, cols, out);
    check_launch("line_norms rows kernel");
  } else if (axis == 1) {
    const int64_t tiles = (cols + kColTile - 1) / kColTile;
    const int grid = (int)(tiles < (int64_t)env.sm_count * 2 ? tiles : (int64_t)env.sm_count * 2);
    col_norms_kernel<<<grid, dim3(kColTile, kRowGroups), 0, env.stream>>>(g, dtype, rows, cols, out);
    check_launch("line_norms columns kernel");
  } else {
    abs_kernel<<<grid_blocks(env, rows * cols), kBlock, 0, env.stream>>>(g, dtype, rows * cols, out);
    check_launch("line_norms elements kernel");
  }
}

}  // namespace cuda
}  // namespace frugal
