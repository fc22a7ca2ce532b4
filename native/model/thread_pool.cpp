#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "../cpu/path_counters.h"

namespace frugal {
namespace model {
namespace {

thread_local bool t_inside_task = false;

class Pool {
 public:
  explicit Pool(int threads) {
    for (int i = 1; i < threads; i++) workers_.emplace_back([this] { work(); });
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

  void run(int64_t count, const std::function<void(int64_t)>& fn) {
    std::lock_guard<std::mutex> serial(caller_mutex_);  // one job at a time
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = &fn;
      count_ = count;
      next_.store(0);
      active_ = (int)workers_.size();
      generation_++;
    }
    wake_.notify_all();
    drain();
    std::unique_lock<std::mutex> lock(mutex_);
    finished_.wait(lock, [this] { return active_ == 0; });
    fn_ = nullptr;
  }

 private:
  // Takes task indices until none are left. Exceptions cannot cross threads here: ops validate
  // their arguments before they reach the pool, so tasks do pure arithmetic.
  void drain() {
    t_inside_task = true;
    for (;;) {
      int64_t t = next_.fetch_add(1);
      if (t >= count_) break;
      (*fn_)(t);
    }
    t_inside_task = false;
  }

  void work() {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      drain();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--active_ == 0) finished_.notify_one();
      }
    }
  }

  std::vector<std::thread> workers_;
  std::mutex caller_mutex_, mutex_;
  std::condition_variable wake_, finished_;
  const std::function<void(int64_t)>* fn_ = nullptr;
  int64_t count_ = 0;
  std::atomic<int64_t> next_{0};
  int active_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
};

int configured_threads() {
  const char* env = std::getenv("FRUGAL_NUM_THREADS");
  if (env && *env) {
    int n = std::atoi(env);
    if (n >= 1) return std::min(n, 256);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

Pool& pool() {
  // Leaked on purpose: joining threads from a static destructor at process exit can deadlock
  // when the runtime has already torn other threads down.
  static Pool* p = new Pool(configured_threads());
  debug::note_pool_threads(p->threads());
  return *p;
}

}  // namespace

int pool_threads() { return pool().threads(); }

void run_tasks(int64_t count, const std::function<void(int64_t)>& fn) {
  if (count <= 0) return;
  if (count == 1 || t_inside_task || pool().threads() == 1) {
    for (int64_t t = 0; t < count; t++) fn(t);
    return;
  }
  pool().run(count, fn);
}

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

}  // namespace model
}  // namespace frugal
