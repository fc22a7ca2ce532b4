// The kernel simulator's runtime: what translated CUDA sources and the test harness both use.
// A launch runs the grid's blocks one after another; a block's threads run as fibers (ucontext)
// on one OS thread, each until it reaches __syncthreads() or returns, so a barrier is exact and
// every run is deterministic. The run order of blocks and of threads between barriers is a
// setting (forward / reverse): a kernel whose result depends on it (a missing barrier, one block
// reading another's output) gives different results. Warp intrinsics are convergence points like
// barriers (for the lanes their mask names); unordered accesses to one address by two threads are
// found by the race detector (race_detector.cpp), whatever the order.
#pragma once
#include <cuda_runtime.h>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace sim {

enum class Order { Forward, Reverse };
void set_order(Order order);

// The built-in variables of the thread now running (threadIdx and friends expand to these).
extern uint3 g_threadIdx, g_blockIdx;
extern dim3 g_blockDim, g_gridDim;

struct LaunchConfig {
  const char* name;
  int max_threads;  // __launch_bounds__, or 0
  dim3 grid, block;
  size_t shmem;
};

// Refuses a configuration the device would refuse: records the CUDA error that
// cudaGetLastError() then returns, reports it, and returns false.
bool admit_launch(const LaunchConfig& cfg);
// Runs every block of cfg.grid, each of its threads calling body(ctx).
void run_grid(const LaunchConfig& cfg, void (*body)(void*), void* ctx);
void syncthreads(const char* file, int line);
// A __shared__ variable (generate.js rewrites each declaration to a call): one heap allocation of
// exactly sizeof(T) per declaration site (16-byte aligned; AddressSanitizer guards both ends),
// poisoned at the start of every block.
void* shared_static_storage(const void* site, size_t bytes);
template <class T>
T& shared_static(const void* site) {
  return *static_cast<T*>(shared_static_storage(site, sizeof(T)));
}
// The launch's dynamic shared memory (extern __shared__): cfg.shmem bytes, 16-byte aligned, one
// buffer per block, poisoned like static shared memory.
void* dynamic_shared();

// Warp-level intrinsics. A lane that reaches one stops (like at a barrier) until every lane its
// mask names has reached the same kind of intrinsic with the same mask; then all of them get their
// results and continue. A named lane that returned, waits at __syncthreads, or waits at another
// intrinsic is reported (kernel, block, warp, lanes) and the block is abandoned.
enum class WarpOp { SyncWarp, Shfl, ShflUp, ShflDown, ShflXor, Ballot, Any, All };
// value: the lane's operand (up to 8 bytes); arg: source lane, delta or lane mask; pred: the
// predicate of ballot/any/all. Returns the result bits (shuffled value, or ballot/any/all).
uint64_t warp_op(WarpOp op, unsigned mask, uint64_t value, int arg, int width, int pred, const char* file, int line);

// The race detector: between two barriers, threads of a block (and the blocks of a grid) run in an
// order the program must not depend on. Every non-atomic load and store a translated kernel makes
// is recorded (the kernel units are compiled with AddressSanitizer's access callbacks, which
// race_detector.cpp implements); two accesses to the same bytes of shared or global memory by
// different threads, at least one a write, with no barrier between them (for global memory: also
// from different blocks) are reported with kernel, address and both threads.
// On unless the environment sets KERNEL_SIM_RACE_DETECTOR=0; it records in the forward order.
bool race_detection_enabled();
// Whether this binary's kernel units were compiled with the access callbacks (build.js does it).
bool race_detection_instrumented();

// Problems the simulator found (refused launches, divergent barriers, host pointers passed to a
// kernel, wrong memcpy kinds, bad frees): every one is a test failure.
void report_error(const std::string& message);
std::vector<std::string> drain_errors();

// The sticky error cudaGetLastError() returns.
void record_cuda_error(cudaError_t err);

int launch_count(const std::string& kernel);
long total_launches();

// Self-check only: skip the last block of every grid (a broken launch the checks must notice).
void set_skip_last_block(bool skip);

// "Device" memory: host memory, but registered, so the simulator can tell device pointers from
// host ones. Each allocation is its own malloc of the exact size (out-of-bounds reads and writes
// are caught by AddressSanitizer when the build uses it).
void* device_malloc(size_t bytes);
void device_free(void* p);
bool is_device_range(const void* p, size_t bytes);

// Device memory the simulator knows about: the allocation containing p (base and size), if any.
bool find_device_allocation(const void* p, const char** base, size_t* bytes);

template <class F>
void invoke(void* f) {
  (*static_cast<F*>(f))();
}

template <class K>
struct Launch {
  K kernel;
  LaunchConfig cfg;

  template <class... A>
  void operator()(A... args) {
    int index = 0;
    (check_arg(args, index++), ...);
    if (!admit_launch(cfg)) return;
    // Each thread converts the arguments to the kernel's parameter types, as a launch does.
    auto call = [&]() { kernel(args...); };
    run_grid(cfg, &invoke<decltype(call)>, &call);
  }

  // A raw pointer argument must point into device memory (a host pointer would fault on a GPU).
  template <class A>
  void check_arg(const A& arg, int index) {
    if constexpr (std::is_pointer_v<A>) {
      if (arg && !is_device_range(arg, 1)) {
        report_error(std::string(cfg.name) + ": argument " + std::to_string(index) + " is not a device pointer");
      }
    }
  }
};

template <class K>
Launch<K> launch(K kernel, const char* name, int max_threads, dim3 grid, dim3 block, size_t shmem = 0,
                 cudaStream_t stream = nullptr) {
  (void)stream;  // launches run synchronously, so every stream is in order with the host
  return Launch<K>{kernel, LaunchConfig{name, max_threads, grid, block, shmem}};
}

}  // namespace sim
