// A persistent pool of worker threads for the CPU model ops. A training step makes hundreds of
// op calls; spawning threads for each (as the optimizer backend's parallel_for does for its few
// big passes) would cost more than the small ops themselves, so the workers live for the process.
//
// Determinism: run_tasks hands out task indices dynamically, but every task computes its own
// disjoint outputs in a fixed order, so results never depend on which thread ran what, nor on
// the number of threads.
#pragma once
#include <cstdint>
#include <functional>

namespace frugal {
namespace model {

// Calls fn(task) once for every task in [0, count), spread over the pool and the calling thread.
// Returns when all are done. Safe to call from any thread; concurrent callers are serialized.
// A nested call (from inside a task) runs inline on the calling worker.
void run_tasks(int64_t count, const std::function<void(int64_t)>& fn);

// Splits [0, n) into chunks of at least `grain` items (one task each) and calls fn(begin, end).
void parallel_range(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// Threads the pool uses (the calling thread included): FRUGAL_NUM_THREADS when set, else the
// hardware concurrency.
int pool_threads();

}  // namespace model
}  // namespace frugal
