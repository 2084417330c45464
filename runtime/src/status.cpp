// status.cpp — tl_strerror, tl_last_error and fail().
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "status.h"

#include <cstdarg>
#include <cstdio>

namespace tl {
namespace {
thread_local char t_message[256];
}

int fail(int status, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = std::snprintf(t_message, sizeof t_message, "%s: ", tl_strerror(status));
  if (n > 0 && static_cast<size_t>(n) < sizeof t_message)
    std::vsnprintf(t_message + n, sizeof t_message - static_cast<size_t>(n), fmt, ap);
  va_end(ap);
  return status;
}

}  // namespace tl

extern "C" const char* tl_last_error(void) { return tl::t_message; }

extern "C" const char* tl_strerror(int status) {
  switch (status) {
    case TL_OK: return "ok";
    case TL_ENOTINIT: return "runtime not initialised";
    case TL_EALREADY: return "runtime already initialised";
    case TL_EUNBALANCED: return "callback exit without a matching enter";
    case TL_EDEADLK: return "a thread cannot join itself";
    case TL_ENOTHREAD: return "no such thread (or already joined)";
    case TL_ENOMEM: return "out of memory for a record or its stacks";
    case TL_EAGAIN: return "the OS refused another thread";
    case TL_EINVAL: return "invalid argument";
    case TL_EADOPTOFF: return "foreign-thread adoption is turned off";
    case TL_EEXITING: return "the calling thread is exiting";
    case TL_ETIMEDOUT: return "timed out";
    case TL_ENOTSUP: return "not supported here";
    case TL_EUNKNOWN: return "the calling thread has no record";
    case TL_ESTATE: return "the target's state forbids this";
    case TL_EINJECT: return "unknown injection point";
    case TL_EOWNERDEAD: return "lock acquired; its previous owner died holding it";
    case TL_ECLOSED: return "the mailbox is closed";
    case TL_EBUSY: return "the lock is held";
    case TL_EEXIST: return "the name is already registered";
    case TL_ENOTFOUND: return "no such name";
    case TL_EOVERFLOW: return "stack overflow: unwound to the catch frame";
    case TL_ESCRIBBLE: return "write into memory the thread does not own";
    default: return "unknown status";
  }
}
