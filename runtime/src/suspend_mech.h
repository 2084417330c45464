// suspend_mech.h — the platform mechanism that stops one running thread
// preemptively: signals on POSIX (suspend_signal_posix.cpp), Mach
// thread_suspend on Apple (suspend_darwin.cpp).
//
// Invariant: request_stop() either stops the target before returning
// (Stopped: registers and sp saved, acked_gen published), leaves it to
// acknowledge asynchronously (Pending), or finds it gone (Gone). release()
// undoes a stop that request_stop or the handler performed.
#pragma once
#include "record.h"

namespace tl::mech {

enum class Sent { Pending, Stopped, Gone };

bool install();
Sent request_stop(Record* r, uint64_t gen);
// Resend to a target that has not answered (Pending mechanisms only).
Sent resend(Record* r, uint64_t gen);
void release(Record* r);
// Signal by kernel id only, touching nothing of a thread that may be gone
// (the suspend_ignores_exiting defect).
void signal_maybe_gone(Record* r);
// Hard kill: make r leave its current frame from a handler (kill.cpp).
bool request_hard_kill(Record* r);

// Signal-safe wake-up channel from targets to the stopper.
void ack_post();
// Wait up to `us` microseconds for an ack post (spurious returns allowed).
void ack_wait(unsigned us);

}  // namespace tl::mech
