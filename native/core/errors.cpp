#include "errors.h"

namespace frugal {

static thread_local std::string g_last_error;

void set_last_error(const std::string& message) { g_last_error = message; }
const std::string& last_error() { return g_last_error; }

}  // namespace frugal
