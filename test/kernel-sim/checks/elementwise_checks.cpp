// elementwise_step: batches of mixed jobs, more than one launch's worth (24 jobs), empty jobs,
// every rule (AdamW, SGDM, Lion, signSGD, SGD, none) and its variants, fp32 / bf16 / fp16
// parameters and gradients, bf16 state, sizes around the 4096-element chunk and the 4-wide vector
// path, and misaligned starts that must send an all-fp32 job down the scalar path. Each job's rule
// comes from group options and a step count through the core's host folding (state_full_scalars /
// state_free_scalars), and the result is held to the CPU backend bit for bit and to the float64
// model of reference64.h.
#include <cmath>
#include <string>
#include <vector>
#include "checks.h"
#include "harness.h"
#include "core/optimizer.h"
#include "optimizer_kernels.cuh"
#include "reference64.h"

namespace ks {

namespace {

struct Tensors {
  Twin p, g, m, v;
  ElementwiseJob cpu_job{}, dev_job{};
  int slots = 0;
  int32_t p_dtype = F32, g_dtype = F32, state_dtype = F32;
  // What the job runs, as the core sees it: the group's options, the state's step count, and
  // whether the element takes the state-full rule (selection all) or the state-free one (none).
  frugal_group_options o{};
  int64_t t = 1;
  bool full = true;
};

// The rule variants the jobs cycle through (the number of variants: kVariants).
constexpr int kVariants = 10;
void variant(int i, Tensors& t) {
  using ref64::options;
  switch (i % kVariants) {
    case 0:
      t.o = options(RULE_ADAMW, RULE_NONE);
      t.t = 1;
      break;  // first step: bias correction at its largest
    case 1:
      t.o = options(RULE_SGDM, RULE_NONE);
      t.o.nesterov = 1;
      t.o.dampening = 0;
      t.o.l2 = 0.01f;
      t.t = 4;
      break;
    case 2:
      t.o = options(RULE_SGDM, RULE_NONE);
      t.t = 1;
      break;  // the buffer starts as the gradient
    case 3:
      t.o = options(RULE_NONE, RULE_SIGN);
      t.o.state_full_lr_scale = 0.5f;
      t.o.state_free_lr_scale = 0.3f;
      t.full = false;
      break;
    case 4:
      t.o = options(RULE_NONE, RULE_SGD);
      t.o.l2 = 0.02f;
      t.full = false;
      break;
    case 5:
      t.o = options(RULE_SGDM, RULE_NONE);
      t.o.momentum = 0;
      t.o.l2 = 0.02f;
      t.t = 3;
      break;  // plain SGD through SGDM
    case 6:
      t.o = options(RULE_ADAMW, RULE_NONE);
      t.o.eps_mode = FRUGAL_EPS_HF;
      t.o.eps = 1e-3f;
      t.t = 5;
      break;
    case 7:
      t.o = options(RULE_ADAMW, RULE_NONE);
      t.o.bias_correction = 0;
      t.o.state_full_lr_scale = 0.25f;
      t.t = 7;
      break;
    case 8:
      t.o = options(RULE_NONE, RULE_NONE);
      t.full = false;
      break;  // decay only
    default:
      t.o = options(RULE_LION, RULE_NONE);
      t.o.state_full_lr_scale = 0.5f;
      t.t = 3;
      break;  // Lion: one slot, no step-dependent scalars
  }
}

// Job i of a batch whose shape depends on i and `salt` (so batches differ).
Tensors make_job(int i, int salt) {
  static const int64_t sizes[] = {1, 3, 4, 5, 17, 4095, 4096, 4097, 8195, 20000, 0};
  const int c = i + 3 * salt;
  Tensors t;
  const int64_t n = sizes[c % 11];
  t.p_dtype = c % 5 == 1 ? BF16 : (c % 5 == 2 ? F16 : F32);
  t.g_dtype = c % 7 == 3 ? BF16 : (c % 7 == 5 ? F16 : F32);
  t.state_dtype = c % 6 == 4 ? BF16 : F32;
  variant(c, t);
  if (c % 3 == 0) t.o.weight_decay = 0;
  t.o.state_dtype = (frugal_dtype)t.state_dtype;
  // The core's host folding: bias correction and lr scales into the rule's scalars.
  const RuleScalars rule = t.full ? state_full_scalars(t.o, t.t) : state_free_scalars(t.o);
  t.slots = rule_state_slots(rule.rule);
  // Offsets: mostly 16-byte aligned (vector path for all-fp32 jobs); some start 4 or 8 bytes in,
  // and 16-bit tensors sometimes 2 bytes in.
  auto offset = [&](int32_t dtype, int which) -> size_t {
    const int k = (c + which) % 9;
    if (k == 5) return 4;
    if (k == 7) return 8;
    if (k == 2 && dtype != F32) return 2;
    return 0;
  };
  t.p = random_twin(t.p_dtype, n, -1, 1, offset(t.p_dtype, 0));
  t.g = random_twin(t.g_dtype, n, -1, 1, offset(t.g_dtype, 1));
  if (n > 2) {  // exact zeros (sign(0) = 0, 0 * anything) at fixed places
    store_elem(t.g.cpu(), t.g_dtype, 0, 0.f);
    store_elem(t.g.cpu(), t.g_dtype, n - 1, -0.f);
    t.g.publish();
  }
  t.m = t.slots >= 1 ? random_twin(t.state_dtype, n, -0.1f, 0.1f, offset(t.state_dtype, 2)) : Twin();
  t.v = t.slots >= 2 ? random_twin(t.state_dtype, n, 0, 0.01f, offset(t.state_dtype, 3)) : Twin();
  auto job = [&](bool dev) {
    ElementwiseJob j{};
    j.p = dev ? t.p.dev() : t.p.cpu();
    j.p_dtype = t.p_dtype;
    j.g = dev ? t.g.dev() : t.g.cpu();
    j.g_dtype = t.g_dtype;
    j.m = t.slots >= 1 ? (dev ? t.m.dev() : t.m.cpu()) : nullptr;
    j.v = t.slots >= 2 ? (dev ? t.v.dev() : t.v.cpu()) : nullptr;
    j.state_dtype = t.state_dtype;
    j.n = n;
    j.decay = (float)(1.0 - (double)t.o.lr * t.o.weight_decay);  // as optimizer_step folds it
    j.rule = rule;
    return j;
  };
  t.cpu_job = job(false);
  t.dev_job = job(true);
  return t;
}

// The float64 model of one job: p = p0 * (1 - lr wd) - delta(g * gscale), moments updated.
void model_check(const std::string& what, Tensors& t, double gscale) {
  auto at = [](const Twin& x, bool initial) { return (initial ? x.initial_bytes() : x.dev_bytes()) + x.offset(); };
  ref64::ModelCheck p(what + " p", t.p_dtype), m(what + " m", t.state_dtype), v(what + " v", t.state_dtype);
  for (int64_t i = 0; i < t.cpu_job.n; ++i) {
    const double p0 = ref64::load(at(t.p, true), t.p_dtype, i);
    const double g = ref64::load(at(t.g, true), t.g_dtype, i) * gscale;
    double m1 = t.slots >= 1 ? ref64::load(at(t.m, true), t.state_dtype, i) : 0;
    double v1 = t.slots >= 2 ? ref64::load(at(t.v, true), t.state_dtype, i) : 0;
    const double m0 = m1, v0 = v1;
    const double delta = t.full ? ref64::full_delta(t.o, t.t, g, p0, m1, v1) : ref64::free_delta(t.o, g, p0);
    const double want = p0 * ref64::decay(t.o) - delta;
    p.add(i, ref64::load(at(t.p, false), t.p_dtype, i), want, std::fabs(delta) + std::fabs(want - p0));
    if (t.slots >= 1) m.add(i, ref64::load(at(t.m, false), t.state_dtype, i), m1, std::fabs(m1 - m0));
    if (t.slots >= 2) v.add(i, ref64::load(at(t.v, false), t.state_dtype, i), v1, std::fabs(v1 - v0));
  }
  p.finish();
  if (t.slots >= 1) m.finish();
  if (t.slots >= 2) v.finish();
}

void run_batch(const char* name, int count, int salt, bool with_gscale, int sm_count) {
  std::vector<Tensors> jobs;
  for (int i = 0; i < count; ++i) jobs.push_back(make_job(i, salt));
  std::vector<ElementwiseJob> cpu_jobs, dev_jobs;
  for (Tensors& t : jobs) {
    cpu_jobs.push_back(t.cpu_job);
    dev_jobs.push_back(t.dev_job);
  }
  Twin gscale = vector_twin(std::vector<float>{0.75f, 0.f});  // {scale, skip}
  cpu_backend()->elementwise_step(cpu_jobs.data(), cpu_jobs.size(), with_gscale ? gscale.cpu_as<float>() : nullptr,
                                  nullptr);
  run_device(name, [&] {
    cuda::launch_elementwise_step(env(sm_count), dev_jobs.data(), dev_jobs.size(),
                                  with_gscale ? gscale.dev_as<float>() : nullptr);
  });
  for (size_t i = 0; i < jobs.size(); ++i) {
    Tensors& t = jobs[i];
    const std::string what = std::string(name) + " job " + std::to_string(i) + " (" + rule_name(t.cpu_job.rule.rule) +
                             ", p " + dtype_name(t.p_dtype) + ", g " + dtype_name(t.g_dtype) + ", state " +
                             dtype_name(t.state_dtype) + ", n " + std::to_string(t.cpu_job.n) + ")";
    compare(what + " p", t.p, t.p_dtype);
    compare(what + " g untouched", t.g, t.g_dtype);
    if (t.slots >= 1) compare(what + " m", t.m, t.state_dtype);
    if (t.slots >= 2) compare(what + " v", t.v, t.state_dtype);
    model_check(what, t, with_gscale ? 0.75 : 1.0);
  }
}

}  // namespace

void check_elementwise() {
  begin_group("elementwise_step");
  run_batch("elementwise 30 jobs (two launches)", 30, 0, true, 2);
  run_batch("elementwise 7 jobs, no gscale", 7, 1, false, 1);
  run_batch("elementwise 53 jobs (three launches)", 53, 2, true, 3);
  run_batch("elementwise 1 job", 1, 4, true, 2);
  end_group();
}

}  // namespace ks
