// The device registry of the model kernels' simulator (test/model-kernel-sim.test.ts), in place
// of native/core/devices.cpp: device 0 is the simulated GPU. The model launchers lease their
// device scratch from the real workspace pool (native/core/workspace_pool.cpp), which allocates
// through the real ledger (native/core/memory.cpp); both reach the device through backend_for,
// so this backend gives them the simulator's memory (cudaMalloc / cudaFree of kernel-sim's
// runtime, where every kernel access is bounds-checked). Nothing else of a backend is simulated
// here: the optimizer's arithmetic is test/kernel-sim's, on the real CUDA backend.
#include <cuda_runtime.h>

#include <string>

#include "core/backend.h"
#include "core/devices.h"
#include "core/errors.h"

namespace frugal {
namespace {

[[noreturn]] void not_simulated(const char* what) {
  fail(FRUGAL_ERR_UNSUPPORTED, std::string("model-kernel-sim: Backend::") + what + " is not simulated");
}

class SimulatedGpuMemory : public Backend {
 public:
  const char* name() const override { return "simulated cuda:0 (memory only)"; }
  bool is_cuda() const override { return true; }
  void* alloc(size_t bytes) override {
    void* p = nullptr;
    return cudaMalloc(&p, bytes) == cudaSuccess ? p : nullptr;
  }
  void release(void* ptr) override { cudaFree(ptr); }
  void synchronize(StreamHandle) override { cudaDeviceSynchronize(); }
  void synchronize_device() override { cudaDeviceSynchronize(); }

  void zero(void*, size_t, StreamHandle) override { not_simulated("zero"); }
  void copy_from_host(void*, const void*, size_t, StreamHandle) override { not_simulated("copy_from_host"); }
  void copy_to_host(void*, const void*, size_t, StreamHandle) override { not_simulated("copy_to_host"); }
  void copy_within(void*, const void*, size_t, StreamHandle) override { not_simulated("copy_within"); }
  void fill(void*, int32_t, int64_t, float, StreamHandle) override { not_simulated("fill"); }
  void random(void*, int32_t, int64_t, int32_t, uint64_t, float, float, StreamHandle) override {
    not_simulated("random");
  }
  void cast(const void*, int32_t, void*, int32_t, int64_t, StreamHandle) override { not_simulated("cast"); }
  void elementwise_step(const ElementwiseJob*, size_t, const float*, StreamHandle) override {
    not_simulated("elementwise_step");
  }
  void indexed_step(const IndexedJob&, const float*, StreamHandle) override { not_simulated("indexed_step"); }
  void compressed_direction(float*, void*, void*, int32_t, int64_t, const RuleScalars&, const float*,
                            StreamHandle) override {
    not_simulated("compressed_direction");
  }
  void dense_apply(const DenseApplyJob&, const float*, StreamHandle) override { not_simulated("dense_apply"); }
  void gemm(const GemmArgs&, StreamHandle) override { not_simulated("gemm"); }
  void to_f32_scaled(const void*, int32_t, float*, int64_t, const float*, StreamHandle) override {
    not_simulated("to_f32_scaled");
  }
  void sum_squares(const void* const*, const int32_t*, const int64_t*, size_t, double*, StreamHandle) override {
    not_simulated("sum_squares");
  }
  void step_scalars(const double*, float, int32_t, float*, int64_t*, StreamHandle) override {
    not_simulated("step_scalars");
  }
  void line_norms(const void*, int32_t, int64_t, int64_t, int32_t, float*, StreamHandle) override {
    not_simulated("line_norms");
  }
};

}  // namespace

std::string device_name(int device) { return device == FRUGAL_CPU ? "cpu" : "cuda:" + std::to_string(device); }

Backend* backend_for(int device) {
  static SimulatedGpuMemory gpu;
  if (device != 0)
    fail(FRUGAL_ERR_DEVICE, "model-kernel-sim: only " + device_name(0) + " is simulated, not " + device_name(device));
  return &gpu;
}

}  // namespace frugal
