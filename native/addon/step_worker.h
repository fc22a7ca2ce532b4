// One optimizer step off the JS thread, for stepAsync(): a Napi::AsyncWorker runs
// frugal_optimizer_step on libuv's thread pool (and, when asked, waits for the stream), then
// settles a Promise on the JS thread. What the step reads stays alive until then: the worker
// holds the JS optimizer object (so the GC cannot destroy the handle) and the CPU spans leased
// for the step (cpu_pointers.h). The core's error message is taken on the worker thread, where
// frugal_last_error() holds it, and the Promise is rejected with the Error step() would throw.
#pragma once
#include <napi.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "cpu_pointers.h"

namespace frugal_addon {

class StepWorker : public Napi::AsyncWorker {
 public:
  using Held = std::vector<std::unique_ptr<CpuSpan>>;
  // `settled` runs on the JS thread before the Promise settles (the owner's in-flight flag).
  StepWorker(const Napi::Object& owner, frugal_optimizer* handle, int32_t device, void* stream, bool wait, Held held,
             std::function<void()> settled)
      : Napi::AsyncWorker(owner.Env(), "frugal.stepAsync"),
        owner_(Napi::Persistent(owner)),
        deferred_(Napi::Promise::Deferred::New(owner.Env())),
        handle_(handle),
        device_(device),
        stream_(stream),
        wait_(wait),
        held_(std::move(held)),
        settled_(std::move(settled)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    status_ = frugal_optimizer_step(handle_, stream_);
    if (status_ == FRUGAL_OK && wait_) status_ = frugal_synchronize(device_, stream_);
    if (status_ != FRUGAL_OK) {
      const char* message = frugal_last_error();
      message_ = message ? message : "";
    }
    alloc_delta_ = frugal::take_thread_alloc_delta();
  }

  void OnOK() override {
    Napi::Env env = Env();
    held_.clear();
    settled_();
    settle_unless_torn_down([&] {
      report_native_memory(env, alloc_delta_);
      if (status_ == FRUGAL_OK)
        deferred_.Resolve(env.Undefined());
      else
        deferred_.Reject(status_error(env, status_, message_.c_str()).Value());
    });
  }

  // Execute never calls SetError; kept so that a failure of the worker machinery still settles.
  void OnError(const Napi::Error& error) override {
    held_.clear();
    settled_();
    settle_unless_torn_down([&] { deferred_.Reject(error.Value()); });
  }

 private:
  // A worker thread terminated while the step ran: Node finishes the step, then completes it in an
  // environment that can no longer run JS, where every call into it fails. No one is left to
  // await the promise; an exception escaping here would abort the whole process.
  template <class F>
  void settle_unless_torn_down(F settle) {
    try {
      settle();
    } catch (const Napi::Error&) {
      // In a live environment resolving or rejecting a promise of ours does not fail.
    }
  }

  Napi::ObjectReference owner_;  // the JS optimizer: not collected (nor its handle destroyed) meanwhile
  Napi::Promise::Deferred deferred_;
  frugal_optimizer* handle_;
  int32_t device_;
  void* stream_;
  bool wait_;
  Held held_;
  std::function<void()> settled_;
  frugal_status status_ = FRUGAL_OK;
  std::string message_;
  int64_t alloc_delta_ = 0;
};

}  // namespace frugal_addon
