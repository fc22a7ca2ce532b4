// The race detector. The scheduler runs each thread of a block alone from one barrier to the next,
// so two threads that read-modify-write one address in the same barrier interval still give the
// "right" answer here, while on a GPU they lose an update. This file finds such pairs instead of
// hoping a run order exposes them: it records the non-atomic loads and stores of translated kernels
// and reports two accesses to the same memory by different threads, at least one a write, that
// nothing orders:
//   - shared memory: the same block, the same barrier interval (no __syncthreads between), and not
//     two lanes of one warp separated by a __syncwarp;
//   - global memory: as for shared memory within a block, and any two blocks of the launch (blocks
//     never synchronize with each other inside a launch).
// Atomics (sim/atomics.cpp) and a thread's own stack are not recorded.
//
// How accesses are seen: build.js compiles the translated kernel units with GCC's ThreadSanitizer
// instrumentation (race_flags.js) but links no TSan runtime: every load and store the compiler
// emits calls __tsan_read4(addr), __tsan_write16(addr), ... and the definitions below record it,
// then do AddressSanitizer's check through its public interface (those units cannot also have
// ASan's inline checks; AddressSanitizer's own callback mode would not do: it checks a
// read-modify-write's address once, so the store of a lost update would go unseen). The kernels'
// sources stay as they are: any pointer, cast or float4 access is seen, as the compiler sees it.
//
// Per memory unit (2 bytes, the smallest element the kernels store) the shadow keeps the last
// write and up to two reads since it: enough to catch a lost update (read, then write, by two
// threads) and write/write and read/write pairs; like any detector with bounded history it can
// miss a race whose evidence it overwrote, but whatever it reports is a real unordered pair.
#include "race_detector.h"
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>
#include "sim_runtime.h"

namespace sim::race {

bool g_recording = false;
Position g_pos{};

namespace {

constexpr uint32_t kNone = UINT32_MAX;
struct Cell {
  Position write{kNone, 0, 0, 0};
  Position read[2] = {{kNone, 0, 0, 0}, {kNone, 0, 0, 0}};
};

struct Range {
  const char* lo;
  size_t bytes;
};

const char* g_kernel = "";
dim3 g_grid, g_block;
const char* g_stack_lo = nullptr;
const char* g_stack_hi = nullptr;
std::vector<Range> g_shared;      // static __shared__ arrays (addresses stay valid for the process)
Range g_dynamic{nullptr, 0};      // the launch's extern __shared__ buffer
Range g_last_global{nullptr, 0};  // the device allocation of the last global access (a cache)
std::unordered_map<uintptr_t, Cell> g_global_cells, g_shared_cells;
long g_races = 0;
std::string g_first_race;

bool in(const Range& r, const char* p) { return p >= r.lo && p < r.lo + r.bytes; }

// Whether prev and g_pos are unordered accesses of different threads.
bool concurrent(const Position& prev) {
  if (prev.block == kNone) return false;
  const Position& cur = g_pos;
  if (prev.block != cur.block) return true;  // only global cells outlive a block
  if (prev.thread == cur.thread || prev.interval != cur.interval) return false;
  return !(prev.thread / 32 == cur.thread / 32 && prev.warp_gen != cur.warp_gen);
}

std::string coords(uint32_t linear, dim3 shape) {
  return "(" + std::to_string(linear % shape.x) + "," + std::to_string(linear / shape.x % shape.y) + "," +
         std::to_string(linear / (shape.x * shape.y)) + ")";
}

std::string who(const Position& p) {
  return "block " + coords(p.block, g_grid) + " thread " + coords(p.thread, g_block);
}

void found(const char* kind, const Position& prev, const char* space, const Range& where, const char* addr) {
  if (g_races++ > 0) return;
  char at[64];
  std::snprintf(at, sizeof at, "%p", static_cast<const void*>(addr));
  const bool same_block = prev.block == g_pos.block;
  g_first_race = std::string(g_kernel) + ": data race (" + kind + ") on " + space + " memory at " + at + " (byte " +
                 std::to_string(addr - where.lo) + " of a " + std::to_string(where.bytes) + "-byte " +
                 (space[0] == 's' ? "shared array" : "device allocation") + ") between " + who(prev) + " and " +
                 who(g_pos) +
                 (same_block ? ", in the same barrier interval (no __syncthreads between them)"
                             : " (blocks of one launch are not ordered)");
}

void record(const void* p, size_t size, bool write) {
  const char* a = static_cast<const char*>(p);
  if (a >= g_stack_lo && a < g_stack_hi) return;  // the thread's own locals
  const char* space;
  Range where;
  std::unordered_map<uintptr_t, Cell>* cells;
  if (in(g_dynamic, a)) {
    space = "shared", where = g_dynamic, cells = &g_shared_cells;
  } else {
    cells = nullptr;
    for (const Range& r : g_shared) {
      if (in(r, a)) {
        space = "shared", where = r, cells = &g_shared_cells;
        break;
      }
    }
    if (!cells) {
      if (!in(g_last_global, a)) {
        const char* base;
        size_t bytes;
        if (!find_device_allocation(a, &base, &bytes)) return;  // host memory: not the detector's business
        g_last_global = Range{base, bytes};
      }
      space = "global", where = g_last_global, cells = &g_global_cells;
    }
  }
  const uintptr_t first = reinterpret_cast<uintptr_t>(a) >> 1, last = (reinterpret_cast<uintptr_t>(a) + size - 1) >> 1;
  bool reported = false;
  auto race = [&](const char* kind, const Position& prev) {
    if (reported) return;
    reported = true;
    found(kind, prev, space, where, a);
  };
  for (uintptr_t unit = first; unit <= last; ++unit) {
    Cell& c = (*cells)[unit];
    if (write) {
      if (concurrent(c.write)) race("write-write", c.write);
      for (const Position& r : c.read) {
        if (concurrent(r)) race("read-write", r);
      }
      c.write = g_pos;
      c.read[0].block = c.read[1].block = kNone;
    } else {
      if (concurrent(c.write)) race("write-read", c.write);
      Position* slot = &c.read[1];
      for (Position& r : c.read) {
        if (r.block == kNone || (r.block == g_pos.block && r.thread == g_pos.thread)) {
          slot = &r;
          break;
        }
      }
      *slot = g_pos;
    }
  }
}

}  // namespace

void begin_launch(const char* kernel, dim3 grid, dim3 block) {
  g_kernel = kernel;
  g_grid = grid;
  g_block = block;
  g_global_cells.clear();
  g_shared_cells.clear();
  g_last_global = Range{nullptr, 0};
  g_races = 0;
}

void begin_block() {
  if (!g_shared_cells.empty()) g_shared_cells.clear();
}

void end_launch() {
  if (g_races > 0) {
    report_error(g_first_race + "; " + std::to_string(g_races) + " racing access" + (g_races > 1 ? "es" : "") +
                 " in this launch");
  }
  g_global_cells.clear();
  g_shared_cells.clear();
  g_races = 0;
  // Device memory may be freed and reallocated before the next launch.
  g_last_global = Range{nullptr, 0};
}

void add_shared_range(const void* p, size_t bytes) { g_shared.push_back(Range{static_cast<const char*>(p), bytes}); }
bool is_shared_address(const void* p) {
  const char* a = static_cast<const char*>(p);
  if (in(g_dynamic, a)) return true;
  for (const Range& r : g_shared) {
    if (in(r, a)) return true;
  }
  return false;
}
void set_dynamic_shared_range(const void* p, size_t bytes) { g_dynamic = Range{static_cast<const char*>(p), bytes}; }
void set_stack_range(const void* lo, const void* hi) {
  g_stack_lo = static_cast<const char*>(lo);
  g_stack_hi = static_cast<const char*>(hi);
}

}  // namespace sim::race

namespace {
bool g_instrumented = false;  // set by an instrumented unit's constructor (__tsan_init)
}

bool sim::race_detection_instrumented() { return g_instrumented; }

// The access callbacks. Names and signatures are GCC's ThreadSanitizer ABI; no TSan runtime is
// linked, these are the only definitions.
extern "C" {
__attribute__((weak)) void* __asan_region_is_poisoned(void* p, size_t size);
__attribute__((weak)) void __asan_report_error(void* pc, void* bp, void* sp, void* addr, int is_write, size_t size);
}

namespace {

inline void access(void* p, size_t size, bool write, void* pc) {
  if (sim::race::g_recording) sim::race::record(p, size, write);
  // AddressSanitizer's check, which the kernel units (compiled for these callbacks instead) lack:
  // device and shared memory are heap allocations with redzones, so an out-of-bounds index into
  // them is still caught (when the build has libasan).
  if (__asan_region_is_poisoned && __asan_region_is_poisoned(p, size)) {
    __asan_report_error(pc, __builtin_frame_address(0), __builtin_frame_address(0), p, write, size);
  }
}

}  // namespace

#define KERNEL_SIM_CALLBACKS(size)                                                                              \
  extern "C" void __tsan_read##size(void* p) { access(p, size, false, __builtin_return_address(0)); }           \
  extern "C" void __tsan_write##size(void* p) { access(p, size, true, __builtin_return_address(0)); }           \
  extern "C" void __tsan_unaligned_read##size(void* p) { access(p, size, false, __builtin_return_address(0)); } \
  extern "C" void __tsan_unaligned_write##size(void* p) { access(p, size, true, __builtin_return_address(0)); }
KERNEL_SIM_CALLBACKS(1)
KERNEL_SIM_CALLBACKS(2)
KERNEL_SIM_CALLBACKS(4)
KERNEL_SIM_CALLBACKS(8)
KERNEL_SIM_CALLBACKS(16)
#undef KERNEL_SIM_CALLBACKS
extern "C" void __tsan_read_range(void* p, size_t n) { access(p, n, false, __builtin_return_address(0)); }
extern "C" void __tsan_write_range(void* p, size_t n) { access(p, n, true, __builtin_return_address(0)); }
// The rest of the ABI the compiler emits: function entry/exit (TSan's stack traces), vtable
// pointer accesses, start-up. Nothing to do for them here.
extern "C" void __tsan_init() { g_instrumented = true; }
extern "C" void __tsan_func_entry(void*) {}
extern "C" void __tsan_func_exit() {}
extern "C" void __tsan_vptr_update(void**, void*) {}
extern "C" void __tsan_vptr_read(void**) {}
// Atomic operations in instrumented units (e.g. the guard of a function-local static): done as
// they are, with the strongest order (there is one OS thread, so the order cannot matter).
#define KERNEL_SIM_TSAN_ATOMICS(bits, T)                                                                             \
  extern "C" T __tsan_atomic##bits##_load(const volatile T* a, int) { return __atomic_load_n(a, __ATOMIC_SEQ_CST); } \
  extern "C" void __tsan_atomic##bits##_store(volatile T* a, T v, int) { __atomic_store_n(a, v, __ATOMIC_SEQ_CST); }
KERNEL_SIM_TSAN_ATOMICS(8, unsigned char)
KERNEL_SIM_TSAN_ATOMICS(16, unsigned short)
KERNEL_SIM_TSAN_ATOMICS(32, unsigned int)
KERNEL_SIM_TSAN_ATOMICS(64, unsigned long long)
#undef KERNEL_SIM_TSAN_ATOMICS
