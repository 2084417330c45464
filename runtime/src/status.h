// status.h — turning failures into a tl_status plus a per-thread message.
//
// Invariant: fail() never allocates (the message buffer is thread_local and
// fixed-size), so error paths stay usable when memory has run out.
#pragma once
#include "threadlab/runtime.h"

namespace tl {

// Record `status` with a printf-style message for tl_last_error() and
// return status, so callers can `return fail(TL_EINVAL, "...", ...)`.
int fail(int status, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace tl
