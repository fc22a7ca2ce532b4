// CUDA causal attention, forward and backward, in the CPU's formulation (cpu_attention.cpp):
// the forward keeps each query's log-sum-exp; the backward recomputes probabilities from it.
// One block per (batch, head, row) walks the other side in tiles of kTile rows held in static
// shared memory, so any sequence length works (the forward keeps a running max and sum, the
// "online softmax"). The dK/dV kernel gives each key row its own block that walks the later
// queries, so no gradient is accumulated by two blocks: no atomics, deterministic results. Each
// thread owns head_dim / blockDim output columns, in registers.
#include <cuda_runtime.h>

#include <string>

#include "../../native/core/workspace_pool.h"
#include "../device_env.cuh"
#include "launch.cuh"
#include "model_cuda.h"

namespace frugal {
namespace model {
namespace cuda_ops {
namespace {

constexpr int kAttnThreads = 128;
constexpr int kTile = 128;  // keys (or queries) per tile
constexpr int kMaxHeadDim = 256;
constexpr int kColumnsPerThread = kMaxHeadDim / kAttnThreads;

struct Dims {
  int64_t batch, seq, heads, head_dim, width;  // width = heads * head_dim (row stride)
  float scale;
};

Dims dims_of(const AttentionDesc& a) { return {a.batch, a.seq, a.heads, a.head_dim, a.heads * a.head_dim, a.scale}; }

// Offset of row t of (batch b, head h).
__device__ __forceinline__ int64_t row_at(const Dims& d, int64_t b, int64_t h, int64_t t) {
  return (b * d.seq + t) * d.width + h * d.head_dim;
}

__device__ __forceinline__ float dot(const float* a, const float* b, int64_t n) {
  float s = 0.f;
  for (int64_t c = 0; c < n; c++) s += a[c] * b[c];
  return s;
}

// Block (b, h, i): out_i = softmax(q_i K^T * scale) V over keys 0..i, and lse_i.
__global__ void __launch_bounds__(kAttnThreads)
    attention_forward_kernel(const float* q, const float* k, const float* v, float* out, float* lse, Dims d) {
  __shared__ float qi[kMaxHeadDim];
  __shared__ float p[kTile];
  __shared__ float red[kAttnThreads];
  const int64_t rows = d.batch * d.heads * d.seq;
  for (int64_t task = blockIdx.x; task < rows; task += gridDim.x) {
    const int64_t i = task % d.seq, h = (task / d.seq) % d.heads, b = task / (d.seq * d.heads);
    const int64_t qa = row_at(d, b, h, i);
    for (int64_t c = threadIdx.x; c < d.head_dim; c += blockDim.x) qi[c] = q[qa + c];
    __syncthreads();
    float m = -INFINITY, l = 0.f;
    float acc[kColumnsPerThread];
    for (int r = 0; r < kColumnsPerThread; r++) acc[r] = 0.f;
    for (int64_t j0 = 0; j0 <= i; j0 += kTile) {
      const int64_t n = (i + 1 - j0) < kTile ? (i + 1 - j0) : kTile;
      float tile_max = -INFINITY;
      for (int64_t jj = threadIdx.x; jj < n; jj += blockDim.x) {
        p[jj] = dot(qi, k + row_at(d, b, h, j0 + jj), d.head_dim) * d.scale;
        tile_max = fmaxf(tile_max, p[jj]);
      }
      const float m_new = fmaxf(m, block_max(tile_max, red));
      const float rescale = expf(m - m_new);  // 0 on the first tile (m = -inf)
      float tile_sum = 0.f;
      for (int64_t jj = threadIdx.x; jj < n; jj += blockDim.x) {
        p[jj] = expf(p[jj] - m_new);
        tile_sum += p[jj];
      }
      l = l * rescale + block_sum(tile_sum, red);  // its barriers also publish p[]
      for (int r = 0; r < kColumnsPerThread; r++) {
        const int64_t c = threadIdx.x + (int64_t)r * blockDim.x;
        if (c >= d.head_dim) break;
        float a = acc[r] * rescale;
        for (int64_t jj = 0; jj < n; jj++) a += p[jj] * v[row_at(d, b, h, j0 + jj) + c];
        acc[r] = a;
      }
      m = m_new;
      __syncthreads();  // p[] is rewritten by the next tile
    }
    for (int r = 0; r < kColumnsPerThread; r++) {
      const int64_t c = threadIdx.x + (int64_t)r * blockDim.x;
      if (c < d.head_dim) out[qa + c] = acc[r] / l;
    }
    if (threadIdx.x == 0) lse[task] = m + logf(l);
    __syncthreads();  // qi[] is rewritten by the next task
  }
}

// delta[b, h, i] = dO_i . O_i (the softmax backward's row term).
__global__ void attention_delta_kernel(const float* out, const float* dout, float* delta, Dims d) {
  const int64_t rows = d.batch * d.heads * d.seq;
  for (int64_t task = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; task < rows;
       task += (int64_t)gridDim.x * blockDim.x) {
    const int64_t i = task % d.seq, h = (task / d.seq) % d.heads, b = task / (d.seq * d.heads);
    const int64_t at = row_at(d, b, h, i);
    delta[task] = dot(dout + at, out + at, d.head_dim);
  }
}

// Block (b, h, i): dS_ij = P_ij (dO_i . V_j - delta_i) * scale for j <= i; dQ_i = dS_i K.
__global__ void __launch_bounds__(kAttnThreads)
    attention_dq_kernel(const float* q, const float* k, const float* v, const float* lse, const float* delta,
                        const float* dout, float* dq, Dims d) {
  __shared__ float qi[kMaxHeadDim];
  __shared__ float doi[kMaxHeadDim];
  __shared__ float ds[kTile];
  const int64_t rows = d.batch * d.heads * d.seq;
  for (int64_t task = blockIdx.x; task < rows; task += gridDim.x) {
    const int64_t i = task % d.seq, h = (task / d.seq) % d.heads, b = task / (d.seq * d.heads);
    const int64_t qa = row_at(d, b, h, i);
    for (int64_t c = threadIdx.x; c < d.head_dim; c += blockDim.x) {
      qi[c] = q[qa + c];
      doi[c] = dout[qa + c];
    }
    __syncthreads();
    const float l = lse[task], dl = delta[task];
    float acc[kColumnsPerThread];
    for (int r = 0; r < kColumnsPerThread; r++) acc[r] = 0.f;
    for (int64_t j0 = 0; j0 <= i; j0 += kTile) {
      const int64_t n = (i + 1 - j0) < kTile ? (i + 1 - j0) : kTile;
      for (int64_t jj = threadIdx.x; jj < n; jj += blockDim.x) {
        const int64_t ka = row_at(d, b, h, j0 + jj);
        const float pij = expf(dot(qi, k + ka, d.head_dim) * d.scale - l);
        ds[jj] = pij * (dot(doi, v + ka, d.head_dim) - dl) * d.scale;
      }
      __syncthreads();
      for (int r = 0; r < kColumnsPerThread; r++) {
        const int64_t c = threadIdx.x + (int64_t)r * blockDim.x;
        if (c >= d.head_dim) break;
        float a = acc[r];
        for (int64_t jj = 0; jj < n; jj++) a += ds[jj] * k[row_at(d, b, h, j0 + jj) + c];
        acc[r] = a;
      }
      __syncthreads();
    }
    for (int r = 0; r < kColumnsPerThread; r++) {
      const int64_t c = threadIdx.x + (int64_t)r * blockDim.x;
      if (c < d.head_dim) dq[qa + c] = acc[r];
    }
    __syncthreads();
  }
}

// Block (b, h, j): over the later queries i >= j, P_ij and dS_ij; dK_j = sum_i dS_ij Q_i and
// dV_j = sum_i P_ij dO_i.
__global__ void __launch_bounds__(kAttnThreads)
    attention_dkv_kernel(const float* q, const float* k, const float* v, const float* lse, const float* delta,
                         const float* dout, float* dk, float* dv, Dims d) {
  __shared__ float kj[kMaxHeadDim];
  __shared__ float vj[kMaxHeadDim];
  __shared__ float p[kTile];
  __shared__ float ds[kTile];
  const int64_t rows = d.batch * d.heads * d.seq;
  for (int64_t task = blockIdx.x; task < rows; task += gridDim.x) {
    const int64_t j = task % d.seq, h = (task / d.seq) % d.heads, b = task / (d.seq * d.heads);
    const int64_t ka = row_at(d, b, h, j);
    const int64_t lbase = (b * d.heads + h) * d.seq;
    for (int64_t c = threadIdx.x; c < d.head_dim; c += blockDim.x) {
      kj[c] = k[ka + c];
      vj[c] = v[ka + c];
    }
    __syncthreads();
    float gk[kColumnsPerThread], gv[kColumnsPerThread];
    for (int r = 0; r < kColumnsPerThread; r++) gk[r] = gv[r] = 0.f;
    for (int64_t i0 = j; i0 < d.seq; i0 += kTile) {
      const int64_t n = (d.seq - i0) < kTile ? (d.seq - i0) : kTile;
      for (int64_t ii = threadIdx.x; ii < n; ii += blockDim.x) {
        const int64_t i = i0 + ii;
        const int64_t qa = row_at(d, b, h, i);
        const float pij = expf(dot(q + qa, kj, d.head_dim) * d.scale - lse[lbase + i]);
        p[ii] = pij;
        ds[ii] = pij * (dot(dout + qa, vj, d.head_dim) - delta[lbase + i]) * d.scale;
      }
      __syncthreads();
      for (int r = 0; r < kColumnsPerThread; r++) {
        const int64_t c = threadIdx.x + (int64_t)r * blockDim.x;
        if (c >= d.head_dim) break;
        float ak = gk[r], av = gv[r];
        for (int64_t ii = 0; ii < n; ii++) {
          const int64_t qa = row_at(d, b, h, i0 + ii);
          ak += ds[ii] * q[qa + c];
          av += p[ii] * dout[qa + c];
        }
        gk[r] = ak;
        gv[r] = av;
      }
      __syncthreads();
    }
    for (int r = 0; r < kColumnsPerThread; r++) {
      const int64_t c = threadIdx.x + (int64_t)r * blockDim.x;
      if (c < d.head_dim) {
        dk[ka + c] = gk[r];
        dv[ka + c] = gv[r];
      }
    }
    __syncthreads();
  }
}

unsigned blocks_for(int64_t rows) { return (unsigned)(rows < 65535LL * 16 ? rows : 65535LL * 16); }

void check_head_dim(const Dims& d) {
  if (d.head_dim > kMaxHeadDim)
    fail(FRUGAL_ERR_UNSUPPORTED, "shape.head_dim: the CUDA attention kernels take head_dim <= " +
                                     std::to_string(kMaxHeadDim) + ", got " + std::to_string(d.head_dim));
}

}  // namespace

void attention_forward(int device, const float* q, const float* k, const float* v, float* out, float* lse,
                       const AttentionDesc& a, void* stream) {
  const Dims d = dims_of(a);
  check_head_dim(d);
  Launch l(device, stream);
  attention_forward_kernel<<<blocks_for(d.batch * d.heads * d.seq), kAttnThreads, 0, l.stream>>>(q, k, v, out, lse, d);
  cuda::check_launch("attention forward kernel");
}

void attention_backward(int device, const float* q, const float* k, const float* v, const float* out, const float* lse,
                        const float* dout, float* dq, float* dk, float* dv, const AttentionDesc& a, void* stream) {
  const Dims d = dims_of(a);
  check_head_dim(d);
  Launch l(device, stream);
  const int64_t rows = d.batch * d.heads * d.seq;
  WorkspacePool::Lease scratch(device, stream);  // the device's pool: counted in the ledger
  float* delta = scratch.slot(0, rows);
  attention_delta_kernel<<<grid_for(rows), kThreads, 0, l.stream>>>(out, dout, delta, d);
  cuda::check_launch("attention delta kernel");
  attention_dq_kernel<<<blocks_for(rows), kAttnThreads, 0, l.stream>>>(q, k, v, lse, delta, dout, dq, d);
  cuda::check_launch("attention dq kernel");
  attention_dkv_kernel<<<blocks_for(rows), kAttnThreads, 0, l.stream>>>(q, k, v, lse, delta, dout, dk, dv, d);
  cuda::check_launch("attention dk/dv kernel");
}

}  // namespace cuda_ops
}  // namespace model
}  // namespace frugal
