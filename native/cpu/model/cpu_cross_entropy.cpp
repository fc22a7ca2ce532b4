// CPU cross-entropy fused with its gradient: one pass per row computes the log-sum-exp, the
// loss, and (softmax - onehot) * grad_scale, which may overwrite the logits in place so the
// LM head's backward reads its input gradient from where the logits were.
#include <algorithm>
#include <cmath>
#include <limits>

#include "cpu_model_ops.h"
#include "../thread_pool.h"

namespace frugal {
namespace model {

void cpu_cross_entropy(const float* logits, const int32_t* targets, int64_t rows, int64_t vocab, float* losses,
                       float* dlogits, float grad_scale) {
  parallel_range(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, vocab)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const float* x = logits + r * vocab;
      int32_t t = targets[r];
      if (t < 0) {  // ignored position (padding)
        if (losses) losses[r] = 0.f;
        if (dlogits) std::fill(dlogits + r * vocab, dlogits + (r + 1) * vocab, 0.f);
        continue;
      }
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t c = 0; c < vocab; c++) mx = std::max(mx, x[c]);
      float sum = 0.f;
      for (int64_t c = 0; c < vocab; c++) sum += expf(x[c] - mx);
      float lse = mx + logf(sum);
      if (losses) losses[r] = lse - x[t];
      if (dlogits) {
        float* d = dlogits + r * vocab;
        for (int64_t c = 0; c < vocab; c++) d[c] = expf(x[c] - lse) * grad_scale;  // x may alias d
        d[t] -= grad_scale;
      }
    }
  });
}

}  // namespace model
}  // namespace frugal
