// Underscore-prefixed debug functions for the tests; not part of the API (lib/ does not export
// them). _debugPaths() reports which code paths ran (native/cpu/path_counters.h), so a test that
// sets an environment switch in a child process can prove the switch took effect;
// _debugResetPaths() zeroes the counts between phases of one process.
#include <napi.h>

#include "../cpu/path_counters.h"

namespace frugal_addon {
namespace {

Napi::Value DebugPaths(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  namespace dbg = frugal::debug;
  Napi::Object counts = Napi::Object::New(env);
  for (int p = 0; p < dbg::PATH_COUNT; p++) {
    counts.Set(dbg::path_name(dbg::Path(p)), Napi::Number::New(env, double(dbg::path_count(dbg::Path(p)))));
  }
  const dbg::PathNotes notes = dbg::path_notes();
  Napi::Object out = Napi::Object::New(env);
  out.Set("counts", counts);
  out.Set("gemmRequested", notes.gemm_requested);
  out.Set("gemmKernel", notes.gemm_kernel);
  out.Set("gemmNote", notes.gemm_note);
  out.Set("poolThreads", Napi::Number::New(env, notes.pool_threads));
  out.Set("loopThreads", Napi::Number::New(env, dbg::loop_threads()));
  out.Set("cublasPath", notes.cublas_path);
  out.Set("cusolverPath", notes.cusolver_path);
  return out;
}

Napi::Value DebugResetPaths(const Napi::CallbackInfo& info) {
  frugal::debug::reset_path_counts();
  return info.Env().Undefined();
}

}  // namespace

void RegisterDebugBindings(Napi::Env env, Napi::Object exports) {
  exports.Set("_debugPaths", Napi::Function::New<DebugPaths>(env, "_debugPaths"));
  exports.Set("_debugResetPaths", Napi::Function::New<DebugResetPaths>(env, "_debugResetPaths"));
}

}  // namespace frugal_addon
