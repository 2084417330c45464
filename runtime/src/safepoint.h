// safepoint.h — where a thread may be stopped, interrupted or killed
// without a signal: safepoint polls, the end of a no-interrupt window, and
// every return to managed code.
//
// Invariants:
//   - Pending work is taken in this order: stop, then kill, then interrupts,
//     and only in MANAGED with no no-interrupt window open.
//   - A no-interrupt window defers stops and interrupts; closing the
//     outermost window runs what was deferred.
#pragma once

namespace tl {

struct Record;

// Take any pending stop, kill or interrupt. Never returns on a kill.
void safepoint_poll(Record* r);

}  // namespace tl
