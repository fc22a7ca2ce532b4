// A minimal fork-join loop for the CPU backend: splits [0, n) into contiguous chunks, one per
// hardware thread, when the work is big enough to pay for the threads. Each element is computed
// by exactly one thread in the same way, so results do not depend on the thread count.
#pragma once
#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace frugal {

template <typename Fn>
void parallel_for(int64_t n, Fn&& fn, int64_t min_per_thread = 1 << 15) {
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  int64_t threads = std::min<int64_t>(hw, (n + min_per_thread - 1) / min_per_thread);
  if (threads <= 1) {
    if (n > 0) fn(int64_t(0), n);
    return;
  }
  std::vector<std::thread> pool;
  int64_t chunk = (n + threads - 1) / threads;
  for (int64_t t = 1; t < threads; t++) {
    int64_t b = t * chunk, e = std::min(n, b + chunk);
    if (b < e) pool.emplace_back([&fn, b, e] { fn(b, e); });
  }
  fn(int64_t(0), std::min(n, chunk));
  for (auto& th : pool) th.join();
}

}  // namespace frugal
