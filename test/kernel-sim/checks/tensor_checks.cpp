// fill / random / cast / to_f32_scaled for every dtype, odd sizes, element-aligned but not
// 16-byte-aligned starts, and several grid sizes (sm_count) so grid-stride loops wrap differently.
#include <string>
#include "checks.h"
#include "harness.h"
#include "tensor_kernels.cuh"

namespace ks {

void check_tensor_ops() {
  begin_group("tensor ops");
  Backend* cpu = cpu_backend();
  const int32_t dtypes[] = {F32, BF16, F16, I32};
  const int64_t sizes[] = {1, 5, 257, 5003};
  int variant = 0;
  for (int32_t dt : dtypes) {
    for (int64_t n : sizes) {
      ++variant;
      const size_t offset = (size_t)dtype_size(dt) * (variant % 3);
      const auto e = env(1 + variant % 3);
      const std::string tag = std::string(dtype_name(dt)) + " n=" + std::to_string(n);

      Twin f = random_twin(dt, n, -1, 1, offset);
      cpu->fill(f.cpu(), dt, n, 3.25f, nullptr);
      run_device("fill " + tag, [&] { cuda::launch_fill(e, f.dev(), dt, n, 3.25f); });
      compare("fill " + tag, f, dt);

      for (int dist : {0, 1}) {
        Twin r = random_twin(dt, n, -1, 1, offset);
        const uint64_t seed = 1234 + variant;
        cpu->random(r.cpu(), dt, n, dist, seed, -2.f, 3.f, nullptr);
        run_device("random " + tag, [&] { cuda::launch_random(e, r.dev(), dt, n, dist, seed, -2.f, 3.f); });
        compare("random dist=" + std::to_string(dist) + " " + tag, r, dt);
      }

      for (int32_t src_dt : dtypes) {
        Twin src = random_twin(src_dt, n, -100, 100, (size_t)dtype_size(src_dt) * (variant % 2));
        Twin dst = random_twin(dt, n, -1, 1, offset);
        cpu->cast(src.cpu(), src_dt, dst.cpu(), dt, n, nullptr);
        run_device("cast " + tag, [&] { cuda::launch_cast(e, src.dev(), src_dt, dst.dev(), dt, n); });
        compare(std::string("cast from ") + dtype_name(src_dt) + " to " + tag, dst, dt);
        compare("cast source untouched " + tag, src, src_dt);
      }

      for (bool with_scale : {false, true}) {
        Twin src = random_twin(dt, n, -10, 10, offset);
        Twin dst = random_twin(F32, n, -1, 1, 4 * (variant % 2));
        Twin gscale = scalar_twin(0.3f);
        cpu->to_f32_scaled(src.cpu(), dt, dst.cpu_as<float>(), n, with_scale ? gscale.cpu_as<float>() : nullptr,
                           nullptr);
        run_device("to_f32_scaled " + tag, [&] {
          cuda::launch_to_f32_scaled(e, src.dev(), dt, dst.dev_as<float>(), n,
                                     with_scale ? gscale.dev_as<float>() : nullptr);
        });
        compare("to_f32_scaled scale=" + std::to_string(with_scale) + " " + tag, dst, F32);
      }
    }
  }
  end_group();
}

}  // namespace ks
