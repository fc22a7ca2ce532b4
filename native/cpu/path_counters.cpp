#include "path_counters.h"

#include <atomic>
#include <cstring>
#include <mutex>

namespace frugal {
namespace debug {
namespace {

std::atomic<uint64_t> g_counts[PATH_COUNT];
// A thread counts once per generation; a reset starts a new one.
std::atomic<uint64_t> g_loop_generation{1};
std::atomic<int> g_loop_threads{0};
std::mutex g_notes_mutex;
PathNotes g_notes;

}  // namespace

void count_path(Path path) { g_counts[path].fetch_add(1, std::memory_order_relaxed); }

uint64_t path_count(Path path) { return g_counts[path].load(std::memory_order_relaxed); }

const char* path_name(Path path) {
  switch (path) {
    case ELEMENTWISE_TYPED: return "elementwiseTyped";
    case ELEMENTWISE_GENERIC: return "elementwiseGeneric";
    case INDEXED_PASS1_TYPED: return "indexedPass1Typed";
    case INDEXED_PASS1_GENERIC: return "indexedPass1Generic";
    case INDEXED_PASS2_TYPED: return "indexedPass2Typed";
    case INDEXED_PASS2_GENERIC: return "indexedPass2Generic";
    case INDEXED_DUPLICATES: return "indexedDuplicates";
    default: return "unknown";
  }
}

void reset_path_counts() {
  for (auto& c : g_counts) c.store(0, std::memory_order_relaxed);
  g_loop_generation.fetch_add(1);
  g_loop_threads.store(0);
}

void note_loop_thread() {
  thread_local uint64_t seen = 0;
  const uint64_t generation = g_loop_generation.load(std::memory_order_relaxed);
  if (seen == generation) return;
  seen = generation;
  g_loop_threads.fetch_add(1, std::memory_order_relaxed);
}

int loop_threads() { return g_loop_threads.load(std::memory_order_relaxed); }

PathNotes path_notes() {
  std::lock_guard<std::mutex> lock(g_notes_mutex);
  return g_notes;
}

void note_gemm_kernel(const std::string& requested, const std::string& chosen, const std::string& note) {
  std::lock_guard<std::mutex> lock(g_notes_mutex);
  g_notes.gemm_requested = requested;
  g_notes.gemm_kernel = chosen;
  g_notes.gemm_note = note;
}

void note_pool_threads(int threads) {
  std::lock_guard<std::mutex> lock(g_notes_mutex);
  g_notes.pool_threads = threads;
}

void note_math_library(const char* env_var, const std::string& path) {
  std::lock_guard<std::mutex> lock(g_notes_mutex);
  if (std::strcmp(env_var, "FRUGAL_CUBLAS_PATH") == 0)
    g_notes.cublas_path = path;
  else
    g_notes.cusolver_path = path;
}

}  // namespace debug
}  // namespace frugal
