// error.cpp — last_error: the calling thread's most recent failure, a
// thread-local message (never shared, never freed).
#include <cstdio>

#include "internal.h"

namespace tlgc {

namespace {
thread_local char t_err[160];
}

int fail(int rc, const char* what) {
  std::snprintf(t_err, sizeof t_err, "%s", what);
  return rc;
}

const char* last_error() { return t_err; }

}  // namespace tlgc
