// elementwise_step: batches of mixed jobs, more than one launch's worth (24 jobs), empty jobs,
// every rule and its variants, fp32 / bf16 / fp16 parameters and gradients, bf16 state, sizes
// around the 4096-element chunk and the 4-wide vector path, and misaligned starts that must
// send an all-fp32 job down the scalar path.
#include <string>
#include <vector>
#include "checks.h"
#include "harness.h"
#include "optimizer_kernels.cuh"

namespace ks {

namespace {

struct Tensors {
  Twin p, g, m, v;
  ElementwiseJob cpu_job{}, dev_job{};
  int slots = 0;
  int32_t p_dtype = F32, g_dtype = F32, state_dtype = F32;
};

RuleScalars rule_for(int i) {
  switch (i % 7) {
    case 0: return adam();
    case 1: return sgdm(false, true);
    case 2: return sgdm(true, false, 0.9f, 0.f);
    case 3: return simple_rule(RULE_SIGN);
    case 4: return simple_rule(RULE_SGD);
    case 5: return sgdm(false, false, 0.f, 0.02f);  // momentum 0: plain SGD through the SGDM rule
    default: return i % 2 ? adam(3e-3f) : simple_rule(RULE_NONE);
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
  const RuleScalars rule = rule_for(c);
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
    j.decay = c % 3 ? 0.999f : 1.f;
    j.rule = rule;
    return j;
  };
  t.cpu_job = job(false);
  t.dev_job = job(true);
  return t;
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
