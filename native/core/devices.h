// Maps a device id (FRUGAL_CPU or a CUDA ordinal) to its backend, with the checks every entry
// point needs: the device exists, the build has the backend.
#pragma once
#include <string>
#include "backend.h"

namespace frugal {

Backend* backend_for(int device);   // throws Error(DEVICE / UNSUPPORTED) with a clear message
std::string device_name(int device);  // "cpu" or "cuda:N"
void check_device(int device);

}  // namespace frugal
