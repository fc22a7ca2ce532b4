#include "harness.h"

#include <cuda_runtime.h>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>

namespace ks {

namespace {
Tally g_tally;
const char* g_group = nullptr;
bool g_group_changed = false;
long g_printed = 0;
constexpr long kMaxPrinted = 60;  // failures printed in full; the count is always exact
}  // namespace

Tally& tally() { return g_tally; }

void record(bool ok, const std::string& what, const std::string& detail) {
  if (ok) {
    ++g_tally.passed;
    return;
  }
  ++g_tally.failed;
  if (!g_tally.quiet && g_printed++ < kMaxPrinted) {
    std::printf("FAIL %s%s%s\n", what.c_str(), detail.empty() ? "" : ": ", detail.c_str());
  }
}

void begin_group(const char* name) {
  g_group = name;
  g_group_changed = false;
}

void end_group() {
  record(g_group_changed, std::string(g_group) + ": the kernels changed their outputs (comparisons are not vacuous)");
  g_group = nullptr;
}

std::mt19937& rng() {
  static std::mt19937 engine(12345);
  return engine;
}

float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng()); }

Twin::Twin(size_t bytes, size_t offset)
    : host_(offset + bytes, 0), dev_(static_cast<uint8_t*>(sim::device_malloc(offset + bytes))), offset_(offset) {
  std::memset(dev_, 0, offset + bytes);
}

Twin::Twin(Twin&& other) noexcept { *this = std::move(other); }

Twin& Twin::operator=(Twin&& other) noexcept {
  if (this != &other) {
    sim::device_free(dev_);
    host_ = std::move(other.host_);
    initial_ = std::move(other.initial_);
    dev_ = other.dev_;
    offset_ = other.offset_;
    other.dev_ = nullptr;
  }
  return *this;
}

Twin::~Twin() { sim::device_free(dev_); }

void Twin::publish() {
  if (!host_.empty()) std::memcpy(dev_, host_.data(), host_.size());
  initial_ = host_;
}

Twin random_twin(int32_t dtype, int64_t n, float lo, float hi, size_t offset) {
  Twin t((size_t)dtype_size(dtype) * (size_t)n, offset);
  for (int64_t i = 0; i < n; ++i) {
    const float x = uniform(lo, hi);
    store_elem(t.cpu(), dtype, i, dtype == I32 ? std::floor(x) : x);
  }
  t.publish();
  return t;
}

Twin scalar_twin(float value) { return vector_twin(std::vector<float>{value}); }

void compare(const std::string& what, const Twin& t, int32_t dtype) {
  const size_t n = t.total_bytes();
  if (n > 0 && std::memcmp(t.host_bytes(), t.initial_bytes(), n) != 0) g_group_changed = true;
  if (n == 0 || std::memcmp(t.host_bytes(), t.dev_bytes(), n) == 0) {
    record(true, what);
    return;
  }
  size_t first = 0, differing = 0;
  for (size_t i = n; i-- > 0;)
    if (t.host_bytes()[i] != t.dev_bytes()[i]) {
      first = i;
      ++differing;
    }
  char detail[256];
  if (dtype >= 0 && first >= t.offset()) {
    const int64_t e = (int64_t)((first - t.offset()) / dtype_size(dtype));
    std::snprintf(detail, sizeof detail, "%zu of %zu bytes differ; first at element %lld: cpu %.9g, kernel %.9g",
                  differing, n, (long long)e, load_elem(t.host_bytes() + t.offset(), dtype, e),
                  load_elem(t.dev_bytes() + t.offset(), dtype, e));
  } else {
    std::snprintf(detail, sizeof detail, "%zu of %zu bytes differ; first at byte %zu", differing, n, first);
  }
  record(false, what, detail);
}

void run_device_impl(const std::string& what, void (*fn)(void*), void* ctx) {
  try {
    fn(ctx);
  } catch (const std::exception& e) {
    record(false, what, std::string("threw: ") + e.what());
  }
  cudaGetLastError();
  for (const std::string& e : sim::drain_errors()) record(false, what, "simulator: " + e);
}

cuda::DeviceEnv env(int sm_count) { return cuda::DeviceEnv{0, sm_count, nullptr}; }

RuleScalars adam(float lr) {
  RuleScalars r{};
  r.rule = RULE_ADAMW;
  r.lr = lr;
  r.beta1 = 0.9f;
  r.beta2 = 0.999f;
  r.step_size = lr * 0.7f;
  r.eps_hat = 1e-8f;
  return r;
}

RuleScalars lion(float beta1, float beta2) {
  RuleScalars r{};
  r.rule = RULE_LION;
  r.lr = 0.03f;
  r.beta1 = beta1;
  r.beta2 = beta2;
  return r;
}

RuleScalars sgdm(bool first_step, bool nesterov, float momentum, float l2) {
  RuleScalars r{};
  r.rule = RULE_SGDM;
  r.lr = 0.05f;
  r.momentum = momentum;
  r.dampening = 0.1f;
  r.nesterov = nesterov;
  r.first_step = first_step;
  r.l2 = l2;
  return r;
}

RuleScalars simple_rule(int32_t rule, float l2) {
  RuleScalars r{};
  r.rule = rule;
  r.lr = 0.03f;
  r.l2 = l2;
  return r;
}

const char* dtype_name(int32_t dtype) {
  switch (dtype) {
    case F32: return "f32";
    case BF16: return "bf16";
    case F16: return "f16";
    case I32: return "i32";
    default: return "?";
  }
}

const char* rule_name(int32_t rule) {
  switch (rule) {
    case RULE_NONE: return "none";
    case RULE_ADAMW: return "adamw";
    case RULE_SGDM: return "sgdm";
    case RULE_SIGN: return "sign";
    case RULE_SGD: return "sgd";
    case RULE_LION: return "lion";
    default: return "?";
  }
}

}  // namespace ks
