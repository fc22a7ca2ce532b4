// The non-finite 'skip' flag (gscale[1] != 0, math/step_gate.h): every update launcher must write
// nothing, on the device as on the CPU: params, moments and the compressed gradient keep their
// bytes. The same calls with the flag clear do change them (so a check here can fail).
#include <cstring>
#include <string>
#include <vector>
#include "checks.h"
#include "harness.h"
#include "optimizer_kernels.cuh"

namespace ks {

namespace {

bool same_as_before(const Twin& t, bool dev) {
  const size_t n = t.total_bytes();
  return n == 0 || std::memcmp(dev ? t.dev_bytes() : t.host_bytes(), t.initial_bytes(), n) == 0;
}

// Records, for each twin and both sides, that it is unchanged (skip) or changed (no skip).
void expect_untouched(const std::string& what, bool skip, const std::vector<const Twin*>& twins) {
  bool cpu_same = true, dev_same = true;
  for (const Twin* t : twins) {
    cpu_same &= same_as_before(*t, false);
    dev_same &= same_as_before(*t, true);
  }
  const char* want = skip ? "unchanged under skip" : "changed without skip";
  record(cpu_same == skip, what + " (CPU): " + want);
  record(dev_same == skip, what + " (device): " + want);
  // Without the flag the calls are ordinary steps: both sides must agree bit for bit.
  if (!skip)
    for (const Twin* t : twins) compare(what + " without skip", *t);
}

void elementwise_skip_case(bool skip) {
  const int64_t n = 5000;
  Twin p = random_twin(F32, n, -1, 1), g = random_twin(F32, n, -1, 1);
  Twin m = random_twin(F32, n, -0.1f, 0.1f), v = random_twin(F32, n, 0, 0.01f);
  Twin bf = random_twin(BF16, n, -1, 1);  // a second job on the generic (any dtype) path
  Twin gate = vector_twin(std::vector<float>{0.5f, skip ? 1.f : 0.f});
  auto jobs = [&](bool dev) {
    auto at = [dev](Twin& t) { return dev ? t.dev() : t.cpu(); };
    ElementwiseJob a{at(p), F32, at(g), F32, at(m), at(v), F32, n, 0.99f, adam()};
    ElementwiseJob b{at(bf), BF16, at(g), F32, nullptr, nullptr, F32, n, 0.9f, simple_rule(RULE_SIGN)};
    return std::vector<ElementwiseJob>{a, b};
  };
  std::vector<ElementwiseJob> cpu_jobs = jobs(false), dev_jobs = jobs(true);
  cpu_backend()->elementwise_step(cpu_jobs.data(), cpu_jobs.size(), gate.cpu_as<float>(), nullptr);
  run_device("elementwise skip",
             [&] { cuda::launch_elementwise_step(env(2), dev_jobs.data(), dev_jobs.size(), gate.dev_as<float>()); });
  expect_untouched("elementwise_step", skip, {&p, &m, &v, &bf});
}

void indexed_skip_case(bool skip, bool duplicates) {
  const int64_t rows = 8, cols = 16, k = 3;
  Twin p = random_twin(F32, rows * cols, -1, 1), g = random_twin(F32, rows * cols, -1, 1);
  std::vector<int32_t> lines = duplicates ? std::vector<int32_t>{1, 5, 1} : std::vector<int32_t>{1, 5, 6};
  Twin idx = vector_twin(lines);
  std::vector<uint8_t> mask_bytes(rows, 0);
  for (int32_t l : lines) mask_bytes[l] = 1;
  Twin mask = vector_twin(mask_bytes);
  Twin m = random_twin(F32, k * cols, -0.1f, 0.1f), v = random_twin(F32, k * cols, 0, 0.01f);
  Twin gate = vector_twin(std::vector<float>{0.5f, skip ? 1.f : 0.f});
  auto job = [&](bool dev) {
    auto at = [dev](Twin& t) { return dev ? t.dev() : t.cpu(); };
    IndexedJob j{};
    j.p = at(p);
    j.p_dtype = F32;
    j.g = at(g);
    j.g_dtype = F32;
    j.rows = rows;
    j.cols = cols;
    j.axis = AXIS_ROWS;
    j.idx = static_cast<const int32_t*>(at(idx));
    j.k = k;
    j.mask = static_cast<const uint8_t*>(at(mask));
    j.m = at(m);
    j.v = at(v);
    j.state_dtype = F32;
    j.decay = 0.99f;
    j.state_full = adam();
    j.state_free = simple_rule(RULE_SIGN);
    j.has_duplicates = duplicates;
    return j;
  };
  cpu_backend()->indexed_step(job(false), gate.cpu_as<float>(), nullptr);
  const IndexedJob dev_job = job(true);
  run_device("indexed skip", [&] { cuda::launch_indexed_step(env(2), dev_job, gate.dev_as<float>()); });
  expect_untouched(std::string("indexed_step") + (duplicates ? " (repeated lines)" : ""), skip, {&p, &m, &v});
}

void dense_skip_case(bool skip) {
  const int64_t n = 4099;
  Twin p = random_twin(BF16, n, -1, 1), g = random_twin(F32, n, -1, 1);
  Twin full = random_twin(F32, n, -1, 1), proj = random_twin(F32, n, -0.5f, 0.5f);
  Twin gc = random_twin(F32, n, -1, 1), m = random_twin(F32, n, -0.1f, 0.1f), v = random_twin(F32, n, 0, 0.01f);
  Twin gate = vector_twin(std::vector<float>{1.f, skip ? 1.f : 0.f});
  auto job = [&](bool dev) {
    auto at = [dev](Twin& t) { return dev ? t.dev() : t.cpu(); };
    DenseApplyJob d{};
    d.p = at(p);
    d.p_dtype = BF16;
    d.g = at(g);
    d.g_dtype = F32;
    d.full = static_cast<const float*>(at(full));
    d.proj = static_cast<const float*>(at(proj));
    d.n = n;
    d.decay = 0.98f;
    d.lr_full = 0.01f;
    d.state_free = simple_rule(RULE_SGD);
    return d;
  };
  cpu_backend()->compressed_direction(gc.cpu_as<float>(), m.cpu(), v.cpu(), F32, n, adam(), gate.cpu_as<float>(),
                                      nullptr);
  cpu_backend()->dense_apply(job(false), gate.cpu_as<float>(), nullptr);
  const DenseApplyJob dev_job = job(true);
  run_device("dense skip", [&] {
    cuda::launch_compressed_direction(env(1), gc.dev_as<float>(), m.dev(), v.dev(), F32, n, adam(),
                                      gate.dev_as<float>());
    cuda::launch_dense_apply(env(1), dev_job, gate.dev_as<float>());
  });
  expect_untouched("compressed_direction + dense_apply", skip, {&p, &gc, &m, &v});
}

}  // namespace

void check_skip() {
  begin_group("non-finite skip flag");
  for (bool skip : {true, false}) {
    elementwise_skip_case(skip);
    indexed_skip_case(skip, false);
    indexed_skip_case(skip, true);
    dense_skip_case(skip);
  }
  end_group();
}

}  // namespace ks
