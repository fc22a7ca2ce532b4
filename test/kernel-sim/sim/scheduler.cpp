// Runs a grid: blocks one after another, the threads of a block as fibers on this OS thread.
// A fiber runs until it reaches __syncthreads() or returns; when every thread of the block has
// stopped, the barrier is checked (all threads at the same __syncthreads, or all returned) and
// released. Cooperative fibers make every run deterministic and let a barrier be exact, which
// one OS thread per CUDA thread (racy, slow to create by the million) could not.
#include <sys/mman.h>
#include <ucontext.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <unordered_map>
#include "sim_runtime.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define KERNEL_SIM_ASAN 1
#endif

#ifdef KERNEL_SIM_ASAN
// Leak checking needs ptrace, which many CI containers forbid (it would fail the run at exit),
// and leaks are not what this test looks for.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }
#endif

namespace sim {

uint3 g_threadIdx, g_blockIdx;
dim3 g_blockDim, g_gridDim;

namespace {

// Room for a kernel's frames, its by-value parameters (up to 4 KB) and sanitizer redzones.
constexpr size_t kStackBytes = 128 * 1024;
constexpr int kMaxBlockThreads = 1024;

enum class State { Ready, AtBarrier, Done };

struct Fiber {
  ucontext_t ctx;
  char* stack = nullptr;
  uint3 tid{};
  State state = State::Ready;
  const char* file = nullptr;  // the __syncthreads() it waits at
  int line = 0;
  void* asan_fake_stack = nullptr;
};

ucontext_t g_main;  // zeroed: AddressSanitizer reads its (empty) stack description on switches
Fiber* g_current = nullptr;
std::vector<Fiber> g_fibers;
void (*g_body)(void*) = nullptr;
void* g_body_ctx = nullptr;
const char* g_kernel = nullptr;
Order g_order = Order::Forward;
bool g_skip_last_block = false;
unsigned long g_block_generation = 0;
std::unordered_map<void*, unsigned long> g_shared_generation;
std::map<std::string, int> g_launches;
long g_total_launches = 0;
std::vector<std::string> g_errors;
const void* g_main_stack_bottom = nullptr;
size_t g_main_stack_size = 0;

void ensure_fibers() {
  if (!g_fibers.empty()) return;
  g_fibers.resize(kMaxBlockThreads);
  for (Fiber& f : g_fibers) {
    // A guard page below each stack turns an overflow into a crash instead of corruption.
    const size_t page = 4096;
    void* mem = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);
    if (mem == MAP_FAILED) {
      std::fprintf(stderr, "kernel-sim: cannot map fiber stacks\n");
      std::exit(3);
    }
    mprotect(mem, page, PROT_NONE);
    f.stack = static_cast<char*>(mem) + page;
  }
}

// Main -> fiber. AddressSanitizer must be told which stack is live, or it misreads frames.
void switch_to(Fiber& f) {
#ifdef KERNEL_SIM_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, f.stack, kStackBytes);
  swapcontext(&g_main, &f.ctx);
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
  swapcontext(&g_main, &f.ctx);
#endif
}

void entered(Fiber& f) {
#ifdef KERNEL_SIM_ASAN
  __sanitizer_finish_switch_fiber(f.asan_fake_stack, &g_main_stack_bottom, &g_main_stack_size);
#else
  (void)f;
#endif
}

// Fiber -> main, to wait at a barrier (or, with exiting, for good).
void yield_to_main(Fiber& f, bool exiting) {
#ifdef KERNEL_SIM_ASAN
  __sanitizer_start_switch_fiber(exiting ? nullptr : &f.asan_fake_stack, g_main_stack_bottom, g_main_stack_size);
#endif
  if (!exiting) {
    swapcontext(&f.ctx, &g_main);
    entered(f);
  }
}

void fiber_entry() {
  Fiber& f = *g_current;
  entered(f);
  g_body(g_body_ctx);
  f.state = State::Done;
  yield_to_main(f, true);
  // Returning resumes uc_link, the main context.
}

std::string site(const Fiber& f) { return std::string(f.file) + ":" + std::to_string(f.line); }

// Runs one block to completion; false after reporting a barrier error (the block is abandoned).
bool run_block(unsigned nthreads) {
  for (unsigned t = 0; t < nthreads; ++t) {
    Fiber& f = g_fibers[t];
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = f.stack;
    f.ctx.uc_stack.ss_size = kStackBytes;
    f.ctx.uc_link = &g_main;
    makecontext(&f.ctx, fiber_entry, 0);
    f.state = State::Ready;
    f.asan_fake_stack = nullptr;
    f.tid = uint3{t % g_blockDim.x, (t / g_blockDim.x) % g_blockDim.y, t / (g_blockDim.x * g_blockDim.y)};
  }
  for (;;) {
    for (unsigned i = 0; i < nthreads; ++i) {
      Fiber& f = g_fibers[g_order == Order::Forward ? i : nthreads - 1 - i];
      if (f.state != State::Ready) continue;
      g_current = &f;
      g_threadIdx = f.tid;
      switch_to(f);
    }
    g_current = nullptr;
    unsigned waiting = 0;
    const Fiber* first = nullptr;
    for (unsigned t = 0; t < nthreads; ++t) {
      const Fiber& f = g_fibers[t];
      if (f.state != State::AtBarrier) continue;
      ++waiting;
      if (!first) first = &f;
      if (f.line != first->line || std::strcmp(f.file, first->file) != 0) {
        report_error(std::string(g_kernel) + ": threads wait at different __syncthreads (" + site(*first) + " and " +
                     site(f) + ")");
        return false;
      }
    }
    if (waiting == 0) return true;
    if (waiting != nthreads) {
      report_error(std::string(g_kernel) + ": __syncthreads at " + site(*first) + " reached by " +
                   std::to_string(waiting) + " of " + std::to_string(nthreads) + " threads; the others returned");
      return false;
    }
    for (unsigned t = 0; t < nthreads; ++t) g_fibers[t].state = State::Ready;
  }
}

}  // namespace

void set_order(Order order) { g_order = order; }
void set_skip_last_block(bool skip) { g_skip_last_block = skip; }

void report_error(const std::string& message) { g_errors.push_back(message); }

std::vector<std::string> drain_errors() {
  std::vector<std::string> out;
  out.swap(g_errors);
  return out;
}

int launch_count(const std::string& kernel) {
  auto it = g_launches.find(kernel);
  return it == g_launches.end() ? 0 : it->second;
}
long total_launches() { return g_total_launches; }

bool admit_launch(const LaunchConfig& c) {
  const unsigned long threads = (unsigned long)c.block.x * c.block.y * c.block.z;
  const char* why = nullptr;
  cudaError_t err = cudaErrorInvalidConfiguration;
  if (g_current) {
    why = "launched from inside a kernel (dynamic parallelism is not simulated)";
    err = cudaErrorNotSupported;
  } else if (c.block.x == 0 || c.block.y == 0 || c.block.z == 0 || c.block.x > 1024 || c.block.y > 1024 ||
             c.block.z > 64 || threads > 1024) {
    why = "block shape outside the device limits (1024 threads, z <= 64)";
  } else if (c.grid.x == 0 || c.grid.y == 0 || c.grid.z == 0 || c.grid.x > 2147483647u || c.grid.y > 65535 ||
             c.grid.z > 65535) {
    why = "grid shape outside the device limits (x < 2^31, y and z <= 65535, none 0)";
  } else if (c.max_threads > 0 && threads > (unsigned long)c.max_threads) {
    why = "more threads per block than the kernel's __launch_bounds__";
    err = cudaErrorLaunchOutOfResources;
  } else if (c.shmem > 48 * 1024) {
    why = "more than 48 KB of dynamic shared memory without an opt-in";
    err = cudaErrorInvalidValue;
  }
  if (!why) return true;
  record_cuda_error(err);
  report_error(std::string(c.name) + ": launch refused: " + why + " (grid " + std::to_string(c.grid.x) + "x" +
               std::to_string(c.grid.y) + "x" + std::to_string(c.grid.z) + ", block " + std::to_string(c.block.x) +
               "x" + std::to_string(c.block.y) + "x" + std::to_string(c.block.z) + ")");
  return false;
}

void run_grid(const LaunchConfig& cfg, void (*body)(void*), void* ctx) {
  ensure_fibers();
  ++g_launches[cfg.name];
  ++g_total_launches;
  g_kernel = cfg.name;
  g_gridDim = cfg.grid;
  g_blockDim = cfg.block;
  g_body = body;
  g_body_ctx = ctx;
  const unsigned nthreads = cfg.block.x * cfg.block.y * cfg.block.z;
  const unsigned long blocks = (unsigned long)cfg.grid.x * cfg.grid.y * cfg.grid.z;
  for (unsigned long i = 0; i < blocks; ++i) {
    const unsigned long b = g_order == Order::Forward ? i : blocks - 1 - i;
    if (g_skip_last_block && b == blocks - 1) continue;
    g_blockIdx = uint3{(unsigned)(b % cfg.grid.x), (unsigned)(b / cfg.grid.x % cfg.grid.y),
                       (unsigned)(b / ((unsigned long)cfg.grid.x * cfg.grid.y))};
    ++g_block_generation;
    if (!run_block(nthreads)) break;
  }
}

void syncthreads(const char* file, int line) {
  Fiber* f = g_current;
  if (!f) {
    report_error(std::string("__syncthreads() called outside a kernel at ") + file + ":" + std::to_string(line));
    return;
  }
  f->state = State::AtBarrier;
  f->file = file;
  f->line = line;
  yield_to_main(*f, false);
}

void shared_block_init(void* p, size_t bytes) {
  unsigned long& generation = g_shared_generation[p];
  if (generation == g_block_generation) return;
  generation = g_block_generation;
  // All-ones bytes: NaN as float or double, -1 as an integer. Shared memory starts as garbage on
  // the device; a read before a write must not quietly see the previous block's values.
  std::memset(p, 0xff, bytes);
}

}  // namespace sim
