// CUDA kernels of the row and element model ops: embedding, RMSNorm, rotary embedding, SwiGLU,
// cross-entropy, axpy and column gathers. The per-element formulas are the CPU's (model_math.h);
// reductions over rows (weight gradients) give each column to one thread that walks the rows in
// order, so they are deterministic without atomics, like the CPU loops.
#include <cuda_runtime.h>

#include "../../native/core/workspace_pool.h"
#include "../../native/math/dtype_convert.h"
#include "../../native/model/model_math.h"
#include "../device_env.cuh"
#include "launch.cuh"
#include "model_cuda.h"

namespace frugal {
namespace model {
namespace cuda_ops {
namespace {

// ---- embedding ----

__global__ void embedding_forward_kernel(const int32_t* ids, int64_t n, const void* table, int32_t dtype, int64_t vocab,
                                         int64_t dim, float* out) {
  const int64_t total = n * dim;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t row = i / dim, col = i % dim;
    const int32_t id = ids[row];
    // Out-of-range ids cannot be reported without a host sync: they read as zeros.
    out[i] = (id >= 0 && id < vocab) ? load_elem(table, dtype, (int64_t)id * dim + col) : 0.f;
  }
}

// One thread per column: walks the tokens in order and accumulates into its column of dtable.
__global__ void embedding_backward_kernel(const int32_t* ids, int64_t n, const float* dout, void* dtable, int32_t dtype,
                                          int64_t vocab, int64_t dim, bool accumulate) {
  for (int64_t c = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; c < dim; c += (int64_t)gridDim.x * blockDim.x) {
    if (!accumulate)
      for (int64_t v = 0; v < vocab; v++) store_elem(dtable, dtype, v * dim + c, 0.f);
    for (int64_t i = 0; i < n; i++) {
      const int32_t id = ids[i];
      if (id < 0 || id >= vocab) continue;
      const int64_t at = (int64_t)id * dim + c;
      store_elem(dtable, dtype, at, load_elem(dtable, dtype, at) + dout[i * dim + c]);
    }
  }
}

// Elementwise dtype conversions around the embedding backward's fp32 accumulation.
__global__ void widen_kernel(const void* src, int32_t dtype, float* dst, int64_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    dst[i] = load_elem(src, dtype, i);
}
__global__ void narrow_kernel(const float* src, void* dst, int32_t dtype, int64_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    store_elem(dst, dtype, i, src[i]);
}

// ---- RMSNorm ----

__global__ void rmsnorm_forward_kernel(const float* x, const void* w, int32_t w_dtype, float* y, float* rstd,
                                       int64_t rows, int64_t dim, float eps) {
  __shared__ float scratch[kThreads];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* xr = x + r * dim;
    float ss = 0.f;
    for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) ss += xr[c] * xr[c];
    const float rs = rms_rstd(block_sum(ss, scratch), dim, eps);
    if (threadIdx.x == 0) rstd[r] = rs;
    for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) y[r * dim + c] = xr[c] * rs * load_elem(w, w_dtype, c);
  }
}

__global__ void rmsnorm_backward_dx_kernel(const float* x, const void* w, int32_t w_dtype, const float* rstd,
                                           const float* dy, float* dx, bool accumulate, int64_t rows, int64_t dim) {
  __shared__ float scratch[kThreads];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* xr = x + r * dim;
    const float* dyr = dy + r * dim;
    float dot = 0.f;
    for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) dot += dyr[c] * load_elem(w, w_dtype, c) * xr[c];
    dot = block_sum(dot, scratch);
    const float rs = rstd[r];
    const float coef = rs * rs * rs * dot / (float)dim;
    for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) {
      const float v = rs * dyr[c] * load_elem(w, w_dtype, c) - coef * xr[c];
      dx[r * dim + c] = accumulate ? dx[r * dim + c] + v : v;
    }
  }
}

// dw[c] = sum over rows of dy * x * rstd: one thread per column (reads are coalesced across the
// threads of a warp, which hold neighbouring columns).
__global__ void rmsnorm_backward_dw_kernel(const float* x, const float* rstd, const float* dy, void* dw,
                                           int32_t dw_dtype, bool accumulate, int64_t rows, int64_t dim) {
  for (int64_t c = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; c < dim; c += (int64_t)gridDim.x * blockDim.x) {
    float acc = 0.f;
    for (int64_t r = 0; r < rows; r++) acc += dy[r * dim + c] * x[r * dim + c] * rstd[r];
    store_elem(dw, dw_dtype, c, (accumulate ? load_elem(dw, dw_dtype, c) : 0.f) + acc);
  }
}

// ---- rotary embedding ----

__global__ void rope_kernel(float* x, int64_t rows, int64_t seq, int64_t heads, int64_t head_dim, float theta,
                            bool inverse) {
  const int64_t half = head_dim / 2, total = rows * heads * half;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t pair = i % half, h = (i / half) % heads, r = i / (half * heads);
    float* v = x + r * heads * head_dim + h * head_dim;
    rope_rotate(&v[pair], &v[pair + half], rope_angle(r % seq, pair, head_dim, theta), inverse);
  }
}

// ---- SwiGLU, axpy, gathers ----

__global__ void swiglu_forward_kernel(const float* g, const float* u, float* out, int64_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = swiglu(g[i], u[i]);
}

__global__ void swiglu_backward_kernel(const float* g, const float* u, const float* dout, float* dg, float* du,
                                       int64_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    swiglu_grad(g[i], u[i], dout[i], &dg[i], &du[i]);
}

__global__ void axpy_kernel(float* y, const float* x, int64_t n, float alpha) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    y[i] += alpha * x[i];
}

__global__ void gather_columns_kernel(const float* src, int64_t rows, int64_t cols, const int32_t* idx,
                                      const float* scale, int64_t k, float* dst) {
  const int64_t total = rows * k;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t r = i / k, j = i % k;
    const int32_t c = idx[j];
    dst[i] = (c >= 0 && c < cols) ? (scale ? scale[j] : 1.f) * src[r * cols + c] : 0.f;
  }
}

// ---- cross-entropy ----

// One block per row: max, sum of exponentials, loss, and (softmax - onehot) * scale in place.
__global__ void cross_entropy_kernel(const float* logits, const int32_t* targets, int64_t rows, int64_t vocab,
                                     float* losses, float* dlogits, float grad_scale) {
  __shared__ float scratch[kThreads];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* x = logits + r * vocab;
    const int32_t t = targets[r];
    const bool ignored = t < 0 || t >= vocab;
    float mx = -INFINITY;
    for (int64_t c = threadIdx.x; c < vocab; c += blockDim.x) mx = fmaxf(mx, x[c]);
    mx = block_max(mx, scratch);
    float sum = 0.f;
    for (int64_t c = threadIdx.x; c < vocab; c += blockDim.x) sum += expf(x[c] - mx);
    sum = block_sum(sum, scratch);
    const float lse = mx + logf(sum);
    const float xt = ignored ? 0.f : x[t];  // read before the gradient overwrites it
    __syncthreads();
    if (threadIdx.x == 0 && losses) losses[r] = ignored ? 0.f : lse - xt;
    if (dlogits) {
      float* d = dlogits + r * vocab;
      for (int64_t c = threadIdx.x; c < vocab; c += blockDim.x)
        d[c] = ignored ? 0.f : (expf(x[c] - lse) - (c == t ? 1.f : 0.f)) * grad_scale;
    }
    __syncthreads();
  }
}

}  // namespace

void embedding_forward(int device, const int32_t* ids, int64_t n, const void* table, int32_t dtype, int64_t vocab,
                       int64_t dim, float* out, void* stream) {
  Launch l(device, stream);
  embedding_forward_kernel<<<grid_for(n * dim), kThreads, 0, l.stream>>>(ids, n, table, dtype, vocab, dim, out);
  cuda::check_launch("embedding forward kernel");
}

void embedding_backward(int device, const int32_t* ids, int64_t n, const float* dout, void* dtable, int32_t dtype,
                        int64_t vocab, int64_t dim, bool accumulate, void* stream) {
  Launch l(device, stream);
  if (dtype == F32) {
    embedding_backward_kernel<<<grid_for(dim, 128), 128, 0, l.stream>>>(ids, n, dout, dtable, dtype, vocab, dim,
                                                                        accumulate);
    cuda::check_launch("embedding backward kernel");
    return;
  }
  // bf16 / f16 tables: accumulate in an fp32 copy and round once, as the CPU does (rounding after
  // every token would lose the small gradients of frequent tokens).
  const int64_t count = vocab * dim;
  WorkspacePool::Lease scratch(device, stream);  // the device's pool: counted in the ledger
  float* acc = scratch.slot(0, count);
  if (accumulate) {
    widen_kernel<<<grid_for(count), kThreads, 0, l.stream>>>(dtable, dtype, acc, count);
    cuda::check_launch("embedding backward widen kernel");
  }
  embedding_backward_kernel<<<grid_for(dim, 128), 128, 0, l.stream>>>(ids, n, dout, acc, F32, vocab, dim, accumulate);
  cuda::check_launch("embedding backward kernel");
  narrow_kernel<<<grid_for(count), kThreads, 0, l.stream>>>(acc, dtable, dtype, count);
  cuda::check_launch("embedding backward narrow kernel");
}

void rmsnorm_forward(int device, const float* x, const void* w, int32_t w_dtype, float* y, float* rstd, int64_t rows,
                     int64_t dim, float eps, void* stream) {
  Launch l(device, stream);
  rmsnorm_forward_kernel<<<row_grid(rows), kThreads, 0, l.stream>>>(x, w, w_dtype, y, rstd, rows, dim, eps);
  cuda::check_launch("rmsnorm forward kernel");
}

void rmsnorm_backward(int device, const float* x, const void* w, int32_t w_dtype, const float* rstd, const float* dy,
                      float* dx, bool accumulate_dx, void* dw, int32_t dw_dtype, bool accumulate_dw, int64_t rows,
                      int64_t dim, void* stream) {
  Launch l(device, stream);
  if (dx && rows > 0) {
    rmsnorm_backward_dx_kernel<<<row_grid(rows), kThreads, 0, l.stream>>>(x, w, w_dtype, rstd, dy, dx, accumulate_dx,
                                                                          rows, dim);
    cuda::check_launch("rmsnorm backward (dx) kernel");
  }
  if (dw) {
    rmsnorm_backward_dw_kernel<<<grid_for(dim, 128), 128, 0, l.stream>>>(x, rstd, dy, dw, dw_dtype, accumulate_dw, rows,
                                                                         dim);
    cuda::check_launch("rmsnorm backward (dw) kernel");
  }
}

void rope(int device, float* x, const AttentionDesc& a, float theta, bool inverse, void* stream) {
  Launch l(device, stream);
  const int64_t rows = a.batch * a.seq;
  rope_kernel<<<grid_for(rows * a.heads * (a.head_dim / 2)), kThreads, 0, l.stream>>>(x, rows, a.seq, a.heads,
                                                                                      a.head_dim, theta, inverse);
  cuda::check_launch("rope kernel");
}

void swiglu_forward(int device, const float* gate, const float* up, float* out, int64_t n, void* stream) {
  Launch l(device, stream);
  swiglu_forward_kernel<<<grid_for(n), kThreads, 0, l.stream>>>(gate, up, out, n);
  cuda::check_launch("swiglu forward kernel");
}

void swiglu_backward(int device, const float* gate, const float* up, const float* dout, float* dgate, float* dup,
                     int64_t n, void* stream) {
  Launch l(device, stream);
  swiglu_backward_kernel<<<grid_for(n), kThreads, 0, l.stream>>>(gate, up, dout, dgate, dup, n);
  cuda::check_launch("swiglu backward kernel");
}

void cross_entropy(int device, const float* logits, const int32_t* targets, int64_t rows, int64_t vocab, float* losses,
                   float* dlogits, float grad_scale, void* stream) {
  Launch l(device, stream);
  cross_entropy_kernel<<<row_grid(rows), kThreads, 0, l.stream>>>(logits, targets, rows, vocab, losses, dlogits,
                                                                  grad_scale);
  cuda::check_launch("cross-entropy kernel");
}

void axpy(int device, float* y, const float* x, int64_t n, float alpha, void* stream) {
  Launch l(device, stream);
  axpy_kernel<<<grid_for(n), kThreads, 0, l.stream>>>(y, x, n, alpha);
  cuda::check_launch("axpy kernel");
}

void gather_columns(int device, const float* src, int64_t rows, int64_t cols, const int32_t* idx, const float* scale,
                    int64_t k, float* dst, void* stream) {
  Launch l(device, stream);
  gather_columns_kernel<<<grid_for(rows * k), kThreads, 0, l.stream>>>(src, rows, cols, idx, scale, k, dst);
  cuda::check_launch("gather columns kernel");
}

}  // namespace cuda_ops
}  // namespace model
}  // namespace frugal
