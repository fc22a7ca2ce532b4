// Device-side helpers for grid-stride loops: each thread starts at its global index and steps by
// the total number of threads, so one launch sized to the device covers any amount of work.
#pragma once
#include <cuda_runtime.h>
#include <cstdint>

namespace frugal {
namespace cuda {

__device__ __forceinline__ int64_t global_thread_index() { return (int64_t)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_thread_count() { return (int64_t)gridDim.x * blockDim.x; }

// Walks the flat indices start, start + stride, ... of a matrix with `cols` columns while keeping
// (row, col) current by addition: one 64-bit division per thread instead of one per element.
struct RowColWalker {
  int64_t row, col, drow, dcol, cols;
  __device__ __forceinline__ RowColWalker(int64_t start, int64_t stride, int64_t ncols)
      : row(start / ncols), col(start % ncols), drow(stride / ncols), dcol(stride % ncols), cols(ncols) {}
  __device__ __forceinline__ void advance() {
    row += drow;
    col += dcol;
    if (col >= cols) {
      col -= cols;
      ++row;
    }
  }
};

}  // namespace cuda
}  // namespace frugal
