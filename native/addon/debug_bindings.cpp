// Underscore-prefixed debug functions for the tests; not part of the API (lib/ does not export
// them). _debugPaths() reports which code paths ran (native/cpu/path_counters.h), so a test that
// sets an environment switch in a child process can prove the switch took effect;
// _debugResetPaths() zeroes the counts between phases of one process. _debugRuleTable() lists the
// update-rule table as the core compiled it (native/math/rules/rule_table.h), which
// test/rule-table.test.ts holds to lib/optim/rule-table.ts (both written from the schema).
// _debugFailAllocationAfter(n) and _debugFailThreadStartAt(slot) arm the core's one-shot failure
// injection (native/core/test_hooks.h): the tests' only way to make an allocation or a thread
// start fail at a chosen point.
#include <napi.h>

#include "../core/rule_scalars.h"
#include "../core/test_hooks.h"
#include "../cpu/path_counters.h"
#include "args.h"

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

Napi::Value DebugRuleTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array rules = Napi::Array::New(env);
  auto add = [&](int32_t id) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("id", Napi::Number::New(env, id));
    r.Set("name", frugal::rule_name(id));
    Napi::Array slots = Napi::Array::New(env);
    for (int s = 0; s < frugal::rule_state_slots(id); s++) slots.Set(uint32_t(s), frugal::rule_slot_name(id, s));
    r.Set("stateSlots", slots);
    r.Set("stateFull", frugal::rule_allowed(id, frugal::RuleRole::StateFull));
    r.Set("stateFree", frugal::rule_allowed(id, frugal::RuleRole::StateFree));
    r.Set("partial", frugal::rule_allowed(id, frugal::RuleRole::Partial));
    rules.Set(rules.Length(), r);
  };
#define FRUGAL_RULE_ROW(C, ID, ...) add(ID);
  FRUGAL_UPDATE_RULES(FRUGAL_RULE_ROW)
#undef FRUGAL_RULE_ROW
  return rules;
}

Napi::Value DebugFailAllocationAfter(const Napi::CallbackInfo& info) {
  Args a(info, 1, "_debugFailAllocationAfter");
  frugal::test_hooks::fail_allocation_after(a.integer(0, "after", -1, 1LL << 40));
  return a.env.Undefined();
}

Napi::Value DebugFailThreadStartAt(const Napi::CallbackInfo& info) {
  Args a(info, 1, "_debugFailThreadStartAt");
  frugal::test_hooks::fail_thread_start_at((int)a.integer(0, "slot", 0, 255));
  return a.env.Undefined();
}

}  // namespace

void RegisterDebugBindings(Napi::Env env, Napi::Object exports) {
  exports.Set("_debugPaths", Napi::Function::New<DebugPaths>(env, "_debugPaths"));
  exports.Set("_debugResetPaths", Napi::Function::New<DebugResetPaths>(env, "_debugResetPaths"));
  exports.Set("_debugRuleTable", Napi::Function::New<DebugRuleTable>(env, "_debugRuleTable"));
  exports.Set("_debugFailAllocationAfter",
              Napi::Function::New<DebugFailAllocationAfter>(env, "_debugFailAllocationAfter"));
  exports.Set("_debugFailThreadStartAt", Napi::Function::New<DebugFailThreadStartAt>(env, "_debugFailThreadStartAt"));
}

}  // namespace frugal_addon
