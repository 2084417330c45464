// error.cpp — the calling thread's most recent failure (last_error).
//
// Invariant: each thread reads only its own message; fail() never allocates.
#include <cstdarg>
#include <cstdio>

#include "internal.h"

namespace tlpy {
namespace {
thread_local char g_err[256];
}

int fail(int rc, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(g_err, sizeof g_err, fmt, ap);
  va_end(ap);
  return rc;
}

const char* last_error() { return g_err; }

}  // namespace tlpy

extern "C" const char* tlpy_last_error(void) { return tlpy::last_error(); }
