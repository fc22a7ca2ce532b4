// The registry: maps a device id (FRUGAL_CPU or a CUDA ordinal) to its backend, for the
// optimizer's arithmetic (backend.h) and the model ops (model_backend.h) alike, with the checks
// every entry point needs: the device exists, the build has the backend.
#pragma once
#include <string>
#include "backend.h"

namespace frugal {
namespace model {
class ModelBackend;
}

Backend* backend_for(int device);                    // throws Error(DEVICE / UNSUPPORTED) with a clear message
model::ModelBackend* model_backend_for(int device);  // the same checks and messages
std::string device_name(int device);                 // "cpu" or "cuda:N"
void check_device(int device);

}  // namespace frugal
