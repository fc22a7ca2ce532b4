#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "../core/errors.h"
#include "../core/test_hooks.h"
#include "path_counters.h"

namespace frugal {
namespace {

constexpr int kMaxThreads = 256;

thread_local bool t_inside_task = false;

// test_hooks::fail_thread_start_at: the worker slot whose start the next pool fails (0: none).
std::atomic<int> g_fail_thread_slot{0};

class Pool {
 public:
  // Starts up to threads - 1 workers. When the OS refuses one (std::thread throws
  // std::system_error), the pool keeps the workers already started and records why
  // (threads() is then smaller than asked; the caller decides whether that will do), instead of
  // letting the error unwind through joinable std::threads, which would std::terminate.
  explicit Pool(int threads) {
    workers_.reserve((size_t)threads - 1);  // so emplace_back never moves a running thread
    for (int slot = 1; slot < threads; slot++) {
      try {
        if (test_hooks::thread_start_fails_now(slot))
          throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                                  "thread start refused by a test hook");
        workers_.emplace_back([this, slot] { work(slot); });
      } catch (const std::system_error& e) {
        start_failure_ = e.what();
        return;
      }
    }
  }
  // Stops and joins every worker that started.
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }
  int threads() const { return (int)workers_.size() + 1; }
  // Why the worker after the last one started could not start ("" when all did).
  const std::string& start_failure() const { return start_failure_; }

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
  std::string start_failure_;
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

// "thread k of n": the calling thread is thread 1 (slot 0), the worker of slot s is thread s + 1.
std::string start_failure_text(const Pool& pool, int wanted) {
  return "could not start thread " + std::to_string(pool.threads() + 1) + " of " + std::to_string(wanted) + ": " +
         pool.start_failure();
}

// Leaked at exit on purpose: joining threads from a static destructor at process exit can
// deadlock when the runtime has already torn other threads down.
Pool& pool_locked() {
  if (!g_pool) {
    const int wanted = default_threads();
    g_pool = new Pool(wanted);
    // The first use asked for no size in particular, and results do not depend on it: a pool
    // the OS gave fewer threads runs with those, and says so once.
    if (g_pool->threads() < wanted)
      std::fprintf(stderr, "frugal-optim: CPU thread pool: %s; running with %d threads\n",
                   start_failure_text(*g_pool, wanted).c_str(), g_pool->threads());
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

void test_hooks::fail_thread_start_at(int slot) { g_fail_thread_slot.store(slot); }

bool test_hooks::thread_start_fails_now(int slot) {
  int armed = slot;
  return slot > 0 && g_fail_thread_slot.compare_exchange_strong(armed, 0);
}

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
  // The new pool is built whole before the old one goes: if the OS refuses one of its threads,
  // the ones it started are joined (its destructor) and the old pool keeps working.
  std::unique_ptr<Pool> fresh(new Pool(want));
  if (fresh->threads() < want) {
    const std::string why = start_failure_text(*fresh, want);
    fresh.reset();
    fail(FRUGAL_ERR_OUT_OF_MEMORY,
         "threads: " + why + "; " +
             (g_pool ? "the pool keeps its " + std::to_string(g_pool->threads()) + " threads"
                     : std::string("the pool is not started (its first use starts the default size)")));
  }
  delete g_pool;  // its workers are idle: jobs hold g_use
  g_pool = fresh.release();
  g_size.store(want);
  debug::note_pool_threads(want);
}

}  // namespace frugal
