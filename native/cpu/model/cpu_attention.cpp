// CPU rotary embedding and causal attention. Attention works one (batch, head) pair per task
// and expresses its products as small GEMMs (cpu_gemm runs inline inside a task), so the
// arithmetic is the vectorized micro kernel rather than scalar dot products. The backward
// recomputes the probabilities from the saved log-sum-exp instead of keeping seq^2 of them.
#include <cmath>
#include <algorithm>
#include <limits>
#include <vector>

#include "../../model/model_math.h"
#include "cpu_model_ops.h"
#include "../thread_pool.h"

namespace frugal {
namespace model {

void cpu_rope(float* x, const AttentionDesc& a, float theta, bool inverse) {
  const int64_t half = a.head_dim / 2, width = a.heads * a.head_dim;
  // cos and sin depend on (position, pair) only: one table per call instead of one per element.
  std::vector<float> cs((size_t)(a.seq * half)), sn((size_t)(a.seq * half));
  for (int64_t t = 0; t < a.seq; t++)
    for (int64_t i = 0; i < half; i++) {
      float angle = rope_angle(t, i, a.head_dim, theta);
      cs[(size_t)(t * half + i)] = cosf(angle);
      sn[(size_t)(t * half + i)] = inverse ? -sinf(angle) : sinf(angle);
    }
  parallel_range(a.batch * a.seq, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* c = cs.data() + (r % a.seq) * half;
      const float* s = sn.data() + (r % a.seq) * half;
      for (int64_t h = 0; h < a.heads; h++) {
        float* v = x + r * width + h * a.head_dim;
        for (int64_t i = 0; i < half; i++) rope_rotate_cs(&v[i], &v[i + half], c[i], s[i]);
      }
    }
  });
}

namespace {

// A (batch, head) slice of a [batch, seq, heads * head_dim] tensor: seq rows of head_dim floats
// with row stride heads * head_dim.
struct HeadView {
  int64_t offset, ld;
};
HeadView head_view(const AttentionDesc& a, int64_t b, int64_t h) {
  int64_t width = a.heads * a.head_dim;
  return {b * a.seq * width + h * a.head_dim, width};
}

// C (seq x seq or seq x head_dim, ldc) = alpha * op(A) op(B) + beta * C, single-threaded here.
void small_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
                const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  GemmDesc g;
  g.trans_a = ta;
  g.trans_b = tb;
  g.m = m;
  g.n = n;
  g.k = k;
  g.alpha = alpha;
  g.a = A;
  g.lda = lda;
  g.b = B;
  g.ldb = ldb;
  g.beta = beta;
  g.c = C;
  g.ldc = ldc;
  cpu_gemm(g);
}

// P = exp(S - lse) below the diagonal, 0 above (S holds scale * q.k).
void probabilities_from_lse(float* s, const float* lse, int64_t seq) {
  for (int64_t i = 0; i < seq; i++) {
    float* row = s + i * seq;
    for (int64_t j = 0; j <= i; j++) row[j] = expf(row[j] - lse[i]);
    for (int64_t j = i + 1; j < seq; j++) row[j] = 0.f;
  }
}

}  // namespace

void cpu_attention_forward(const float* q, const float* k, const float* v, float* out, float* lse,
                           const AttentionDesc& a) {
  const int64_t T = a.seq, D = a.head_dim;
  run_tasks(a.batch * a.heads, [&](int64_t task) {
    int64_t b = task / a.heads, h = task % a.heads;
    HeadView hv = head_view(a, b, h);
    thread_local std::vector<float> scores;
    scores.resize((size_t)(T * T));
    float* s = scores.data();
    small_gemm(false, true, T, T, D, a.scale, q + hv.offset, hv.ld, k + hv.offset, hv.ld, 0.f, s, T);
    float* l = lse + task * T;
    for (int64_t i = 0; i < T; i++) {
      float* row = s + i * T;
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j <= i; j++) mx = std::max(mx, row[j]);
      float sum = 0.f;
      for (int64_t j = 0; j <= i; j++) {
        row[j] = expf(row[j] - mx);
        sum += row[j];
      }
      float inv = 1.f / sum;
      for (int64_t j = 0; j <= i; j++) row[j] *= inv;
      for (int64_t j = i + 1; j < T; j++) row[j] = 0.f;
      l[i] = mx + logf(sum);
    }
    small_gemm(false, false, T, D, T, 1.f, s, T, v + hv.offset, hv.ld, 0.f, out + hv.offset, hv.ld);
  });
}

void cpu_attention_backward(const float* q, const float* k, const float* v, const float* out, const float* lse,
                            const float* dout, float* dq, float* dk, float* dv, const AttentionDesc& a) {
  const int64_t T = a.seq, D = a.head_dim;
  run_tasks(a.batch * a.heads, [&](int64_t task) {
    int64_t b = task / a.heads, h = task % a.heads;
    HeadView hv = head_view(a, b, h);
    thread_local std::vector<float> pbuf, dpbuf, dsum;
    pbuf.resize((size_t)(T * T));
    dpbuf.resize((size_t)(T * T));
    dsum.resize((size_t)T);
    float* p = pbuf.data();
    float* dp = dpbuf.data();
    const float* qh = q + hv.offset;
    const float* kh = k + hv.offset;
    const float* vh = v + hv.offset;
    const float* oh = out + hv.offset;
    const float* doh = dout + hv.offset;

    small_gemm(false, true, T, T, D, a.scale, qh, hv.ld, kh, hv.ld, 0.f, p, T);
    probabilities_from_lse(p, lse + task * T, T);
    // dV = P^T dO
    small_gemm(true, false, T, D, T, 1.f, p, T, doh, hv.ld, 0.f, dv + hv.offset, hv.ld);
    // dP = dO V^T; dS = P * (dP - rowsum(dO * O)), scaled here so dQ and dK need no alpha.
    small_gemm(false, true, T, T, D, 1.f, doh, hv.ld, vh, hv.ld, 0.f, dp, T);
    for (int64_t i = 0; i < T; i++) {
      float d = 0.f;
      for (int64_t c = 0; c < D; c++) d += doh[i * hv.ld + c] * oh[i * hv.ld + c];
      float* dpr = dp + i * T;
      const float* pr = p + i * T;
      for (int64_t j = 0; j <= i; j++) dpr[j] = pr[j] * (dpr[j] - d) * a.scale;
      for (int64_t j = i + 1; j < T; j++) dpr[j] = 0.f;
    }
    // dQ = dS K, dK = dS^T Q
    small_gemm(false, false, T, D, T, 1.f, dp, T, kh, hv.ld, 0.f, dq + hv.offset, hv.ld);
    small_gemm(true, false, T, D, T, 1.f, dp, T, qh, hv.ld, 0.f, dk + hv.offset, hv.ld);
  });
}

}  // namespace model
}  // namespace frugal
