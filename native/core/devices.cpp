#include "devices.h"
#include "cuda_api.h"
#include "errors.h"

namespace frugal {

std::string device_name(int device) { return device == FRUGAL_CPU ? "cpu" : "cuda:" + std::to_string(device); }

void check_device(int device) {
  if (device == FRUGAL_CPU) return;
  if (device < 0) invalid("device: expected -1 (cpu) or a CUDA ordinal >= 0, got " + std::to_string(device));
  std::string why;
  int n = cuda_device_count(&why);
  if (device >= n) {
    fail(n == 0 ? FRUGAL_ERR_UNSUPPORTED : FRUGAL_ERR_DEVICE,
         "device: " + device_name(device) + " does not exist (" + std::to_string(n) + " CUDA device" +
             (n == 1 ? "" : "s") + (why.empty() ? "" : ": " + why) + ")");
  }
}

Backend* backend_for(int device) {
  if (device == FRUGAL_CPU) return cpu_backend();
  check_device(device);
  std::string why;
  Backend* b = cuda_backend(device, &why);
  if (!b) fail(FRUGAL_ERR_DEVICE, "device: " + device_name(device) + " is not usable: " + why);
  return b;
}

}  // namespace frugal
