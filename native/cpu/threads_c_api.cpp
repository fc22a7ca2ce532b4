// The C entry points that size the CPU thread pool (frugal.h, "CPU threads").
#include "../core/api_guard.h"
#include "frugal.h"
#include "thread_pool.h"

using namespace frugal;

extern "C" {

frugal_status frugal_set_num_threads(int32_t threads) {
  return guarded([&] { set_pool_threads(threads); });
}

frugal_status frugal_get_num_threads(int32_t* threads) {
  return guarded([&] {
    need(threads, "threads");
    *threads = pool_threads();
  });
}

}  // extern "C"
