// The oracle for the GEMM checks: C = alpha * op(A) op(B) + beta * C with every product formed in
// fp64 (exact for fp32 operands) and summed in k order, then rounded once. The CUDA fallback
// kernel and the fake cuBLAS compute exactly this, so they are held to it bit for bit. (The CPU
// backend's own GEMM is the blocked fp32 one of native/model/cpu_gemm.cpp, which agrees with
// these within float32 tolerance only.) Zero entries of op(A) are skipped, as the kernel does.
#pragma once
#include <cstdint>
#include <vector>
#include "core/backend.h"

namespace ks {

inline void reference_gemm(const frugal::GemmArgs& a) {
  std::vector<double> acc((size_t)a.n);
  for (int64_t i = 0; i < a.m; i++) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t l = 0; l < a.k; l++) {
      const double av = a.trans_a ? a.a[l * a.lda + i] : a.a[i * a.lda + l];
      if (av == 0.0) continue;
      for (int64_t j = 0; j < a.n; j++) acc[(size_t)j] += av * (a.trans_b ? a.b[j * a.ldb + l] : a.b[l * a.ldb + j]);
    }
    float* crow = a.c + i * a.ldc;
    for (int64_t j = 0; j < a.n; j++)
      crow[j] = (float)(a.alpha * acc[(size_t)j] + (a.beta == 0.f ? 0.0 : (double)a.beta * crow[j]));
  }
}

}  // namespace ks
