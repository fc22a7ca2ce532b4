// compressed_direction (Adam, SGDM variants, Lion, and the SGDM fallback other rules get; fp32 /
// bf16 state, with and without a momentum buffer) and dense_apply (every state-free rule, with and
// without the projection, fp32 / bf16 / fp16 parameters, bf16 gradients).
#include <string>
#include "checks.h"
#include "harness.h"
#include "optimizer_kernels.cuh"

namespace ks {

namespace {

void compressed_case(const RuleScalars& rule, int32_t state_dtype, int64_t n, bool with_m, int sm) {
  const bool adam_rule = rule.rule == RULE_ADAMW;
  Twin gc = random_twin(F32, n, -1, 1, 4 * (n % 2));
  Twin m = with_m ? random_twin(state_dtype, n, -0.1f, 0.1f) : Twin();
  Twin v = adam_rule ? random_twin(state_dtype, n, 0, 0.01f) : Twin();
  cpu_backend()->compressed_direction(gc.cpu_as<float>(), with_m ? m.cpu() : nullptr, adam_rule ? v.cpu() : nullptr,
                                      state_dtype, n, rule, nullptr, nullptr);
  const std::string what = std::string("compressed_direction ") + rule_name(rule.rule) +
                           " momentum=" + std::to_string(rule.momentum) + " first=" + std::to_string(rule.first_step) +
                           " state " + dtype_name(state_dtype) + (with_m ? "" : " no-m") + " n=" + std::to_string(n);
  run_device(what, [&] {
    cuda::launch_compressed_direction(env(sm), gc.dev_as<float>(), with_m ? m.dev() : nullptr,
                                      adam_rule ? v.dev() : nullptr, state_dtype, n, rule, nullptr);
  });
  compare(what + " gc", gc, F32);
  if (with_m) compare(what + " m", m, state_dtype);
  if (adam_rule) compare(what + " v", v, state_dtype);
}

void dense_case(int32_t free_rule, int32_t p_dtype, int32_t g_dtype, bool with_gscale, int64_t n, int sm) {
  const bool stateless = free_rule == RULE_NONE;
  Twin p = random_twin(p_dtype, n, -1, 1, (size_t)dtype_size(p_dtype) * (n % 3));
  Twin g = stateless && n % 2 ? Twin() : random_twin(g_dtype, n, -1, 1);  // g may be absent without a rule
  Twin full = random_twin(F32, n, -1, 1);
  Twin proj = stateless ? Twin() : random_twin(F32, n, -0.5f, 0.5f);
  Twin gscale = vector_twin(std::vector<float>{0.9f, 0.f});  // {scale, skip}
  auto job = [&](bool dev) {
    auto at = [dev](Twin& t) { return dev ? t.dev() : t.cpu(); };
    DenseApplyJob d{};
    d.p = at(p);
    d.p_dtype = p_dtype;
    d.g = at(g);
    d.g_dtype = g_dtype;
    d.full = static_cast<const float*>(at(full));
    d.proj = stateless ? nullptr : static_cast<const float*>(at(proj));
    d.n = n;
    d.decay = 0.98f;
    d.lr_full = 0.01f;
    d.state_free = simple_rule(free_rule);
    return d;
  };
  cpu_backend()->dense_apply(job(false), with_gscale ? gscale.cpu_as<float>() : nullptr, nullptr);
  const std::string what = std::string("dense_apply free=") + rule_name(free_rule) + " p " + dtype_name(p_dtype) +
                           " g " + dtype_name(g_dtype) + " n=" + std::to_string(n);
  const DenseApplyJob dev_job = job(true);
  run_device(what, [&] { cuda::launch_dense_apply(env(sm), dev_job, with_gscale ? gscale.dev_as<float>() : nullptr); });
  compare(what + " p", p, p_dtype);
  compare(what + " full untouched", full, F32);
}

}  // namespace

void check_compressed_dense() {
  begin_group("compressed_direction / dense_apply");
  const RuleScalars rules[] = {adam(),
                               sgdm(false, false),
                               sgdm(true, true),
                               sgdm(false, true, 0.9f, 0.f),
                               simple_rule(RULE_SIGN),
                               simple_rule(RULE_SGD)};
  int i = 0;
  for (const RuleScalars& r : rules)
    for (int32_t sd : {F32, BF16})
      for (int64_t n : {int64_t(1), int64_t(4097), int64_t(5003)}) {
        ++i;
        const bool with_m = r.rule == RULE_ADAMW || r.rule == RULE_SGDM || i % 2;
        compressed_case(r, sd, n, with_m, 1 + i % 3);
      }
  for (int32_t fr : {RULE_NONE, RULE_SIGN, RULE_SGD})
    for (int32_t pd : {F32, BF16, F16})
      for (int64_t n : {int64_t(3), int64_t(5003)}) {
        ++i;
        dense_case(fr, pd, i % 2 ? BF16 : F32, i % 3 != 0, n, 1 + i % 3);
      }
  // Lion: the sign of its interpolation in the compressed space, the moment updated.
  for (const RuleScalars& r : {lion(), lion(0.f, 0.5f)})
    for (int32_t sd : {F32, BF16})
      for (int64_t n : {int64_t(1), int64_t(5003)}) compressed_case(r, sd, n, true, 1 + (++i) % 3);
  end_group();
}

}  // namespace ks
