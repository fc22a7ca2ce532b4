// The C ABI: every entry point validates its pointers, runs the core inside a guard that turns
// exceptions into a status plus the thread's last-error message, and never lets one escape.
#include <chrono>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_set>
#include "api_guard.h"
#include "cuda_api.h"
#include "devices.h"
#include "errors.h"
#include "memory.h"
#include "optimizer.h"
#include "schema.generated.h"
#include "../math/dtype_convert.h"

using namespace frugal;

struct frugal_event {
  int device;
  void* cuda_event;                                 // GPU: a cudaEvent_t
  std::chrono::steady_clock::time_point host_time;  // CPU: when it was recorded
  bool recorded = false;
};

// Live event handles: every event entry point checks its handle here first, so a destroyed (or
// never created) handle is refused instead of read after free.
namespace {
std::mutex g_events_mutex;
std::unordered_set<const frugal_event*>& live_events() {
  static auto* s = new std::unordered_set<const frugal_event*>();  // never destroyed: used at exit
  return *s;
}
void need_event(const frugal_event* e, const char* name) {
  need(e, name);
  std::lock_guard<std::mutex> lock(g_events_mutex);
  if (!live_events().count(e))
    invalid(std::string(name) + ": not a live event (destroyed, or not made by frugal_event_create)");
}
}  // namespace

struct frugal_optimizer {
  Optimizer impl;
  explicit frugal_optimizer(int device) : impl(device) {}
};

namespace frugal {
const std::string& last_error();
}

namespace {
Optimizer& opt_of(frugal_optimizer* o) {
  need(o, "opt");
  return o->impl;
}
void check_dtype(int32_t d, const char* name) {
  if (d < FRUGAL_F32 || d > FRUGAL_I32)
    invalid(std::string(name) + ": expected a dtype 0..3 (float32, bfloat16, float16, int32), got " +
            std::to_string(d));
}
// Pointers handed to the backend must hold whole elements at their natural alignment.
void check_aligned(const void* p, int32_t dtype, const char* name) {
  if ((uintptr_t)p % dtype_size(dtype)) invalid(std::string(name) + ": pointer is not aligned to its elements");
}

// ABI growth (frugal.h): a caller's struct is one of the layouts some frugal.h gave it, told apart
// by its size field. Its fields are read as given, and the fields a newer header added take this
// library's defaults. Only the bytes up to the caller's last field are read: padding is not data.
template <size_t N>
const AbiLayout* layout_of(uint32_t size, const AbiLayout (&layouts)[N]) {
  for (const AbiLayout& l : layouts)
    if (l.size == size) return &l;
  return nullptr;
}
template <class T, size_t N>
T read_sized(const T* in, const AbiLayout (&layouts)[N], void (*defaults)(T*), const char* name, const char* init) {
  need(in, name);
  const AbiLayout* layout = layout_of(in->size, layouts);
  if (!layout) {
    std::string sizes;
    for (size_t i = 0; i < N; i++)
      sizes += (i ? (i + 1 == N ? " or " : ", ") : "") + std::to_string(layouts[i].size) + " (ABI " +
               std::to_string(layouts[i].abi) + ")";
    invalid(std::string(name) + ".size: expected " + sizes + ", the struct's size in a frugal.h, as " + init +
            " sets it; got " + std::to_string(in->size));
  }
  T out;
  memset(&out, 0, sizeof out);
  defaults(&out);
  memcpy(&out, in, layout->end);
  out.size = sizeof(T);
  return out;
}
template <class T, size_t N>
void init_sized(T* out, uint32_t size, const AbiLayout (&layouts)[N], void (*defaults)(T*)) {
  if (!out || size < sizeof(uint32_t)) return;
  const AbiLayout* layout = layout_of(size, layouts);
  if (layout) {
    T full;
    memset(&full, 0, sizeof full);
    defaults(&full);
    memcpy(out, &full, layout->size);
  }
  out->size = size;  // unknown: left for add_group / add_param to refuse by name
}
frugal_group_options group_options_of(const frugal_group_options* in) {
  return read_sized(in, GROUP_OPTIONS_LAYOUTS, schema_group_options_default, "options", "frugal_group_options_default");
}
}  // namespace

extern "C" {

const char* frugal_last_error(void) { return last_error().c_str(); }
const char* frugal_version(void) { return FRUGAL_PACKAGE_VERSION; }
int32_t frugal_abi_version(void) { return FRUGAL_ABI_VERSION; }

frugal_status frugal_cuda_device_count(int32_t* count) {
  return guarded([&] {
    need(count, "count");
    std::string why;
    *count = cuda_device_count(&why);
  });
}

const char* frugal_cuda_unavailable_reason(void) {
  static thread_local std::string why;
  why.clear();
  if (cuda_device_count(&why) > 0) why.clear();
  return why.c_str();
}

frugal_status frugal_cuda_device_info(int32_t device, frugal_device_info* out) {
  return guarded([&] {
    need(out, "out");
    check_device(device);
    if (device == FRUGAL_CPU) invalid("device: expected a CUDA ordinal >= 0, got -1 (cpu)");
    cuda_device_info(device, out);
  });
}

int32_t frugal_cuda_math_available(int32_t device) {
  std::string why;
  if (device < 0 || device >= cuda_device_count(&why)) return 0;
  return cuda_math_available(device) ? 1 : 0;
}

const char* frugal_cuda_math_status(int32_t device) {
  static thread_local std::string status;
  try {
    status = cuda_math_status(device);
  } catch (const std::exception& e) {
    status = e.what();
  }
  return status.c_str();
}

frugal_status frugal_stream_create(int32_t device, void** stream) {
  return guarded([&] {
    need(stream, "stream");
    if (device == FRUGAL_CPU) {
      *stream = nullptr;
      return;
    }
    check_device(device);
    *stream = cuda_stream_create(device);
  });
}

frugal_status frugal_stream_destroy(int32_t device, void* stream) {
  return guarded([&] {
    if (device == FRUGAL_CPU || !stream) return;
    check_device(device);
    cuda_stream_destroy(device, stream);
  });
}

frugal_status frugal_synchronize(int32_t device, void* stream) {
  return guarded([&] { backend_for(device)->synchronize(stream); });
}

frugal_status frugal_event_create(int32_t device, frugal_event** out) {
  return guarded([&] {
    need(out, "out");
    check_device(device);
    auto* e = new frugal_event{device, nullptr, {}, false};
    if (device != FRUGAL_CPU) {
      try {
        e->cuda_event = cuda_event_create(device);
      } catch (...) {
        delete e;
        throw;
      }
    }
    {
      std::lock_guard<std::mutex> lock(g_events_mutex);
      live_events().insert(e);
    }
    *out = e;
  });
}

frugal_status frugal_event_record(frugal_event* event, void* stream) {
  return guarded([&] {
    need_event(event, "event");
    if (event->device == FRUGAL_CPU)
      event->host_time = std::chrono::steady_clock::now();
    else
      cuda_event_record(event->device, event->cuda_event, stream);
    event->recorded = true;
  });
}

frugal_status frugal_event_elapsed_ms(frugal_event* start, frugal_event* end, float* ms) {
  return guarded([&] {
    need_event(start, "start");
    need_event(end, "end");
    need(ms, "ms");
    if (start->device != end->device)
      invalid("end: recorded on " + device_name(end->device) + ", start on " + device_name(start->device));
    if (!start->recorded || !end->recorded)
      fail(FRUGAL_ERR_STATE, "event: elapsed time needs both events recorded first");
    if (start->device == FRUGAL_CPU)
      *ms = std::chrono::duration<float, std::milli>(end->host_time - start->host_time).count();
    else
      *ms = cuda_event_elapsed_ms(start->device, start->cuda_event, end->cuda_event);
  });
}

frugal_status frugal_event_destroy(frugal_event* event) {
  return guarded([&] {
    if (!event) return;
    {
      // Checked and forgotten under one lock, so two destroys of one handle cannot both pass.
      std::lock_guard<std::mutex> lock(g_events_mutex);
      if (live_events().erase(event) == 0)
        invalid("event: not a live event (already destroyed, or not made by frugal_event_create)");
    }
    if (event->device != FRUGAL_CPU) cuda_event_destroy(event->device, event->cuda_event);
    delete event;
  });
}

frugal_status frugal_alloc(int32_t device, uint64_t bytes, frugal_mem_category category, void** out) {
  return guarded([&] {
    need(out, "out");
    *out = tracked_alloc(device, bytes, category);
  });
}

frugal_status frugal_free(int32_t device, void* ptr) {
  return guarded([&] {
    need(ptr, "ptr");
    backend_for(device)->synchronize_device();  // kernels still reading it, on any stream, must finish first
    tracked_free(device, ptr);
  });
}

frugal_status frugal_get_memory_stats(int32_t device, frugal_memory_stats* out) {
  return guarded([&] {
    need(out, "out");
    check_device(device);
    *out = memory_stats(device);
  });
}

frugal_status frugal_reset_peak_memory(int32_t device) {
  return guarded([&] {
    check_device(device);
    reset_peak(device);
  });
}

frugal_status frugal_copy(void* dst, int32_t dst_device, const void* src, int32_t src_device, uint64_t bytes,
                          void* stream) {
  return guarded([&] {
    if (!bytes) return;
    need(dst, "dst");
    need(src, "src");
    check_device(dst_device);
    check_device(src_device);
    if (dst_device == FRUGAL_CPU && src_device == FRUGAL_CPU) {
      cpu_backend()->copy_within(dst, src, bytes, nullptr);
    } else if (dst_device == FRUGAL_CPU) {
      backend_for(src_device)->copy_to_host(dst, src, bytes, stream);
    } else if (src_device == FRUGAL_CPU) {
      Backend* b = backend_for(dst_device);
      b->copy_from_host(dst, src, bytes, stream);
      b->synchronize(stream);  // the host buffer may be released as soon as we return
    } else if (src_device == dst_device) {
      backend_for(dst_device)->copy_within(dst, src, bytes, stream);
    } else {
      // Between two GPUs: through the host, simple and always available.
      std::vector<char> tmp(bytes);
      backend_for(src_device)->copy_to_host(tmp.data(), src, bytes, stream);
      Backend* b = backend_for(dst_device);
      b->copy_from_host(dst, tmp.data(), bytes, nullptr);
      b->synchronize(nullptr);
    }
  });
}

frugal_status frugal_fill(int32_t device, void* ptr, frugal_dtype dtype, uint64_t count, float value, void* stream) {
  return guarded([&] {
    if (!count) return;
    need(ptr, "ptr");
    check_dtype(dtype, "dtype");
    check_aligned(ptr, dtype, "ptr");
    backend_for(device)->fill(ptr, dtype, (int64_t)count, value, stream);
  });
}

frugal_status frugal_random(int32_t device, void* ptr, frugal_dtype dtype, uint64_t count, int32_t dist, uint64_t seed,
                            float a, float b, void* stream) {
  return guarded([&] {
    if (!count) return;
    need(ptr, "ptr");
    check_dtype(dtype, "dtype");
    check_aligned(ptr, dtype, "ptr");
    if (dist != 0 && dist != 1) invalid("dist: expected 0 (uniform) or 1 (normal), got " + std::to_string(dist));
    if (dist == 1 && !(b >= 0)) invalid("std: expected >= 0");
    backend_for(device)->random(ptr, dtype, (int64_t)count, dist, seed, a, b, stream);
  });
}

frugal_status frugal_cast(int32_t device, const void* src, frugal_dtype src_dtype, void* dst, frugal_dtype dst_dtype,
                          uint64_t count, void* stream) {
  return guarded([&] {
    if (!count) return;
    need(src, "src");
    need(dst, "dst");
    check_dtype(src_dtype, "src_dtype");
    check_dtype(dst_dtype, "dst_dtype");
    check_aligned(src, src_dtype, "src");
    check_aligned(dst, dst_dtype, "dst");
    backend_for(device)->cast(src, src_dtype, dst, dst_dtype, (int64_t)count, stream);
  });
}

void frugal_group_options_init(frugal_group_options* out, uint32_t size) {
  init_sized(out, size, GROUP_OPTIONS_LAYOUTS, schema_group_options_default);
}

void frugal_param_desc_init(frugal_param_desc* out, uint32_t size) {
  init_sized(out, size, PARAM_DESC_LAYOUTS, schema_param_desc_default);
}

frugal_status frugal_optimizer_create(int32_t device, frugal_optimizer** out) {
  return guarded([&] {
    need(out, "out");
    *out = new frugal_optimizer(device);
  });
}

frugal_status frugal_optimizer_destroy(frugal_optimizer* opt) {
  return guarded([&] {
    if (!opt) return;
    int device = opt->impl.device();
    backend_for(device)->synchronize_device();  // state may still be read by queued kernels
    delete opt;
  });
}

frugal_status frugal_optimizer_add_group(frugal_optimizer* opt, const frugal_group_options* options, int32_t* group) {
  return guarded([&] {
    int g = opt_of(opt).add_group(group_options_of(options));
    if (group) *group = g;
  });
}

frugal_status frugal_optimizer_set_group_options(frugal_optimizer* opt, int32_t group,
                                                 const frugal_group_options* options) {
  return guarded([&] { opt_of(opt).set_group_options(group, group_options_of(options)); });
}

frugal_status frugal_optimizer_add_param(frugal_optimizer* opt, int32_t group, const frugal_param_desc* desc_in,
                                         int32_t* param) {
  return guarded([&] {
    const frugal_param_desc d =
        read_sized(desc_in, PARAM_DESC_LAYOUTS, schema_param_desc_default, "desc", "frugal_param_desc_default");
    const frugal_param_desc* desc = &d;
    // The element count (and its byte size) must fit the core's int64 arithmetic: a shape whose
    // product wraps would describe a small param over a huge buffer.
    if (desc->ndim >= 1 && desc->ndim <= FRUGAL_MAX_DIMS) {
      int64_t numel = 1;
      for (int i = 0; i < desc->ndim; i++) {
        if (desc->shape[i] > 0 && numel > (INT64_MAX / 8) / desc->shape[i])
          invalid("param.shape: the element count overflows (more than 2^60 elements)");
        if (desc->shape[i] > 0) numel *= desc->shape[i];
      }
    }
    int p = opt_of(opt).add_param(group, *desc);
    if (param) *param = p;
  });
}

frugal_status frugal_optimizer_set_buffers(frugal_optimizer* opt, int32_t param, void* data, void* grad) {
  return guarded([&] { opt_of(opt).set_buffers(param, data, grad); });
}

frugal_status frugal_optimizer_set_compressed_grad(frugal_optimizer* opt, int32_t param, const void* gc,
                                                   frugal_dtype dtype) {
  return guarded([&] { opt_of(opt).set_compressed_grad(param, gc, dtype); });
}

frugal_status frugal_optimizer_set_clip(frugal_optimizer* opt, float max_norm) {
  return guarded([&] { opt_of(opt).set_clip(max_norm); });
}

frugal_status frugal_optimizer_step(frugal_optimizer* opt, void* stream) {
  return guarded([&] { opt_of(opt).step(stream); });
}

frugal_status frugal_optimizer_needs_refresh(frugal_optimizer* opt, int32_t param, int32_t* out) {
  return guarded([&] {
    need(out, "out");
    *out = opt_of(opt).needs_refresh(param) ? 1 : 0;
  });
}

frugal_status frugal_optimizer_set_selection(frugal_optimizer* opt, int32_t param, const int32_t* indices,
                                             int64_t count, const float* scales) {
  return guarded([&] {
    Optimizer& o = opt_of(opt);
    ParamState& p = o.param(param);
    const frugal_group_options& go = o.group(p.group).options;
    if (!go.external_selection)
      fail(FRUGAL_ERR_STATE, "param " + std::to_string(param) +
                                 ": its group chooses its own selection (create it with external_selection = 1)");
    if (!p.selection->kind().caller_selection)  // a 1-D param of the group is a regular one (ALL)
      invalid("param " + std::to_string(param) + ": a 1-D param has no selection");
    // An empty choice is accepted (the reference's int(len * density) can be 0): that param is then
    // state-free only at this refresh, as with density 0. A block selection is always one flag.
    if (count < 0) invalid("count: expected >= 0, got " + std::to_string(count));
    if (count > 0) need(indices, "indices");
    p.selection->check_caller_selection(p, count);
    if (scales)
      for (int64_t i = 0; i < count; i++)
        if (!(scales[i] >= 0) || scales[i] != scales[i] || scales[i] > 1e30f)
          invalid("scales[" + std::to_string(i) + "]: expected a finite number >= 0");
    p.pending_indices.assign(indices, indices + count);
    p.pending_scales.clear();
    if (scales) p.pending_scales.assign(scales, scales + count);
    p.pending = true;
  });
}

frugal_status frugal_optimizer_get_selection(frugal_optimizer* opt, int32_t param, frugal_selection_info* out) {
  return guarded([&] {
    need(out, "out");
    *out = opt_of(opt).selection_info(param);
  });
}

frugal_status frugal_optimizer_state_bytes(frugal_optimizer* opt, int32_t param, uint64_t* out) {
  return guarded([&] {
    need(out, "out");
    *out = opt_of(opt).state_bytes(param);
  });
}

frugal_status frugal_optimizer_state_tensors(frugal_optimizer* opt, int32_t param, frugal_state_tensor* out,
                                             int32_t capacity, int32_t* count) {
  return guarded([&] {
    need(count, "count");
    *count = opt_of(opt).state_tensors(param, out, capacity);
  });
}

frugal_status frugal_optimizer_get_counters(frugal_optimizer* opt, int32_t param, frugal_param_counters* out) {
  return guarded([&] {
    need(out, "out");
    *out = opt_of(opt).counters(param);
  });
}

frugal_status frugal_optimizer_restore_param(frugal_optimizer* opt, int32_t param, const frugal_param_counters* c) {
  return guarded([&] {
    need(c, "counters");
    opt_of(opt).restore_param(param, *c);
  });
}

frugal_status frugal_optimizer_verify_state(frugal_optimizer* opt, int32_t param, void* stream) {
  return guarded([&] { opt_of(opt).verify_state(param, stream); });
}

frugal_status frugal_optimizer_get_group_state(frugal_optimizer* opt, int32_t group, int64_t* step, uint64_t rng[4]) {
  return guarded([&] {
    GroupState& g = opt_of(opt).group(group);
    if (step) *step = g.step;
    if (rng) g.rng.get(rng);
  });
}

frugal_status frugal_optimizer_set_group_state(frugal_optimizer* opt, int32_t group, int64_t step,
                                               const uint64_t rng[4]) {
  return guarded([&] {
    GroupState& g = opt_of(opt).group(group);
    if (step < 0) invalid("step: expected >= 0, got " + std::to_string(step));
    g.step = step;
    if (rng) g.rng.set(rng);
  });
}

frugal_status frugal_optimizer_set_nonfinite(frugal_optimizer* opt, int32_t policy) {
  return guarded([&] { opt_of(opt).set_nonfinite(policy); });
}

frugal_status frugal_optimizer_skipped_steps(frugal_optimizer* opt, void* stream, int64_t* out) {
  return guarded([&] {
    need(out, "out");
    *out = opt_of(opt).skipped_steps(stream);
  });
}

frugal_status frugal_optimizer_set_skipped_steps(frugal_optimizer* opt, int64_t count, void* stream) {
  return guarded([&] { opt_of(opt).set_skipped_steps(count, stream); });
}

}  // extern "C"
