// The one persistent pool of worker threads of the CPU backend, shared by the optimizer's loops
// (parallel_for.h), the model ops and the host SVD. A training step makes hundreds of calls;
// starting threads for each would cost more than the small ones themselves, so the workers start
// once and live until the size changes (set_pool_threads) or the process ends.
//
// Size: set_pool_threads(n) when called (the trainer's --threads, frugal_set_num_threads), else
// FRUGAL_NUM_THREADS when set to 1..256, else the hardware concurrency; the calling thread counts
// as one of them.
//
// Determinism: every task computes its own disjoint outputs in a fixed order, so results never
// depend on which thread ran what, nor on the number of threads.
#pragma once
#include <cstdint>
#include <functional>

namespace frugal {

// Calls fn(task) once for every task in [0, count), spread over the pool and the calling thread;
// returns when all are done. Tasks are handed out in order to whichever thread is free. Safe to
// call from any thread; concurrent callers take turns. A nested call (from inside a task) runs
// inline on the thread that makes it. An exception thrown by a task is rethrown here once every
// task has finished (the first one, when several throw).
void run_tasks(int64_t count, const std::function<void(int64_t)>& fn);

// As run_tasks, but thread t of the pool (the caller is 0) runs tasks t, t + threads, ...: with
// count <= pool_threads() every task gets a thread of its own, as a fork-join loop expects.
void run_tasks_one_per_thread(int64_t count, const std::function<void(int64_t)>& fn);

// Splits [0, n) into chunks of at least `grain` items (one task each) and calls fn(begin, end).
void parallel_range(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// Threads the pool uses (the calling thread included); starts the pool on first use. If the OS
// refuses some of the default number of threads then, the pool runs with those it started (results
// do not depend on the size) and says so once on stderr.
int pool_threads();

// Resizes the pool: threads in 1..256, or 0 for the default (FRUGAL_NUM_THREADS, else the hardware
// concurrency). Waits for the job in progress; the new pool is started whole before the old one
// stops. Throws Error(FRUGAL_ERR_INVALID) for another count, or when called from inside a task;
// Error(FRUGAL_ERR_OUT_OF_MEMORY) naming the thread when the OS refuses one of the new threads,
// after joining those that started, with the old pool still in use.
void set_pool_threads(int threads);

}  // namespace frugal
