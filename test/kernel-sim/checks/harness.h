// What every check uses: a tally of passed / failed checks, twin buffers (the same bytes for the
// CPU reference and for the simulated kernels), byte-exact comparison, and a wrapper that turns
// exceptions and simulator findings into failures.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>
#include "core/backend.h"
#include "device_env.cuh"
#include "math/dtype_convert.h"
#include "sim_runtime.h"

namespace ks {

using namespace frugal;

struct Tally {
  long passed = 0, failed = 0;
  bool quiet = false;  // self-checks expect failures and count them without printing
};
Tally& tally();
void record(bool ok, const std::string& what, const std::string& detail = "");

// A group of checks must change at least one output: comparing untouched buffers proves nothing.
void begin_group(const char* name);
void end_group();

std::mt19937& rng();
float uniform(float lo, float hi);

// The same bytes in host memory (for the CPU backend) and in a simulated device allocation (for
// the kernels), each exactly offset + bytes long, the data starting `offset` bytes in (misaligned
// on purpose when offset is not a multiple of 16).
class Twin {
 public:
  Twin() = default;
  Twin(size_t bytes, size_t offset);
  Twin(Twin&& other) noexcept;
  Twin& operator=(Twin&& other) noexcept;
  Twin(const Twin&) = delete;
  Twin& operator=(const Twin&) = delete;
  ~Twin();

  void* cpu() { return host_.empty() ? nullptr : host_.data() + offset_; }
  void* dev() { return dev_ ? dev_ + offset_ : nullptr; }
  template <class T>
  T* cpu_as() {
    return static_cast<T*>(cpu());
  }
  template <class T>
  T* dev_as() {
    return static_cast<T*>(dev());
  }
  // After filling the host side: the device side and the "before" snapshot get the same bytes.
  void publish();
  size_t total_bytes() const { return host_.size(); }
  const uint8_t* host_bytes() const { return host_.data(); }
  const uint8_t* dev_bytes() const { return dev_; }
  const uint8_t* initial_bytes() const { return initial_.data(); }
  size_t offset() const { return offset_; }

 private:
  std::vector<uint8_t> host_, initial_;
  uint8_t* dev_ = nullptr;
  size_t offset_ = 0;
};

// n random elements of dtype in [lo, hi) (integers for I32), published.
Twin random_twin(int32_t dtype, int64_t n, float lo, float hi, size_t offset = 0);
template <class T>
Twin vector_twin(const std::vector<T>& values) {
  Twin t(sizeof(T) * values.size(), 0);
  if (!values.empty()) std::copy(values.begin(), values.end(), t.cpu_as<T>());
  t.publish();
  return t;
}
Twin scalar_twin(float value);

// Byte-exact comparison of the CPU and device sides (padding included). dtype, when given, is
// used to print the first differing element.
void compare(const std::string& what, const Twin& t, int32_t dtype = -1);

// Runs fn (a launcher call), recording a failure for an exception or anything the simulator
// reported meanwhile, and clearing the sticky CUDA error.
void run_device_impl(const std::string& what, void (*fn)(void*), void* ctx);
template <class F>
void run_device(const std::string& what, F&& fn) {
  run_device_impl(
      what, [](void* f) { (*static_cast<F*>(f))(); }, &fn);
}

cuda::DeviceEnv env(int sm_count);

RuleScalars adam(float lr = 1e-2f);
RuleScalars sgdm(bool first_step, bool nesterov, float momentum = 0.9f, float l2 = 0.01f);
RuleScalars lion(float beta1 = 0.9f, float beta2 = 0.99f);
RuleScalars simple_rule(int32_t rule, float l2 = 0.01f);
const char* dtype_name(int32_t dtype);
const char* rule_name(int32_t rule);

}  // namespace ks
