// The CPU backend's ModelBackend: every op of FRUGAL_MODEL_OPS routed to its cpu_<op> function.
// The stream is ignored: CPU calls are synchronous.
#include "cpu_model_ops.h"

namespace frugal {
namespace model {
namespace {

class CpuModelBackend final : public ModelBackend {
 public:
  bool buffers_on_host() const override { return true; }

#define FRUGAL_CPU_MODEL_ADAPTER(name, params, args) \
  void name(FRUGAL_UNPAREN params, StreamHandle) override { cpu_##name args; }
  FRUGAL_MODEL_OPS(FRUGAL_CPU_MODEL_ADAPTER)
#undef FRUGAL_CPU_MODEL_ADAPTER
};

}  // namespace
}  // namespace model

model::ModelBackend* cpu_model_backend() {
  static model::CpuModelBackend backend;
  return &backend;
}

}  // namespace frugal
