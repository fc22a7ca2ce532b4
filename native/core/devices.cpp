#include "devices.h"
#include "cuda_api.h"
#include "errors.h"
#include "model_backend.h"

namespace frugal {

namespace {

// Every backend, registered here and nowhere else: the device ids it serves and where its
// optimizer arithmetic and model ops come from. A factory returns nullptr, with the reason, for a
// device it cannot run on. CUDA's factories are cuda/'s, or core/cuda_absent.cpp's in a build
// without nvcc.
struct Registration {
  bool (*serves)(int device);
  Backend* (*optimizer)(int device, std::string* why);
  model::ModelBackend* (*model)(int device, std::string* why);
};

const Registration kRegistry[] = {
    {[](int device) { return device == FRUGAL_CPU; }, [](int, std::string*) { return cpu_backend(); },
     [](int, std::string*) { return cpu_model_backend(); }},
    {[](int device) { return device >= 0; }, cuda_backend, cuda_model_backend},
};

const Registration& registration_for(int device) {
  check_device(device);
  for (const Registration& r : kRegistry)
    if (r.serves(device)) return r;
  fail(FRUGAL_ERR_DEVICE, "device: no backend serves " + device_name(device));
}

template <typename T>
T* usable(T* backend, int device, const std::string& why) {
  if (!backend) fail(FRUGAL_ERR_DEVICE, "device: " + device_name(device) + " is not usable: " + why);
  return backend;
}

}  // namespace

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
  std::string why;
  return usable(registration_for(device).optimizer(device, &why), device, why);
}

model::ModelBackend* model_backend_for(int device) {
  std::string why;
  return usable(registration_for(device).model(device, &why), device, why);
}

}  // namespace frugal
