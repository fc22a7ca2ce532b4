// The kernel-sim test binary: every check group under both run orders (forward, then reverse:
// blocks of a grid and threads between barriers run last-to-first), the self-checks, and kernel
// coverage (every __global__ function under cuda/ ran at least once). The last line is the
// summary the jest test parses: "kernel-sim: N passed, M failed".
#include <chrono>
#include <cstdio>
#include "checks.h"
#include "harness.h"
#include "sim_runtime.h"

namespace {

struct KernelEntry {
  const char* name;
  const char* file;
};

const KernelEntry kManifest[] = {
#define KERNEL_SIM_KERNEL(name, file) {name, file},
#include "kernel_manifest.inc"
#undef KERNEL_SIM_KERNEL
};

template <class F>
void timed(const char* name, F&& fn) {
  const auto start = std::chrono::steady_clock::now();
  const long before = ks::tally().passed + ks::tally().failed;
  fn();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("  %-34s %5ld checks  %6.2f s\n", name, ks::tally().passed + ks::tally().failed - before, seconds);
  std::fflush(stdout);
}

}  // namespace

int main() {
  for (sim::Order order : {sim::Order::Forward, sim::Order::Reverse}) {
    sim::set_order(order);
    ks::rng().seed(12345);  // the same data under both orders
    std::printf("run order: %s\n", order == sim::Order::Forward ? "forward" : "reverse");
    timed("tensor ops", ks::check_tensor_ops);
    timed("elementwise_step", ks::check_elementwise);
    timed("elementwise_step split", ks::check_split_batches);
    timed("indexed_step", ks::check_indexed);
    timed("compressed_direction / dense_apply", ks::check_compressed_dense);
    timed("reductions", ks::check_reductions);
    timed("non-finite skip", ks::check_skip);
    timed("linalg", ks::check_linalg);
  }
  sim::set_order(sim::Order::Forward);
  timed("cuda_backend host glue", ks::check_backend_host);
  timed("self-checks", ks::check_self);

  for (const KernelEntry& k : kManifest) {
    const int launches = sim::launch_count(k.name);
    ks::record(launches > 0, std::string("coverage: ") + k.file + " " + k.name + " ran", "never launched by any check");
  }
  std::printf("%ld simulated launches of %zu kernels\n", sim::total_launches(), sizeof kManifest / sizeof kManifest[0]);
  std::printf("kernel-sim: %ld passed, %ld failed\n", ks::tally().passed, ks::tally().failed);
  return ks::tally().failed == 0 ? 0 : 1;
}
