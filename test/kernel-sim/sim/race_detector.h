// Internal interface between the scheduler (which knows which thread runs, and in which barrier
// interval) and the race detector (which records the memory accesses of translated kernels).
#pragma once
#include <cuda_runtime.h>
#include <cstddef>
#include <cstdint>

namespace sim::race {

// Where the running thread is: its block and thread (linear), the block's barrier interval (how
// many __syncthreads the block has passed) and its warp's __syncwarp generation.
struct Position {
  uint32_t block;
  uint32_t thread;
  uint32_t interval;
  uint32_t warp_gen;
};

// True only while a kernel thread runs with detection on: every access callback checks it first.
extern bool g_recording;
extern Position g_pos;

void begin_launch(const char* kernel, dim3 grid, dim3 block);
void begin_block();  // a block's shared memory is fresh: forget its accesses
void end_launch();   // reports the launch's races (the first few, and how many)
// Shared memory (static arrays and the dynamic buffer): accesses there are checked per block.
void add_shared_range(const void* p, size_t bytes);
bool is_shared_address(const void* p);
void set_dynamic_shared_range(const void* p, size_t bytes);  // the launch's extern __shared__ buffer
// The fibers' stacks: accesses there are a thread's own locals and never recorded.
void set_stack_range(const void* lo, const void* hi);

}  // namespace sim::race
