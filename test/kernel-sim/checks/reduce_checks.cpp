// sum_squares (more tensors than one launch takes, empty tensors, mixed dtypes, misaligned starts,
// a non-zero fp64 accumulator, values whose squares overflow float32, Inf and NaN), step_scalars
// (clip factor below, at and above the threshold, huge and non-finite sums, skip on and off, the
// skip counter) and line_norms (rows and columns against the CPU; single elements, which the CPU
// backend does not offer, against |x|).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>
#include "checks.h"
#include "harness.h"
#include "reduce_kernels.cuh"

namespace ks {

namespace {

void sum_squares_case(int count, int sm, float poke = 0.f) {
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
  if (poke != 0.f) {  // one element of a float32 tensor set to a huge or non-finite value
    for (int i = 0; i < count; ++i)
      if (dtypes[i] == F32 && ns[i] > 3) {
        tensors[i].cpu_as<float>()[3] = poke;
        tensors[i].publish();
        break;
      }
  }
  for (Twin& t : tensors) {
    cpu_ptrs.push_back(t.cpu());
    dev_ptrs.push_back(t.dev());
  }
  Twin acc = vector_twin(std::vector<double>{1.5});
  const std::string what = "sum_squares of " + std::to_string(count) + " tensors" +
                           (poke != 0.f ? " with one element " + std::to_string(poke) : "");
  cpu_backend()->sum_squares(cpu_ptrs.data(), dtypes.data(), ns.data(), count, acc.cpu_as<double>(), nullptr);
  run_device(what, [&] {
    cuda::launch_sum_squares(env(sm), dev_ptrs.data(), dtypes.data(), ns.data(), count, acc.dev_as<double>());
  });
  // The fp64 partials are added in a different order than the CPU's sequential sum: equal to
  // within a few ulps of fp64, and the same class (finite, Inf, NaN).
  const double c = *acc.cpu_as<double>(), d = *reinterpret_cast<const double*>(acc.dev_bytes());
  const bool same = std::isnan(c) ? std::isnan(d) : (std::isinf(c) ? c == d : std::fabs(c - d) <= 1e-12 * std::fabs(c));
  record(same, what, "cpu " + std::to_string(c) + ", device " + std::to_string(d));
  if (poke == 1e20f) record(std::isfinite(d) && d > 1e39, what + ": finite, above float32's range");
}

void step_scalars_case(double sumsq, float max_norm, int32_t skip_nonfinite) {
  Twin in = vector_twin(std::vector<double>{sumsq});
  Twin out = vector_twin(std::vector<float>{-1.f, -1.f, -1.f, -1.f});
  Twin skipped = vector_twin(std::vector<int64_t>{7});
  cpu_backend()->step_scalars(in.cpu_as<double>(), max_norm, skip_nonfinite, out.cpu_as<float>(),
                              skipped.cpu_as<int64_t>(), nullptr);
  const std::string what = "step_scalars sumsq=" + std::to_string(sumsq) + " max=" + std::to_string(max_norm) +
                           " skip_nonfinite=" + std::to_string(skip_nonfinite);
  run_device(what, [&] {
    cuda::launch_step_scalars(env(2), in.dev_as<double>(), max_norm, skip_nonfinite, out.dev_as<float>(),
                              skipped.dev_as<int64_t>());
  });
  compare(what, out, F32);
  compare(what + " skipped count", skipped);
  const float* o = out.cpu_as<float>();
  const bool finite = std::isfinite(sumsq);
  const bool skip = skip_nonfinite && !finite;
  record(o[1] == (skip ? 1.f : 0.f) && o[2] == 1.f && o[3] == o[1] && *skipped.cpu_as<int64_t>() == (skip ? 8 : 7),
         what + ": skip flag and count");
  if (finite && max_norm > 0) {
    const double want = std::min(1.0, max_norm / (std::sqrt(sumsq) + 1e-6));
    record(o[0] > 0 && std::fabs(o[0] - want) <= 1e-6 * want, what + ": clip factor", std::to_string(o[0]));
  }
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
  sum_squares_case(70, 2);  // two launches (64 tensors each at most), partials of both summed
  sum_squares_case(5, 1);
  sum_squares_case(64, 3);
  sum_squares_case(9, 2, 1e20f);  // its square overflows float32, not the fp64 sum
  sum_squares_case(9, 1, INFINITY);
  sum_squares_case(9, 3, NAN);
  for (int32_t skip : {0, 1}) {
    step_scalars_case(0.0, 10.f, skip);
    step_scalars_case(50.0, 10.f, skip);
    step_scalars_case(100.0, 10.f, skip);
    step_scalars_case(1e6, 10.f, skip);
    step_scalars_case(1e40, 1.f, skip);  // a gradient norm of 1e20: factor 1e-20, not 0
    step_scalars_case(1e6, 0.f, skip);   // no clipping: factor 1
    step_scalars_case(INFINITY, 1.f, skip);
    step_scalars_case(NAN, 0.f, skip);
  }
  const std::pair<int64_t, int64_t> shapes[] = {{37, 29}, {3, 1000}, {100, 3}, {70, 70}, {1, 1}, {2, 2100}};
  int i = 0;
  for (int32_t axis : {0, 1, 2})
    for (int32_t dt : {F32, BF16, F16})
      for (const auto& s : shapes) line_norms_case(axis, dt, s.first, s.second, 1 + (i++ % 3));
  end_group();
}

}  // namespace ks
