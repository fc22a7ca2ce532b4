// The fake device that sim/fake_device_runtime.cpp presents to cuda/cuda_backend.cu's host glue
// (discovery, device switching, streams, events, allocation failure), so its logic runs in the
// simulator build: what it asks the runtime, and what it does with each answer.
#pragma once
#include <cuda_runtime.h>
#include <cstddef>

namespace sim::fake_device {

// count devices, or (init_error != cudaSuccess) a runtime that fails to initialize with it.
void configure(int count, cudaError_t init_error = cudaSuccess);
// cudaMalloc of more than `bytes` fails with cudaErrorMemoryAllocation (SIZE_MAX: never).
void set_alloc_limit(size_t bytes);
size_t alloc_limit();
int current_device();
int live_streams();
int live_events();

}  // namespace sim::fake_device
