// The core's view of CUDA: device discovery and the backend factory. Implemented in cuda/ when
// the addon is built with nvcc, and by native/core/cuda_absent.cpp otherwise.
#pragma once
#include <string>
#include "frugal.h"
#include "backend.h"

namespace frugal {

// Usable CUDA devices; 0 (with the reason in *why) when built without CUDA, no driver, no GPU.
int cuda_device_count(std::string* why);
// Throws Error(FRUGAL_ERR_DEVICE) for a device that does not exist. Fills usable = 0 and the
// reason for a GPU this build has no code for (older than its lowest architecture).
void cuda_device_info(int ordinal, frugal_device_info* out);
// Streams on a device (cudaStreamNonBlocking). Throw Error on failure.
void* cuda_stream_create(int ordinal);
void cuda_stream_destroy(int ordinal, void* stream);
// Timing events (cudaEvent_t as void*). Throw Error on failure.
void* cuda_event_create(int ordinal);
void cuda_event_record(int ordinal, void* event, void* stream);
float cuda_event_elapsed_ms(int ordinal, void* start, void* end);  // waits for end
void cuda_event_destroy(int ordinal, void* event);
// cuBLAS and cuSOLVER, loaded at run time with dlopen (never needed at build time).
// false too once a handle failed to create for good (the fallbacks are then in use).
bool cuda_math_available(int ordinal);
// In words: the libraries' paths and handles, or why the fallbacks run (frugal_cuda_math_status).
std::string cuda_math_status(int ordinal);

}  // namespace frugal
