#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../core/errors.h"
#include "path_counters.h"

namespace frugal {
namespace {

constexpr int kMaxThreads = 256;

thread_local bool t_inside_task = false;

class Pool {
 public:
  explicit Pool(int threads) {
    for (int slot = 1; slot < threads; slot++) workers_.emplace_back([this, slot] { work(slot); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }
  int threads() const { return (int)workers_.size() + 1; }

  // One job at a time: the caller holds g_use (below).
  void run(int64_t count, const std::function<void(int64_t)>& fn, bool one_per_thread) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = &fn;
      count_ = count;
      one_per_thread_ = one_per_thread;
      next_.store(0);
      error_ = nullptr;
      active_ = (int)workers_.size();
      generation_++;
    }
    wake_.notify_all();
    drain(0);
    std::unique_lock<std::mutex> lock(mutex_);
    finished_.wait(lock, [this] { return active_ == 0; });
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  // Runs this thread's tasks. A throwing task must not end the process (a worker) or leave the
  // others running on a function that is gone (the caller): the first exception is kept for the
  // caller to rethrow once everyone has finished.
  void drain(int slot) {
    t_inside_task = true;
    try {
      if (one_per_thread_) {
        for (int64_t t = slot; t < count_; t += threads()) (*fn_)(t);
      } else {
        for (int64_t t = next_.fetch_add(1); t < count_; t = next_.fetch_add(1)) (*fn_)(t);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    t_inside_task = false;
  }

  void work(int slot) {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      drain(slot);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--active_ == 0) finished_.notify_one();
      }
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, finished_;
  const std::function<void(int64_t)>* fn_ = nullptr;
  int64_t count_ = 0;
  bool one_per_thread_ = false;
  std::atomic<int64_t> next_{0};
  std::exception_ptr error_;
  int active_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
};

std::mutex g_use;            // held for a whole job, and while the pool is resized
Pool* g_pool = nullptr;      // under g_use
std::atomic<int> g_size{0};  // the pool's size once started, read without the lock

int default_threads() {
  const char* env = std::getenv("FRUGAL_NUM_THREADS");
  if (env && *env) {
    int n = std::atoi(env);
    if (n >= 1) return std::min(n, kMaxThreads);
  }
  return (int)std::max(1u, std::thread::hardware_concurrency());
}

// Leaked at exit on purpose: joining threads from a static destructor at process exit can
// deadlock when the runtime has already torn other threads down.
Pool& pool_locked() {
  if (!g_pool) {
    g_pool = new Pool(default_threads());
    g_size.store(g_pool->threads());
    debug::note_pool_threads(g_pool->threads());
  }
  return *g_pool;
}

// Small or nested jobs, and every job of a one-thread pool: on the calling thread, without the
// pool's lock and not marked as inside a task, so what the tasks call may still use the pool.
void run_inline(int64_t count, const std::function<void(int64_t)>& fn) {
  for (int64_t t = 0; t < count; t++) fn(t);
}

void run_job(int64_t count, const std::function<void(int64_t)>& fn, bool one_per_thread) {
  if (count <= 0) return;
  if (count == 1 || t_inside_task || pool_threads() == 1) return run_inline(count, fn);
  // Through the pool even if it was resized to one thread meanwhile: the caller then drains every
  // task itself, marked as inside a task, so a nested call runs inline instead of waiting for
  // the lock this thread holds.
  std::lock_guard<std::mutex> lock(g_use);
  pool_locked().run(count, fn, one_per_thread);
}

}  // namespace

int pool_threads() {
  if (int n = g_size.load()) return n;
  std::lock_guard<std::mutex> lock(g_use);
  return pool_locked().threads();
}

void run_tasks(int64_t count, const std::function<void(int64_t)>& fn) { run_job(count, fn, false); }

void run_tasks_one_per_thread(int64_t count, const std::function<void(int64_t)>& fn) { run_job(count, fn, true); }

void parallel_range(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  // At most a few tasks per thread: enough to even out the load, few enough to stay cheap.
  int64_t tasks = std::min<int64_t>((n + grain - 1) / grain, (int64_t)pool_threads() * 4);
  int64_t chunk = (n + tasks - 1) / tasks;
  tasks = (n + chunk - 1) / chunk;
  run_tasks(tasks, [&](int64_t t) {
    int64_t b = t * chunk;
    fn(b, std::min(n, b + chunk));
  });
}

void set_pool_threads(int threads) {
  if (threads < 0 || threads > kMaxThreads)
    invalid("threads: expected 0 (the default) or 1.." + std::to_string(kMaxThreads) + ", got " +
            std::to_string(threads));
  if (t_inside_task) fail(FRUGAL_ERR_STATE, "threads: the thread pool cannot be resized from inside one of its tasks");
  const int want = threads == 0 ? default_threads() : threads;
  std::lock_guard<std::mutex> lock(g_use);
  if (g_pool && g_pool->threads() == want) return;
  delete g_pool;  // its workers are idle: jobs hold g_use
  g_pool = new Pool(want);
  g_size.store(want);
  debug::note_pool_threads(want);
}

}  // namespace frugal
