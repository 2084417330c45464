// fault_forward.h — forwarded mode: faults decided on a dedicated handler
// thread (the shape of a Mach exception server, or of a hybrid runtime that
// forwards page faults to another core, seed 004).
//
// The faulting thread's signal handler posts (kernel tid, address) in a
// request slot, wakes the handler thread and waits on the slot. The handler
// thread finds the faulting thread's record by its kernel tid — never
// through its own thread-locals, which describe the handler thread —
// classifies the fault for that record, prepares the recovery (opens the
// yellow zone) and answers; the faulting thread then resumes or unwinds.
//
// Invariants:
//   - A slot moves Free -> Claimed (faulting thread) -> Posted (faulting
//     thread, release) -> Answered (handler thread, release) -> Free
//     (faulting thread); each side touches its fields only in its states.
//   - Both sides wait with futexes and re-check their word after every
//     return, so EINTR and spurious wakes lose nothing.
//   - The handler thread has no record and is never stopped; faults on it
//     are handled directly. With every slot busy, a fault is handled directly
//     too, so forwarding never blocks on a full table.
//   - forward_start() returns only after the handler thread has published
//     its tid, so every fault after it is forwarded (a fault that came before
//     the handler was scheduled was once handled directly, uncounted).
//   - ask() is async-signal-safe (atomics and futex system calls).
#pragma once
#include <cstdint>

#include "fault_classify.h"

namespace tl::fault {

// Start the handler thread (once) and wait until it can answer; TL_OK or a
// status with the message set.
int forward_start();
bool forward_active();
void forward_stop();  // back to direct handling; the thread stays, idle
// In a fork child, where the handler thread does not exist: back to direct
// handling, every slot free, and the next forward_start makes a new handler
// thread. Returns whether forwarding was on.
bool forward_after_fork();
// From the faulting thread's handler: true with *d when the handler thread
// answered. [signal path]
bool forward_ask(int64_t tid, uintptr_t addr, Decision* d);

// The recovery step the deciding thread does for `owner`: open the yellow
// zone and mark the overflow being recovered. Turns d into
// OverflowInRecovery when the zone cannot be opened. [signal path]
void prepare(Decision* d);

}  // namespace tl::fault
