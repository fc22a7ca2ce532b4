#include "reference64.h"
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>
#include "harness.h"

namespace ks::ref64 {

double load(const void* base, int32_t dtype, int64_t i) {
  const uint8_t* b = static_cast<const uint8_t*>(base);
  if (dtype == F32) {
    float f;
    std::memcpy(&f, b + 4 * i, 4);
    return f;
  }
  if (dtype == I32) {
    int32_t x;
    std::memcpy(&x, b + 4 * i, 4);
    return x;
  }
  uint16_t h;
  std::memcpy(&h, b + 2 * i, 2);
  if (dtype == BF16) {  // the high half of a float32
    uint32_t u = (uint32_t)h << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  // IEEE half: 1 sign, 5 exponent (bias 15), 10 fraction bits.
  const int e = (h >> 10) & 31, f = h & 1023;
  const double sign = (h & 0x8000) ? -1 : 1;
  if (e == 0) return sign * std::ldexp(f, -24);
  if (e == 31) return f ? NAN : sign * INFINITY;
  return sign * std::ldexp(1024 + f, e - 25);
}

double decay(const frugal_group_options& o) { return 1.0 - (double)o.lr * o.weight_decay; }

double full_delta(const frugal_group_options& o, int64_t t, double g, double p0, double& m, double& v) {
  const double lr = (double)o.lr * o.state_full_lr_scale;
  if (o.state_full == FRUGAL_RULE_ADAMW) {
    // Loshchilov & Hutter's AdamW: m, v as exponential averages (beta1 for m, beta2 for v).
    const double b1 = o.beta1, b2 = o.beta2;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const double bc1 = o.bias_correction ? 1 - std::pow(b1, (double)t) : 1;
    const double bc2 = o.bias_correction ? 1 - std::pow(b2, (double)t) : 1;
    if (o.eps_mode == FRUGAL_EPS_HF) return lr * std::sqrt(bc2) / bc1 * (m / (std::sqrt(v) + o.eps));
    return lr * (m / bc1) / (std::sqrt(v / bc2) + o.eps);
  }
  if (o.state_full == FRUGAL_RULE_LION) {
    // Chen et al.'s Lion: the sign of b1 m + (1 - b1) g, then m moves to g at rate 1 - b2.
    const double c = (double)o.beta1 * m + (1 - (double)o.beta1) * g;
    m = (double)o.beta2 * m + (1 - (double)o.beta2) * g;
    return lr * (double)((c > 0) - (c < 0));
  }
  if (o.state_full == FRUGAL_RULE_SGDM) {
    // torch.optim.SGD: d = g + wd * p; buf = d on the first step, then mu * buf + (1 - dampening) * d.
    const double d = g + (double)o.l2 * p0;
    if (o.momentum == 0) return lr * d;
    m = t <= 1 ? d : o.momentum * m + (1 - (double)o.dampening) * d;
    return lr * (o.nesterov ? d + o.momentum * m : m);
  }
  return 0;
}

double free_delta(const frugal_group_options& o, double r, double p0) {
  const double lr = (double)o.lr * o.state_full_lr_scale * o.state_free_lr_scale;
  switch (o.state_free) {
    case FRUGAL_RULE_SIGN: return lr * (double)((r > 0) - (r < 0));
    case FRUGAL_RULE_SGD: return lr * (r + (double)o.l2 * p0);
    default: return 0;
  }
}

double ulp(int32_t dtype, double x) {
  const int bits = dtype == BF16 ? 7 : dtype == F16 ? 10 : 23;
  const int min_exp = dtype == F16 ? -14 : -126;
  int e;
  std::frexp(x, &e);  // x = f * 2^e, 0.5 <= |f| < 1
  return std::ldexp(1.0, std::max(e - 1, min_exp) - bits);
}

void ModelCheck::add(int64_t i, double got, double want, double scale, double extra) {
  ++count_;
  const double tol = (dtype_ == F32 ? 2 : ulps_) * ulp(dtype_, want) + rel_ * std::fabs(scale) + extra + 1e-30;
  if (std::fabs(got - want) <= tol) return;
  if (bad_++ == 0) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "element %lld: got %.9g, the float64 model says %.9g (tolerance %.3g)", (long long)i,
                  got, want, tol);
    first_ = buf;
  }
}

void ModelCheck::finish() {
  record(bad_ == 0, what_ + " matches the float64 model",
         first_ + " (" + std::to_string(bad_) + " of " + std::to_string(count_) + " elements)");
}

frugal_group_options options(int32_t full_rule, int32_t free_rule) {
  frugal_group_options o{};
  o.lr = 0.02f;
  o.weight_decay = 0.1f;
  o.state_full = (frugal_rule)full_rule;
  o.beta1 = 0.8f;
  o.beta2 = 0.95f;
  o.eps = 1e-6f;
  o.bias_correction = 1;
  o.eps_mode = FRUGAL_EPS_TORCH;
  o.momentum = 0.9f;
  o.dampening = 0.1f;
  o.state_full_lr_scale = 1;
  o.state_dtype = FRUGAL_F32;
  o.state_free = (frugal_rule)free_rule;
  o.state_free_lr_scale = 1;
  return o;
}

}  // namespace ks::ref64
