// Debug record of which code path ran: the typed or the generic CPU optimizer loops, the GEMM
// micro kernel, the CPU thread pool's size and how many threads ran the optimizer's loops, the
// cuBLAS/cuSOLVER file that loaded. Tests set an
// environment switch (FRUGAL_CPU_GENERIC_LOOPS, FRUGAL_GEMM_KERNEL, FRUGAL_NUM_THREADS,
// FRUGAL_CUBLAS_PATH, FRUGAL_CUSOLVER_PATH) in a child process and read this back through the
// addon's `_debugPaths()`, so they prove the switch changed the path and not only that two runs
// agree. Counts are per dispatch (a few per optimizer step), never per element.
#pragma once
#include <cstdint>
#include <string>

namespace frugal {
namespace debug {

enum Path : int {
  ELEMENTWISE_TYPED,      // elementwise_step: a job run by a typed loop (elementwise_cpu.h)
  ELEMENTWISE_GENERIC,    // elementwise_step: a job run by the generic per-element loop
  INDEXED_PASS1_TYPED,    // indexed_step, decay / state-free pass: typed (indexed_cpu.h)
  INDEXED_PASS1_GENERIC,  // indexed_step, decay / state-free pass: generic
  INDEXED_PASS2_TYPED,    // indexed_step, state-full pass on the selected lines: typed
  INDEXED_PASS2_GENERIC,  // indexed_step, state-full pass on the selected lines: generic
  INDEXED_DUPLICATES,     // indexed_step, state-full pass with repeated lines: the sorted-run loop
                          // (one form, typed or not: each run sums in fp32 and stores once)
  PATH_COUNT
};

// One more dispatch down `path` (relaxed atomic).
void count_path(Path path);
uint64_t path_count(Path path);
// The JS-facing name of `path` (camelCase).
const char* path_name(Path path);
// Zeroes the counts, loop_threads() included.
void reset_path_counts();

// The calling thread ran a chunk of an optimizer loop (parallel_for). loop_threads() is how many
// distinct threads have since the last reset: with the persistent pool at most its size, however
// many steps ran (threads started per call would each count anew).
void note_loop_thread();
int loop_threads();

// Facts recorded when they are decided (once per process, the pool size at each resize).
struct PathNotes {
  std::string gemm_requested;  // FRUGAL_GEMM_KERNEL as read ("" when unset)
  std::string gemm_kernel;     // the micro kernel chosen ("" until the first GEMM)
  std::string gemm_note;       // why the choice differs from the request ("" when it does not)
  int pool_threads = 0;        // the CPU thread pool's size (0 until it is first used or sized)
  std::string cublas_path;     // the candidate dlopen accepted ("" until loaded)
  std::string cusolver_path;
};
PathNotes path_notes();
void note_gemm_kernel(const std::string& requested, const std::string& chosen, const std::string& note);
void note_pool_threads(int threads);
// `env_var` is the override variable of the library (FRUGAL_CUBLAS_PATH or FRUGAL_CUSOLVER_PATH).
void note_math_library(const char* env_var, const std::string& path);

}  // namespace debug
}  // namespace frugal
