// fatal.h — the fatal-error path.
//
// Invariants (seed 000: a kernel debugger that looked up the current record,
// failed, and re-entered itself until the stack overflowed):
//   - fatal_error() never needs a record for the calling thread and never
//     allocates: it formats into a static buffer and write(2)s it.
//   - It cannot re-enter itself: the first caller owns the path; a recursive
//     call on the same thread _exits at once; a concurrent caller on another
//     thread waits for the first to finish (which ends the process).
//   - Async-signal-safe: usable from fault handlers.
#pragma once

namespace tl {

[[noreturn]] void fatal_error(const char* message);

}  // namespace tl
