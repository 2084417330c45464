// altstack.h — an alternate signal stack on every thread the crash handler
// (crash_report_posix.cpp) covers, so a thread that overflows its own stack
// still runs the handler and its backtrace is reported.
//
// Invariants:
//   - ensure_altstack() is idempotent per thread and never replaces an
//     alternate stack the thread already has (the runtime installs its own
//     per record; the handler then runs there, which serves as well).
//   - The stack it installs is mmap'd with a guard page below it, and given
//     back when the thread exits: disabled first (only if it is still the
//     thread's altstack), then unmapped, so no signal can land on freed
//     memory.
//   - Threads the harness does not start get one where they start: the
//     pthread adapter's trampoline, and threadlab::thread_started() for the
//     threads scenarios start themselves (scenario.h).
#pragma once

namespace threadlab {

// Give the calling thread an alternate signal stack if it has none; false if
// it has none and none could be mapped.
bool ensure_altstack();

}  // namespace threadlab
