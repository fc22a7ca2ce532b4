// The registry (native/core/devices.cpp) names every backend's model ops. This simulator checks
// the optimizer's kernels only (cuda/model/ runs in test/model-kernel-sim.test.ts, against the CPU
// model ops), so here no device has model ops, and a check that asked for them would be told so.
#include <string>
#include "core/model_backend.h"

namespace frugal {

static const char* kNotSimulated =
    "the kernel simulator runs the optimizer's kernels only (model ops: model-kernel-sim)";

model::ModelBackend* cpu_model_backend() { return nullptr; }

model::ModelBackend* cuda_model_backend(int, std::string* why) {
  if (why) *why = kNotSimulated;
  return nullptr;
}

}  // namespace frugal
