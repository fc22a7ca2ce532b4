// launch_elementwise_step's split path: one launch carries at most kMaxJobsPerLaunch (160) jobs
// in its by-value parameter, so a step over more tensors is cut into several launches. 200 small
// jobs, with empty ones around the cut (they must not take a slot), against the CPU backend, and
// the number of launches the cut implies.
#include <string>
#include <vector>
#include "checks.h"
#include "harness.h"
#include "optimizer_kernels.cuh"

namespace ks {

void check_split_batches() {
  begin_group("elementwise_step split");
  constexpr int kJobs = 203;
  std::vector<Twin> p, g, m, v;
  std::vector<ElementwiseJob> cpu_jobs, dev_jobs;
  int nonempty = 0;
  for (int i = 0; i < kJobs; ++i) {
    // Empty jobs at 3, and right around the 160th non-empty one.
    const bool empty = i == 3 || i == 160 || i == 161 || i == 162;
    const int64_t n = empty ? 0 : 1 + (i * 37) % 300;
    nonempty += !empty;
    p.push_back(random_twin(F32, n, -1, 1));
    g.push_back(random_twin(F32, n, -1, 1));
    m.push_back(random_twin(F32, n, -0.1f, 0.1f));
    v.push_back(random_twin(F32, n, 0, 0.01f));
    for (bool dev : {false, true}) {
      ElementwiseJob j{};
      auto at = [dev](Twin& t) { return dev ? t.dev() : t.cpu(); };
      j.p = at(p.back());
      j.g = at(g.back());
      j.m = at(m.back());
      j.v = at(v.back());
      j.p_dtype = j.g_dtype = j.state_dtype = F32;
      j.n = n;
      j.decay = 0.999f;
      j.rule = i % 2 ? adam() : sgdm(false, true);
      (dev ? dev_jobs : cpu_jobs).push_back(j);
    }
  }
  Twin gscale = vector_twin(std::vector<float>{0.5f, 0.f});  // {scale, skip}
  cpu_backend()->elementwise_step(cpu_jobs.data(), cpu_jobs.size(), gscale.cpu_as<float>(), nullptr);
  const int before = sim::launch_count("elementwise_step_kernel");
  run_device("elementwise 203 jobs (split)",
             [&] { cuda::launch_elementwise_step(env(2), dev_jobs.data(), dev_jobs.size(), gscale.dev_as<float>()); });
  const int launches = sim::launch_count("elementwise_step_kernel") - before;
  record(launches == (nonempty + 159) / 160,
         "elementwise 203 jobs (" + std::to_string(nonempty) + " non-empty) take " +
             std::to_string((nonempty + 159) / 160) + " launches of at most 160",
         std::to_string(launches) + " launches");
  for (int i = 0; i < kJobs; ++i) {
    const std::string what = "elementwise split job " + std::to_string(i);
    compare(what + " p", p[i], F32);
    compare(what + " m", m[i], F32);
    compare(what + " v", v[i], F32);
  }
  end_group();
}

}  // namespace ks
