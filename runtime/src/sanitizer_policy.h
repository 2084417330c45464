// sanitizer_policy.h — what the runtime does differently under a sanitizer,
// in one place.
//
// ThreadSanitizer does not run an asynchronous signal's handler when the
// signal arrives: it queues it and runs it at the thread's next intercepted
// call or instrumented atomic. A thread blocked in a system call that TSan
// does not treat as blocking (read() on a pipe, futex waits) never gets
// there, so a preemptive suspend signal to it is never answered. Under TSan
// the preemptive policy therefore stops threads in FOREIGN or BLOCKED
// regions by state, as the hybrid policy always does, and signals only
// MANAGED threads, whose loops reach a safepoint or an atomic soon enough
// (docs/architecture.md, "Suspension under ThreadSanitizer").
#pragma once

namespace tl {

#if defined(TL_UNDER_TSAN)
constexpr bool kSignalsDeferredBySanitizer = true;
#else
constexpr bool kSignalsDeferredBySanitizer = false;
#endif

}  // namespace tl
