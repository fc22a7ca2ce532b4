// The CUDA backend's ModelBackend: one per device, every op of FRUGAL_MODEL_OPS routed to its
// launcher (model_cuda.h) with the device ordinal and the stream.
#include <map>
#include <mutex>
#include <string>

#include "model_cuda.h"

namespace frugal {
namespace model {
namespace {

class CudaModelBackend final : public ModelBackend {
 public:
  explicit CudaModelBackend(int device) : device_(device) {}
  bool buffers_on_host() const override { return false; }

#define FRUGAL_CUDA_MODEL_ADAPTER(name, params, args)              \
  void name(FRUGAL_UNPAREN params, StreamHandle stream) override { \
    cuda_ops::name(device_, FRUGAL_UNPAREN args, stream);          \
  }
  FRUGAL_MODEL_OPS(FRUGAL_CUDA_MODEL_ADAPTER)
#undef FRUGAL_CUDA_MODEL_ADAPTER

 private:
  int device_;
};

}  // namespace
}  // namespace model

// Usable exactly where the optimizer's backend is (cuda_backend.cu decides); kept for the process.
model::ModelBackend* cuda_model_backend(int ordinal, std::string* why) {
  if (!cuda_backend(ordinal, why)) return nullptr;
  static std::mutex mutex;
  static auto* backends = new std::map<int, model::ModelBackend*>();  // never destroyed: used at exit
  std::lock_guard<std::mutex> lock(mutex);
  model::ModelBackend*& b = (*backends)[ordinal];
  if (!b) b = new model::CudaModelBackend(ordinal);
  return b;
}

}  // namespace frugal
