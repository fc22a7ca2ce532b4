// Failure injection for tests: the failures a test cannot cause for real on demand (the host or a
// GPU running out of memory half way through a call, the OS refusing a thread) made to happen at
// one chosen point, so the test can check that the call failed cleanly and changed nothing.
//
// Test-only and hard to reach: these are C++ functions of the core (hidden in libfrugal, not in
// frugal.h), armed only through the addon's underscore-prefixed debug functions
// (native/addon/debug_bindings.cpp), which lib/ never exports. Each hook fires once and disarms
// itself; a production run never arms one, and an unarmed hook costs one atomic load.
#pragma once
#include <cstdint>

namespace frugal {
namespace test_hooks {

// The tracked allocation `after` allocations from now (0: the very next one) fails as if the
// device were out of memory (memory.cpp: tracked_alloc), on whichever thread makes it. A negative
// value disarms the hook.
void fail_allocation_after(int64_t after);
// Whether this allocation is the one to fail (disarms the hook when it is); tracked_alloc asks.
bool allocation_fails_now();

// The next thread pool the CPU backend builds (native/cpu/thread_pool.cpp) fails to start the
// worker of `slot` (1.. threads - 1; slot 0 is the calling thread) as std::thread does when the OS
// refuses a thread: std::system_error (resource_unavailable_try_again). 0 disarms the hook.
void fail_thread_start_at(int slot);
// Whether starting the worker of `slot` fails now (disarms the hook when it does).
bool thread_start_fails_now(int slot);

}  // namespace test_hooks
}  // namespace frugal
