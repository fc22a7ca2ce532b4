// sum_squares (more tensors than one launch takes, empty tensors, mixed dtypes, misaligned starts,
// a non-zero accumulator), clip_factor (below, at and above the threshold) and line_norms (rows and
// columns against the CPU; single elements, which the CPU backend does not offer, against |x|).
#include <cmath>
#include <string>
#include <vector>
#include "checks.h"
#include "harness.h"
#include "reduce_kernels.cuh"

namespace ks {

namespace {

void sum_squares_case(int count, int sm) {
  std::vector<Twin> tensors;
  std::vector<const void*> cpu_ptrs, dev_ptrs;
  std::vector<int32_t> dtypes;
  std::vector<int64_t> ns;
  for (int i = 0; i < count; ++i) {
    const int32_t dt = i % 3 == 0 ? BF16 : (i % 7 == 1 ? F16 : F32);
    const int64_t n = i % 5 == 0 ? 0 : (i * 977) % 20000 + 1;
    tensors.push_back(random_twin(dt, n, -1, 1, (size_t)dtype_size(dt) * (i % 2)));
    dtypes.push_back(dt);
    ns.push_back(n);
  }
  for (Twin& t : tensors) {
    cpu_ptrs.push_back(t.cpu());
    dev_ptrs.push_back(t.dev());
  }
  Twin acc = scalar_twin(1.5f);
  const std::string what = "sum_squares of " + std::to_string(count) + " tensors";
  cpu_backend()->sum_squares(cpu_ptrs.data(), dtypes.data(), ns.data(), count, acc.cpu_as<float>(), nullptr);
  run_device(what, [&] {
    cuda::launch_sum_squares(env(sm), dev_ptrs.data(), dtypes.data(), ns.data(), count, acc.dev_as<float>());
  });
  compare(what, acc, F32);
}

void clip_case(float sumsq, float max_norm) {
  Twin in = scalar_twin(sumsq), out = scalar_twin(-1.f);
  cpu_backend()->clip_factor(in.cpu_as<float>(), max_norm, out.cpu_as<float>(), nullptr);
  const std::string what = "clip_factor sumsq=" + std::to_string(sumsq) + " max=" + std::to_string(max_norm);
  run_device(what, [&] { cuda::launch_clip_factor(env(2), in.dev_as<float>(), max_norm, out.dev_as<float>()); });
  compare(what, out, F32);
}

void line_norms_case(int32_t axis, int32_t dt, int64_t rows, int64_t cols, int sm) {
  const int64_t lines = axis == 0 ? rows : (axis == 1 ? cols : rows * cols);
  Twin g = random_twin(dt, rows * cols, -1, 1, (size_t)dtype_size(dt) * (rows % 2));
  Twin out = random_twin(F32, lines, -1, 1);
  if (axis == 2) {
    for (int64_t i = 0; i < lines; ++i) out.cpu_as<float>()[i] = std::fabs(load_elem(g.cpu(), dt, i));
  } else {
    cpu_backend()->line_norms(g.cpu(), dt, rows, cols, axis, out.cpu_as<float>(), nullptr);
  }
  const std::string what = std::string("line_norms axis=") + std::to_string(axis) + " " + dtype_name(dt) + " " +
                           std::to_string(rows) + "x" + std::to_string(cols);
  run_device(what, [&] { cuda::launch_line_norms(env(sm), g.dev(), dt, rows, cols, axis, out.dev_as<float>()); });
  compare(what, out, F32);
}

}  // namespace

void check_reductions() {
  begin_group("reductions");
  sum_squares_case(70, 2);   // two launches (64 tensors each at most), partials of both summed
  sum_squares_case(5, 1);
  sum_squares_case(64, 3);
  clip_case(0.f, 10.f);
  clip_case(50.f, 10.f);
  clip_case(100.f, 10.f);
  clip_case(1e6f, 10.f);
  const std::pair<int64_t, int64_t> shapes[] = {{37, 29}, {3, 1000}, {100, 3}, {70, 70}, {1, 1}, {2, 2100}};
  int i = 0;
  for (int32_t axis : {0, 1, 2})
    for (int32_t dt : {F32, BF16, F16})
      for (const auto& s : shapes) line_norms_case(axis, dt, s.first, s.second, 1 + (i++ % 3));
  end_group();
}

}  // namespace ks
