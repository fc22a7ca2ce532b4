// CUDA entry points for builds without nvcc: no devices, and a reason that says how to get them.
#include "cuda_api.h"
#include "errors.h"
#include "model_backend.h"

namespace frugal {

// The fix as lib/missing-cuda.ts states it (CUDA_BACKEND_FIX); the build looks for nvcc as
// scripts/find-nvcc.js says.
static const char* kNoCuda =
    "frugal-optim was built without CUDA (nvcc was not found at build time); install the CUDA toolkit (12.1 or "
    "newer), set CUDA_HOME to it (or put its bin/ on PATH) and run `npm rebuild frugal-optim`";

int cuda_device_count(std::string* why) {
  if (why) *why = kNoCuda;
  return 0;
}
void cuda_device_info(int ordinal, frugal_device_info*) {
  fail(FRUGAL_ERR_UNSUPPORTED, "device: cuda:" + std::to_string(ordinal) + " does not exist: " + kNoCuda);
}
void* cuda_stream_create(int) { fail(FRUGAL_ERR_UNSUPPORTED, std::string("stream: ") + kNoCuda); }
void cuda_stream_destroy(int, void*) { fail(FRUGAL_ERR_UNSUPPORTED, std::string("stream: ") + kNoCuda); }
bool cuda_math_available(int) { return false; }
std::string cuda_math_status(int ordinal) {
  return "device: cuda:" + std::to_string(ordinal) + " does not exist: " + kNoCuda;
}
void* cuda_event_create(int) { fail(FRUGAL_ERR_UNSUPPORTED, std::string("event: ") + kNoCuda); }
void cuda_event_record(int, void*, void*) { fail(FRUGAL_ERR_UNSUPPORTED, std::string("event: ") + kNoCuda); }
float cuda_event_elapsed_ms(int, void*, void*) { fail(FRUGAL_ERR_UNSUPPORTED, std::string("event: ") + kNoCuda); }
void cuda_event_destroy(int, void*) { fail(FRUGAL_ERR_UNSUPPORTED, std::string("event: ") + kNoCuda); }
Backend* cuda_backend(int, std::string* why) {
  if (why) *why = kNoCuda;
  return nullptr;
}
model::ModelBackend* cuda_model_backend(int, std::string* why) {
  if (why) *why = kNoCuda;
  return nullptr;
}

}  // namespace frugal
