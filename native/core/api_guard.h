// The boundary of every C entry point: runs the core, turns exceptions into a status plus the
// thread's last-error message, and never lets one escape into C (or into Node).
#pragma once
#include <new>
#include <string>
#include "errors.h"

namespace frugal {

template <typename Fn>
frugal_status guarded(Fn&& fn) {
  try {
    fn();
    return FRUGAL_OK;
  } catch (const Error& e) {
    set_last_error(e.what());
    return e.status();
  } catch (const std::bad_alloc&) {
    set_last_error("out of memory on the host");
    return FRUGAL_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    set_last_error(std::string("internal error: ") + e.what());
    return FRUGAL_ERR_STATE;
  } catch (...) {
    set_last_error("internal error: unknown exception");
    return FRUGAL_ERR_STATE;
  }
}

// Argument check shared by the C entry points.
inline void need(const void* p, const char* name) {
  if (!p) invalid(std::string(name) + ": expected a non-NULL pointer");
}

}  // namespace frugal
