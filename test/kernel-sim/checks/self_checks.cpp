// The test must be able to fail. Each check here provokes a defect and expects it to be caught:
//   - compare() flags a single flipped bit;
//   - a one-ulp change of one kernel input shows in the compared outputs (end to end);
//   - a launch that skips its last block is noticed by the elementwise and indexed comparisons;
//   - the simulator's detectors fire on deliberately defective kernels (self_test_kernels.cu):
//     a missing barrier (results differ between run orders), a divergent barrier, a block larger
//     than __launch_bounds__, a host pointer passed to a kernel;
//   - warps and atomics: a shuffle/atomic reduction matches a host reference, and the planted
//     defects are reported with kernel, block, warp and lanes (a divergent shuffle) or kernel,
//     address and both threads (lost updates in global and shared memory), while their correct
//     twins (atomicAdd, __syncwarp, a partial mask that says so) are not.
// Failures provoked here go to a separate, quiet tally; only "was it caught" is recorded.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
#include "checks.h"
#include "harness.h"
#include "device_math_branch.h"
#include "math/counter_rng.h"
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

// Device memory holding a copy of host values, freed at scope end.
template <class T>
struct DeviceBuffer {
  T* p;
  explicit DeviceBuffer(const std::vector<T>& host) : p(static_cast<T*>(sim::device_malloc(host.size() * sizeof(T)))) {
    std::memcpy(p, host.data(), host.size() * sizeof(T));
  }
  ~DeviceBuffer() { sim::device_free(p); }
};

// The simulator's reports of one launch, also printed (the jest test shows them in its log).
std::string reports_of(const char* what, void (*launch)(void*), void* ctx) {
  launch(ctx);
  std::string all;
  for (const std::string& e : sim::drain_errors()) all += e + "\n";
  std::printf("  [%s] %s", what, all.empty() ? "no report\n" : all.c_str());
  return all;
}
template <class F>
std::string reports_of(const char* what, F&& fn) {
  return reports_of(
      what, [](void* f) { (*static_cast<F*>(f))(); }, &fn);
}
bool has(const std::string& text, std::initializer_list<const char*> needles) {
  for (const char* n : needles) {
    if (text.find(n) == std::string::npos) return false;
  }
  return true;
}

// A kernel that uses every warp intrinsic and atomic kind, against a host reference, exactly.
void check_warp_reduction() {
  for (int threads : {256, 96}) {
    const int n = 3001;  // not a multiple of 32: the last warp is partly out of range
    std::vector<int> in(n);
    std::uniform_int_distribution<int> dist(-100, 100);
    for (int& v : in) v = dist(rng());
    DeviceBuffer<int> d_in(in);
    selftest::WarpReduceOut init{};
    init.max = INT_MIN;
    init.min_lane0 = INT_MAX;
    DeviceBuffer<selftest::WarpReduceOut> d_out(std::vector<selftest::WarpReduceOut>{init});
    const std::string reports =
        reports_of("warp reduction", [&] { selftest::warp_reduce(d_in.p, n, d_out.p, threads); });
    const selftest::WarpReduceOut& got = *d_out.p;

    long sum = 0;
    int max = INT_MIN, min_lane0 = INT_MAX, full_warps = 0;
    unsigned positives = 0, warps_with_positive = 0;
    bool scan_ok = true;
    const int blocks = (n + threads - 1) / threads, warps = blocks * threads / 32;
    for (int w = 0; w < warps; ++w) {
      int running = 0;
      bool any = false, full = true;
      for (int lane = 0; lane < 32; ++lane) {
        const int i = w * 32 + lane;
        const int v = i < n ? in[i] : 0;
        running += v;
        if (i < n) scan_ok = scan_ok && got.scan[i] == running;
        full = full && i < n;
        any = any || v > 0;
        if (i < n) max = std::max(max, v);
        if (lane == 0) min_lane0 = std::min(min_lane0, v);
      }
      full_warps += full;
      warps_with_positive += any;
    }
    for (int v : in) {
      sum += v;
      positives += v > 0;
    }
    const bool ok = reports.empty() && got.sum == sum && got.max == max && got.min_lane0 == min_lane0 &&
                    got.positives == positives && got.full_warps == full_warps &&
                    got.warps_with_positive == warps_with_positive && got.fsum == (float)sum &&
                    got.dsum == (double)sum && got.last_block >= 0 && got.last_block < blocks && got.first_block >= 1 &&
                    got.first_block <= blocks && scan_ok;
    record(
        ok,
        "self-check: a shuffle + atomic reduction (" + std::to_string(threads) + " threads per block) matches the host",
        "sum " + std::to_string(got.sum) + " vs " + std::to_string(sum) + ", max " + std::to_string(got.max) + " vs " +
            std::to_string(max) + ", positives " + std::to_string(got.positives) + " vs " + std::to_string(positives) +
            ", full warps " + std::to_string(got.full_warps) + " vs " + std::to_string(full_warps) +
            (scan_ok ? "" : ", warp scan differs") + (reports.empty() ? "" : ", reported: " + reports));
  }
}

void check_race_detector() {
  record(sim::race_detection_enabled() && sim::race_detection_instrumented(),
         "self-check: the race detector is on and the kernel units report their accesses to it",
         sim::race_detection_enabled() ? "the kernel units were compiled without race_flags.js"
                                       : "KERNEL_SIM_RACE_DETECTOR=0 turned it off");
  std::vector<int> ones(1000, 1);
  DeviceBuffer<int> d_in(ones), d_total(std::vector<int>{0});
  const std::string lost = reports_of("planted lost update", [&] { selftest::lost_update(d_total.p, d_in.p, 1000); });
  record(has(lost, {"lost_update_kernel: data race", "global memory", "byte 0 of a 4-byte device allocation", "block (",
                    "thread ("}),
         "self-check: a non-atomic += on one global address from many threads is reported as a race");
  *d_total.p = 0;
  const std::string atomic = reports_of("atomicAdd twin", [&] { selftest::atomic_update(d_total.p, d_in.p, 1000); });
  record(atomic.empty() && *d_total.p == 1000, "self-check: the same sum with atomicAdd is not reported and is exact");

  DeviceBuffer<int> d_out(std::vector<int>(64, 0));
  const std::string shared = reports_of("planted shared lost update", [&] { selftest::shared_lost_update(d_out.p); });
  record(has(shared, {"shared_lost_update_kernel: data race", "shared memory", "same barrier interval"}),
         "self-check: a non-atomic += on one shared variable within a barrier interval is reported as a race");

  const std::string unsynced =
      reports_of("lanes hand off without __syncwarp", [&] { selftest::warp_handoff(d_out.p, false); });
  const std::string synced =
      reports_of("lanes hand off after __syncwarp", [&] { selftest::warp_handoff(d_out.p, true); });
  record(has(unsynced, {"warp_handoff_kernel: data race"}) && synced.empty(),
         "self-check: a shared-memory hand-off between lanes races without __syncwarp, not with it");
}

void check_divergent_warps() {
  DeviceBuffer<int> d_out(std::vector<int>(128, 0));
  const std::string shuffle = reports_of("planted divergent shuffle", [&] { selftest::divergent_shuffle(d_out.p); });
  record(has(shuffle, {"divergent_shuffle_kernel: block (", "warp 0", "__shfl_down_sync", "mask 0xffffffff",
                       "lanes named in the mask did not arrive", "lane 16 returned", "lane 31 returned"}),
         "self-check: a shuffle whose mask names lanes that returned is reported with kernel, block, warp and lanes");
  const std::string barrier =
      reports_of("planted shuffle against a barrier", [&] { selftest::shuffle_against_barrier(d_out.p); });
  record(has(barrier, {"shuffle_against_barrier_kernel", "__shfl_xor_sync", "lane 1 waits at __syncthreads"}),
         "self-check: a shuffle whose mask names lanes waiting at __syncthreads is reported");
  const std::string half = reports_of("half-warp shuffle with its mask", [&] { selftest::half_warp_shuffle(d_out.p); });
  bool values = true;
  for (int t = 0; t < 64; ++t) {
    const int lane = t % 32;
    const int want = lane < 16 ? (lane + 1 < 16 ? t + 1 : t) : t;
    values = values && d_out.p[t] == want;
  }
  record(half.empty() && values, "self-check: a shuffle by half a warp with a matching mask and width runs correctly");
}

// The shared math's __CUDA_ARCH__ branches (device_math_branch.cpp) against its host branches,
// bit for bit: every 16-bit pattern up, a million float patterns and the specials down, the
// element loads/stores of every dtype, the counter RNG.
void check_device_math_branches() {
  namespace dev = device_branch;
  auto same = [](float a, float b) { return std::memcmp(&a, &b, 4) == 0; };
  long differ = 0;
  std::string first;
  auto note = [&](bool ok, const std::string& what) {
    if (ok) return;
    if (differ++ == 0) first = what;
  };
  for (uint32_t h = 0; h < 65536; ++h) {
    note(same(dev::bf16_to_float((uint16_t)h), frugal::bf16_to_float((uint16_t)h)),
         "bf16_to_float " + std::to_string(h));
    note(same(dev::f16_to_float((uint16_t)h), frugal::f16_to_float((uint16_t)h)), "f16_to_float " + std::to_string(h));
  }
  std::vector<uint32_t> patterns = {0u,          0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u,
                                    0x7f800001u, 0xffffffffu, 0x00000001u, 0x807fffffu, 0x477ff000u,
                                    0x477fefffu, 0x38800000u, 0x387fffffu, 0x33000000u};
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < (1 << 20); ++i) patterns.push_back(bits(rng()));
  for (uint32_t u : patterns) {
    float f;
    std::memcpy(&f, &u, 4);
    note(dev::float_bits(f) == frugal::float_bits(f) && same(dev::bits_float(u), frugal::bits_float(u)),
         "float bits " + std::to_string(u));
    note(dev::float_to_bf16(f) == frugal::float_to_bf16(f), "float_to_bf16 " + std::to_string(u));
    note(dev::float_to_f16(f) == frugal::float_to_f16(f), "float_to_f16 " + std::to_string(u));
  }
  for (int32_t dtype : {F32, BF16, F16, I32}) {
    for (float v : {0.f, -1.5f, 3.14159f, 65504.f, 1e-6f, -2.5e9f}) {
      uint32_t a[2] = {0, 0}, b[2] = {0, 0};
      dev::store_elem(a, dtype, 1, v);
      frugal::store_elem(b, dtype, 1, v);
      note(std::memcmp(a, b, sizeof a) == 0 && same(dev::load_elem(a, dtype, 1), frugal::load_elem(b, dtype, 1)),
           "store/load_elem dtype " + std::to_string(dtype));
    }
  }
  for (uint64_t i = 0; i < 10000; ++i) {
    note(same(dev::counter_uniform(42, i, 3), frugal::counter_uniform(42, i, 3)) &&
             same(dev::counter_normal(42, i), frugal::counter_normal(42, i)),
         "counter RNG index " + std::to_string(i));
  }
  record(differ == 0, "self-check: native/math's __CUDA_ARCH__ branches give the host branches' bits",
         std::to_string(differ) + " differences, first: " + first);
}

}  // namespace

void check_self() {
  // Data of its own, whatever the groups before consumed: whether a one-ulp nudge survives the
  // update's rounding depends on the values, and for these it does.
  rng().seed(2024);
  check_comparator();
  record(elementwise_with(false, false) == 0, "self-check: the unperturbed elementwise case passes");
  record(elementwise_with(true, false) > 0, "self-check: a one-ulp change of one gradient element is caught");
  record(elementwise_with(false, true) > 0, "self-check: an elementwise launch missing its last block is caught");
  record(indexed_skipping_last_block() > 0, "self-check: an indexed launch missing its last block is caught");
  check_detectors();
  check_warp_reduction();
  check_race_detector();
  check_divergent_warps();
  check_device_math_branches();
}

}  // namespace ks
