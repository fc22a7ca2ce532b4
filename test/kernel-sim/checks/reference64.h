// An independent double-precision model of the update rules, written from the papers and torch's
// documented semantics (AdamW with torch's and HF's eps placement, SGD with momentum, signSGD,
// SGD), NOT from native/math/update_rules.h: the kernels and the CPU backend share that header, so
// comparing them with each other cannot see a wrong rule in it (swapped betas, a lost decay). The
// checks build their jobs the way the core does, from frugal_group_options and a step count
// through the core's host-side folding (state_full_scalars / state_free_scalars: bias correction,
// lr scales), run the kernels, and hold the result to this model as well as to the CPU backend.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include "frugal.h"

namespace ks::ref64 {

// One element's value in a buffer of dtype F32 / BF16 / F16 / I32, decoded here (bits to double).
double load(const void* base, int32_t dtype, int64_t i);

// What the state-full rule does to one element: the amount subtracted from p (lr * scale
// included), updating the moments m (AdamW's first moment or SGD's momentum buffer) and v.
// t is the state's step count (1 on its first step), g the gradient (already clipped), p0 the
// value before decay (what SGD's coupled L2 reads).
double full_delta(const frugal_group_options& o, int64_t t, double g, double p0, double& m, double& v);
// The state-free rule on a residual element: lr_free * sign(r) or lr_free * (r + l2 * p0).
double free_delta(const frugal_group_options& o, double r, double p0);
// The decoupled decay factor 1 - lr * weight_decay.
double decay(const frugal_group_options& o);

// The spacing of representable values of dtype near x (one ulp of the stored type).
double ulp(int32_t dtype, double x);

// Holds one buffer's elements to the model: |got - want| <= ulps * ulp(dtype, want) (2 ulps of
// float32 for F32) + rel * |scale|, where scale is the size of the element's update (the float32
// arithmetic of the kernels, relative to what changed). One check per buffer, naming the first
// element that misses.
class ModelCheck {
 public:
  ModelCheck(std::string what, int32_t dtype, double ulps = 1, double rel = 1e-4)
      : what_(std::move(what)), dtype_(dtype), ulps_(ulps), rel_(rel) {}
  // extra: a further absolute allowance (intermediate roundings the caller accounts for).
  void add(int64_t i, double got, double want, double scale, double extra = 0);
  void finish();  // records the check

 private:
  std::string what_, first_;
  int32_t dtype_;
  double ulps_, rel_;
  int64_t count_ = 0, bad_ = 0;
};

// Options of a whole-tensor AdamW / SGDM group with the given rule variant, for the checks.
frugal_group_options options(int32_t full_rule, int32_t free_rule);

}  // namespace ks::ref64
