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

// What cudaGetDeviceProperties / cudaDeviceGetAttribute report for every device (default 9.0).
void set_compute_capability(int major, int minor);
// cudaDriverGetVersion's answer (CUDA version the driver supports, e.g. 12040; 0: no driver).
void set_driver_version(int version);
// Whether devices report cudaDevAttrMemoryPoolsSupported (default yes).
void set_memory_pools(bool supported);
// The release threshold last set on `device`'s default pool (kThresholdNeverSet when never set),
// and how many times a default pool was trimmed.
constexpr unsigned long long kThresholdNeverSet = ~0ull - 1;
unsigned long long pool_release_threshold(int device);
int pool_trims();

// Hold mode: host-to-device cudaMemcpyAsync is not performed when called but queued, as a DMA the
// engine has not reached yet; it reads the source when it "runs": at the next synchronization
// (stream, device, event) or complete_transfers(). An event recorded after queued copies is not
// ready (cudaEventQuery: cudaErrorNotReady, recorded as the last error like the real runtime)
// until they ran. Off (the default): copies happen at once and every recorded event is ready.
void hold_transfers(bool on);
void complete_transfers();
int queued_transfers();

// Pinned host memory (cudaHostAlloc): live allocations, and how many were ever freed.
int live_pinned();
int pinned_frees();

}  // namespace sim::fake_device

namespace sim {
// Called by every runtime call that orders work (synchronizations, other copies, memsets): runs
// the queued host-to-device copies first, in order (sim/cuda_runtime_stubs.cpp).
void run_queued_transfers();
// Queues a host-to-device copy in hold mode; false when not holding (copy now).
bool queue_transfer(void* dst, const void* src, size_t bytes);
}  // namespace sim
