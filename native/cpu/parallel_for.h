// The CPU backend's fork-join loop: splits [0, n) into contiguous chunks, at most one per thread
// of the shared pool (thread_pool.h, sized by FRUGAL_NUM_THREADS / --threads), when the work is
// big enough to pay for the threads. Each element is computed by exactly one thread in the same
// way, so results do not depend on the thread count.
#pragma once
#include <algorithm>
#include <cstdint>
#include "path_counters.h"
#include "thread_pool.h"

namespace frugal {

template <typename Fn>
void parallel_for(int64_t n, Fn&& fn, int64_t min_per_thread = 1 << 15) {
  const int64_t threads = std::min<int64_t>(pool_threads(), (n + min_per_thread - 1) / min_per_thread);
  if (threads <= 1) {
    if (n > 0) {
      debug::note_loop_thread();
      fn(int64_t(0), n);
    }
    return;
  }
  const int64_t chunk = (n + threads - 1) / threads;
  run_tasks_one_per_thread(threads, [&](int64_t t) {
    const int64_t b = t * chunk, e = std::min(n, b + chunk);
    if (b >= e) return;
    debug::note_loop_thread();
    fn(b, e);
  });
}

}  // namespace frugal
