// The test must be able to fail. Each check here provokes a defect and expects it to be caught:
//   - compare() flags a single flipped bit;
//   - a one-ulp change of one kernel input shows in the compared outputs (end to end);
//   - a launch that skips its last block is noticed by the elementwise and indexed comparisons;
//   - the simulator's detectors fire on deliberately defective kernels (self_test_kernels.cu):
//     a missing barrier (results differ between run orders), a divergent barrier, a block larger
//     than __launch_bounds__, a host pointer passed to a kernel.
// Failures provoked here go to a separate, quiet tally; only "was it caught" is recorded.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>
#include "checks.h"
#include "harness.h"
#include "optimizer_kernels.cuh"
#include "self_test_kernels.h"

namespace ks {

namespace {

// Runs fn with a quiet tally and returns how many checks failed inside it.
template <class F>
long provoked_failures(F&& fn) {
  Tally saved = tally();
  tally() = Tally{};
  tally().quiet = true;
  fn();
  const long failed = tally().failed;
  tally() = saved;
  return failed;
}

bool simulator_reported(const std::string& needle) {
  bool found = false;
  for (const std::string& e : sim::drain_errors()) found = found || e.find(needle) != std::string::npos;
  return found;
}

// One elementwise AdamW job on 3 chunks of fp32, optionally with one gradient element of the
// device copy nudged by one ulp; returns the failed comparisons.
long elementwise_with(bool nudge, bool skip_last_block) {
  return provoked_failures([&] {
    const int64_t n = 3 * 4096 + 7;
    Twin p = random_twin(F32, n, -1, 1), g = random_twin(F32, n, -1, 1);
    Twin m = random_twin(F32, n, -0.1f, 0.1f), v = random_twin(F32, n, 0, 0.01f);
    if (nudge) {
      float* x = g.dev_as<float>() + 1234;
      *x = std::nextafter(*x, 2.f);
    }
    auto job = [&](bool dev) {
      ElementwiseJob j{};
      j.p = dev ? p.dev() : p.cpu();
      j.g = dev ? g.dev() : g.cpu();
      j.m = dev ? m.dev() : m.cpu();
      j.v = dev ? v.dev() : v.cpu();
      j.p_dtype = j.g_dtype = j.state_dtype = F32;
      j.n = n;
      j.decay = 0.999f;
      j.rule = adam();
      return j;
    };
    const ElementwiseJob cpu_job = job(false), dev_job = job(true);
    cpu_backend()->elementwise_step(&cpu_job, 1, nullptr, nullptr);
    sim::set_skip_last_block(skip_last_block);
    run_device("self-check elementwise", [&] { cuda::launch_elementwise_step(env(1), &dev_job, 1, nullptr); });
    sim::set_skip_last_block(false);
    compare("self-check p", p, F32);
    compare("self-check m", m, F32);
  });
}

long indexed_skipping_last_block() {
  return provoked_failures([&] {
    const int64_t rows = 37, cols = 29, k = 9;
    std::vector<int32_t> idx = {0, 3, 5, 8, 13, 21, 34, 35, 36};
    std::vector<uint8_t> mask(rows, 0);
    for (int32_t i : idx) mask[i] = 1;
    Twin p = random_twin(F32, rows * cols, -1, 1), g = random_twin(F32, rows * cols, -1, 1);
    Twin m = random_twin(F32, k * cols, -0.1f, 0.1f), v = random_twin(F32, k * cols, 0, 0.01f);
    Twin idx_t = vector_twin(idx), mask_t = vector_twin(mask);
    auto job = [&](bool dev) {
      auto at = [dev](Twin& t) { return dev ? t.dev() : t.cpu(); };
      IndexedJob j{};
      j.p = at(p);
      j.g = at(g);
      j.p_dtype = j.g_dtype = j.gc_dtype = j.state_dtype = F32;
      j.rows = rows;
      j.cols = cols;
      j.axis = AXIS_ROWS;
      j.idx = static_cast<const int32_t*>(at(idx_t));
      j.k = k;
      j.mask = static_cast<const uint8_t*>(at(mask_t));
      j.m = at(m);
      j.v = at(v);
      j.decay = 0.99f;
      j.state_full = adam();
      j.state_free = simple_rule(RULE_SIGN);
      return j;
    };
    const IndexedJob cpu_job = job(false), dev_job = job(true);
    cpu_backend()->indexed_step(cpu_job, nullptr, nullptr);
    sim::set_skip_last_block(true);
    run_device("self-check indexed", [&] { cuda::launch_indexed_step(env(2), dev_job, nullptr); });
    sim::set_skip_last_block(false);
    compare("self-check indexed p", p, F32);
  });
}

void check_comparator() {
  Twin t = random_twin(F32, 100, -1, 1);
  const long clean = provoked_failures([&] { compare("self-check identical", t, F32); });
  t.dev_as<uint8_t>()[37] ^= 1;
  const long flipped = provoked_failures([&] { compare("self-check one bit", t, F32); });
  record(clean == 0 && flipped == 1, "self-check: compare() passes identical buffers and flags one flipped bit");
}

void check_detectors() {
  Twin out = random_twin(F32, 64, -1, 1);
  std::vector<float> results[2];
  for (int order = 0; order < 2; ++order) {
    sim::set_order(order ? sim::Order::Reverse : sim::Order::Forward);
    selftest::missing_barrier(out.dev_as<float>());
    results[order].assign(out.dev_as<float>(), out.dev_as<float>() + 64);
  }
  sim::set_order(sim::Order::Forward);
  record(std::memcmp(results[0].data(), results[1].data(), 64 * sizeof(float)) != 0,
         "self-check: a missing __syncthreads changes the result between run orders");

  selftest::divergent_barrier(out.dev_as<float>());
  record(simulator_reported("__syncthreads"), "self-check: a barrier reached by half the block is reported");

  selftest::bounded(out.dev_as<float>(), 64);
  record(sim::drain_errors().empty() && cudaGetLastError() == cudaSuccess,
         "self-check: a block within __launch_bounds__ runs");
  Twin wide = random_twin(F32, 128, -1, 1);
  selftest::bounded(wide.dev_as<float>(), 128);
  const bool refused = cudaGetLastError() == cudaErrorLaunchOutOfResources;
  record(refused && simulator_reported("__launch_bounds__"),
         "self-check: a block larger than __launch_bounds__ is refused like on the device");

  std::vector<float> host(64);
  selftest::bounded(host.data(), 64);
  record(simulator_reported("not a device pointer"), "self-check: a host pointer passed to a kernel is reported");
}

}  // namespace

void check_self() {
  check_comparator();
  record(elementwise_with(false, false) == 0, "self-check: the unperturbed elementwise case passes");
  record(elementwise_with(true, false) > 0, "self-check: a one-ulp change of one gradient element is caught");
  record(elementwise_with(false, true) > 0, "self-check: an elementwise launch missing its last block is caught");
  record(indexed_skipping_last_block() > 0, "self-check: an indexed launch missing its last block is caught");
  check_detectors();
}

}  // namespace ks
