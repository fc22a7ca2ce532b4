// Errors inside the core are exceptions carrying a C status; the C API boundary catches them,
// stores the message as the thread's last error and returns the status.
#pragma once
#include <stdexcept>
#include <string>
#include "frugal.h"

namespace frugal {

class Error : public std::runtime_error {
 public:
  Error(frugal_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  frugal_status status() const { return status_; }

 private:
  frugal_status status_;
};

[[noreturn]] inline void fail(frugal_status status, const std::string& message) { throw Error(status, message); }
[[noreturn]] inline void invalid(const std::string& message) { fail(FRUGAL_ERR_INVALID_ARGUMENT, message); }

void set_last_error(const std::string& message);

}  // namespace frugal
