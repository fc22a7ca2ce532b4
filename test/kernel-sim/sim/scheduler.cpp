// Runs a grid: blocks one after another, the threads of a block as fibers on this OS thread.
// A fiber runs until it reaches __syncthreads(), a warp intrinsic, or returns. When every thread
// of the block has stopped, warp intrinsics are resolved first (each lane's mask must name lanes
// that all wait at the same intrinsic with the same mask: they get their results and run on),
// then the barrier is checked (all threads at the same __syncthreads, or all returned) and
// released. Lanes of a warp thus run independently between convergence points, as on Volta and
// later GPUs, and meet exactly where the code says they do. Cooperative fibers make every run deterministic and let a
// barrier be exact, which one OS thread per CUDA thread (racy, slow to create by the million) could not.
#include <sys/mman.h>
#include <ucontext.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <unordered_map>
#include "race_detector.h"
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

enum class State { Ready, AtBarrier, AtWarp, Done };
constexpr int kWarpSize = 32;

// What a lane waiting at a warp intrinsic asked for, and (once resolved) its result.
struct WarpCall {
  WarpOp op;
  unsigned mask;
  uint64_t value;
  int arg;
  int width;
  int pred;
  uint64_t result;
};

struct Fiber {
  ucontext_t ctx;
  char* stack = nullptr;
  uint3 tid{};
  State state = State::Ready;
  const char* file = nullptr;  // the __syncthreads() or warp intrinsic it waits at
  int line = 0;
  WarpCall warp{};
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
// Static __shared__ variables by declaration site: their storage (kept for the process) and the
// block that last poisoned it.
struct SharedSite {
  void* storage = nullptr;
  unsigned long generation = 0;
};
std::unordered_map<const void*, SharedSite> g_shared_generation;
std::map<std::string, int> g_launches;
long g_total_launches = 0;
std::vector<std::string> g_errors;
const void* g_main_stack_bottom = nullptr;
size_t g_main_stack_size = 0;
// KERNEL_SIM_RACE_DETECTOR=0 turns the detector off (to time it, or to see the self-check fail).
// It records in the forward run order only: the reverse pass repeats the same launches, and what
// the detector finds does not depend on the order (it would only double its cost).
bool g_race_detection = [] {
  const char* v = std::getenv("KERNEL_SIM_RACE_DETECTOR");
  return !(v && std::strcmp(v, "0") == 0);
}();
unsigned long g_block_linear = 0;
uint32_t g_interval = 0;                            // barriers the running block has passed
uint32_t g_warp_gen[kMaxBlockThreads / kWarpSize];  // __syncwarp generations of its warps
void* g_dynamic_shared = nullptr;                   // this launch's extern __shared__ buffer
size_t g_dynamic_shared_bytes = 0;

void ensure_fibers() {
  if (!g_fibers.empty()) return;
  g_fibers.resize(kMaxBlockThreads);
  // One mapping for all stacks, so the race detector tells a thread's locals apart with one
  // range check. A guard page below each stack turns an overflow into a crash instead of corruption.
  const size_t page = 4096, slot = kStackBytes + page;
  char* mem = static_cast<char*>(mmap(nullptr, slot * kMaxBlockThreads, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
  if (mem == MAP_FAILED) {
    std::fprintf(stderr, "kernel-sim: cannot map fiber stacks\n");
    std::exit(3);
  }
  for (int i = 0; i < kMaxBlockThreads; ++i) {
    mprotect(mem + i * slot, page, PROT_NONE);
    g_fibers[i].stack = mem + i * slot + page;
  }
  race::set_stack_range(mem, mem + slot * kMaxBlockThreads);
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

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::SyncWarp: return "__syncwarp";
    case WarpOp::Shfl: return "__shfl_sync";
    case WarpOp::ShflUp: return "__shfl_up_sync";
    case WarpOp::ShflDown: return "__shfl_down_sync";
    case WarpOp::ShflXor: return "__shfl_xor_sync";
    case WarpOp::Ballot: return "__ballot_sync";
    case WarpOp::Any: return "__any_sync";
    case WarpOp::All: return "__all_sync";
  }
  return "?";
}

std::string hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string block_name() {
  return "block (" + std::to_string(g_blockIdx.x) + "," + std::to_string(g_blockIdx.y) + "," +
         std::to_string(g_blockIdx.z) + ")";
}

// What a lane that should have joined a warp intrinsic is doing instead.
std::string whereabouts(const Fiber& g) {
  switch (g.state) {
    case State::Done: return "returned";
    case State::AtBarrier: return "waits at __syncthreads at " + site(g);
    case State::AtWarp:
      return "waits at " + std::string(op_name(g.warp.op)) + " with mask " + hex(g.warp.mask) + " at " + site(g);
    case State::Ready: break;
  }
  return "is still running";
}

// The lane a shuffle reads, following the CUDA programming guide's rules for each variant (a
// source outside the lane's width-segment gives the lane its own value).
int shuffle_source(const WarpCall& c, int lane) {
  const int w = c.width, base = lane & ~(w - 1), rel = lane - base;
  switch (c.op) {
    case WarpOp::Shfl: return base + (((c.arg % w) + w) % w);
    case WarpOp::ShflUp: return rel >= c.arg ? lane - c.arg : lane;
    case WarpOp::ShflDown: return rel + c.arg < w ? lane + c.arg : lane;
    case WarpOp::ShflXor: {
      const int src = lane ^ c.arg;
      return src >= base + w || src < 0 ? lane : src;
    }
    default: return lane;
  }
}

// Resolves every complete group of lanes waiting at a warp intrinsic; false after reporting a
// lane that cannot complete (the block is then abandoned, as with a divergent barrier).
bool resolve_warps(unsigned nthreads) {
  for (unsigned t = 0; t < nthreads; ++t) {
    Fiber& f = g_fibers[t];
    if (f.state != State::AtWarp) continue;
    const unsigned warp = t / kWarpSize, lane = t % kWarpSize, base = t - lane;
    const WarpCall& c = f.warp;
    const std::string where = std::string(g_kernel) + ": " + block_name() + ", warp " + std::to_string(warp) + ": " +
                              op_name(c.op) + " at " + site(f) + " with mask " + hex(c.mask) + ": ";
    if (!((c.mask >> lane) & 1u)) {
      report_error(where + "the mask does not name the calling lane " + std::to_string(lane));
      return false;
    }
    const bool shuffle =
        c.op == WarpOp::Shfl || c.op == WarpOp::ShflUp || c.op == WarpOp::ShflDown || c.op == WarpOp::ShflXor;
    if (shuffle && (c.width < 1 || c.width > kWarpSize || (c.width & (c.width - 1)) != 0)) {
      report_error(where + "width " + std::to_string(c.width) + " is not a power of two in [1, 32]");
      return false;
    }
    std::string missing;
    for (unsigned l = 0; l < (unsigned)kWarpSize; ++l) {
      if (!((c.mask >> l) & 1u)) continue;
      if (base + l >= nthreads) {
        missing +=
            " lane " + std::to_string(l) + " does not exist (the block has " + std::to_string(nthreads) + " threads);";
        continue;
      }
      const Fiber& g = g_fibers[base + l];
      if (g.state != State::AtWarp || g.warp.op != c.op || g.warp.mask != c.mask) {
        missing += " lane " + std::to_string(l) + " " + whereabouts(g) + ";";
      }
    }
    if (!missing.empty()) {
      missing.pop_back();
      report_error(where + "lanes named in the mask did not arrive (divergent warp intrinsic):" + missing);
      return false;
    }
    // Complete: every lane of the group gets its result.
    unsigned ballot = 0;
    for (unsigned l = 0; l < (unsigned)kWarpSize; ++l) {
      if (((c.mask >> l) & 1u) && g_fibers[base + l].warp.pred) ballot |= 1u << l;
    }
    for (unsigned l = 0; l < (unsigned)kWarpSize; ++l) {
      if (!((c.mask >> l) & 1u)) continue;
      Fiber& g = g_fibers[base + l];
      WarpCall& gc = g.warp;
      switch (c.op) {
        case WarpOp::SyncWarp: gc.result = 0; break;
        case WarpOp::Ballot: gc.result = ballot; break;
        case WarpOp::Any: gc.result = ballot != 0; break;
        case WarpOp::All: gc.result = ballot == c.mask; break;
        default: {
          const int src = shuffle_source(gc, (int)l);
          if (!((c.mask >> src) & 1u)) {
            report_error(where + "lane " + std::to_string(l) + " reads lane " + std::to_string(src) +
                         ", which is not in the mask (its value is undefined on the device)");
            return false;
          }
          gc.result = g_fibers[base + src].warp.value;
        }
      }
    }
    for (unsigned l = 0; l < (unsigned)kWarpSize; ++l) {
      if ((c.mask >> l) & 1u) g_fibers[base + l].state = State::Ready;
    }
    // __syncwarp orders the memory accesses of the lanes it joins (for the race detector).
    if (c.op == WarpOp::SyncWarp) ++g_warp_gen[warp];
  }
  return true;
}

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
  g_interval = 0;
  std::memset(g_warp_gen, 0, sizeof g_warp_gen);
  race::begin_block();
  if (g_dynamic_shared_bytes) std::memset(dynamic_shared(), 0xff, g_dynamic_shared_bytes);
  for (;;) {
    for (unsigned i = 0; i < nthreads; ++i) {
      const unsigned t = g_order == Order::Forward ? i : nthreads - 1 - i;
      Fiber& f = g_fibers[t];
      if (f.state != State::Ready) continue;
      g_current = &f;
      g_threadIdx = f.tid;
      race::g_pos = race::Position{(uint32_t)g_block_linear, t, g_interval, g_warp_gen[t / kWarpSize]};
      race::g_recording = g_race_detection && g_order == Order::Forward;
      switch_to(f);
      race::g_recording = false;
    }
    g_current = nullptr;
    bool at_warp = false;
    for (unsigned t = 0; t < nthreads && !at_warp; ++t) at_warp = g_fibers[t].state == State::AtWarp;
    if (at_warp) {
      if (!resolve_warps(nthreads)) return false;
      continue;
    }
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
    ++g_interval;
  }
}

}  // namespace

void set_order(Order order) { g_order = order; }
bool race_detection_enabled() { return g_race_detection; }
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
  // Exactly cfg.shmem bytes, 16-byte aligned: AddressSanitizer's redzone starts right after, so an
  // overrun of the dynamic buffer is caught (a kernel launched without any reads past its end).
  g_dynamic_shared_bytes = cfg.shmem;
  g_dynamic_shared = ::operator new(cfg.shmem, std::align_val_t(16));
  race::set_dynamic_shared_range(g_dynamic_shared, cfg.shmem);
  race::begin_launch(cfg.name, cfg.grid, cfg.block);
  for (unsigned long i = 0; i < blocks; ++i) {
    const unsigned long b = g_order == Order::Forward ? i : blocks - 1 - i;
    if (g_skip_last_block && b == blocks - 1) continue;
    g_blockIdx = uint3{(unsigned)(b % cfg.grid.x), (unsigned)(b / cfg.grid.x % cfg.grid.y),
                       (unsigned)(b / ((unsigned long)cfg.grid.x * cfg.grid.y))};
    ++g_block_generation;
    g_block_linear = b;
    if (!run_block(nthreads)) break;
  }
  race::end_launch();
  race::set_dynamic_shared_range(nullptr, 0);
  ::operator delete(g_dynamic_shared, std::align_val_t(16));
  g_dynamic_shared = nullptr;
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

void* shared_static_storage(const void* site, size_t bytes) {
  auto [it, first] = g_shared_generation.emplace(site, SharedSite{});
  SharedSite& shared = it->second;
  if (first) {
    shared.storage = ::operator new(bytes, std::align_val_t(16));
    race::add_shared_range(shared.storage, bytes);
  }
  if (shared.generation != g_block_generation) {
    shared.generation = g_block_generation;
    // All-ones bytes: NaN as float or double, -1 as an integer. Shared memory starts as garbage on
    // the device; a read before a write must not quietly see the previous block's values.
    std::memset(shared.storage, 0xff, bytes);
  }
  return shared.storage;
}

}  // namespace sim

namespace sim {

void* dynamic_shared() { return g_dynamic_shared; }

uint64_t warp_op(WarpOp op, unsigned mask, uint64_t value, int arg, int width, int pred, const char* file, int line) {
  Fiber* f = g_current;
  if (!f) {
    report_error(std::string(op_name(op)) + " called outside a kernel at " + file + ":" + std::to_string(line));
    return value;
  }
  f->warp = WarpCall{op, mask, value, arg, width, pred, 0};
  f->state = State::AtWarp;
  f->file = file;
  f->line = line;
  yield_to_main(*f, false);
  return f->warp.result;
}

}  // namespace sim
