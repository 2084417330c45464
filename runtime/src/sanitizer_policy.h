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
//
// AddressSanitizer's pthread_create (in recent LLVM releases) gives the new
// thread its creator's signal mask before the start routine runs, overriding
// a start mask set with pthread_attr_setsigmask_np. Under ASan a thread that
// must start with every signal blocked is therefore created while its
// creator blocks every signal (os_posix.cpp).
//
// AddressSanitizer's poisoning of memory the runtime hands out and takes
// back (heap cells, cached records) goes through TL_ASAN_POISON and
// TL_ASAN_UNPOISON below, which are no-ops elsewhere.
//
// Invariant: TL_UNDER_TSAN and TL_UNDER_ASAN (set by the build for the tsan
// and asan presets) are read here and nowhere else in runtime/src.
#pragma once
#include <signal.h>

#if defined(TL_UNDER_ASAN)
#include <sanitizer/asan_interface.h>
#define TL_ASAN_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define TL_ASAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define TL_ASAN_POISON(p, n) ((void)(p), (void)(n))
#define TL_ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

// Race points (race_point.h) are compiled out under ThreadSanitizer: its
// relaxed load is an instrumented atomic, where TSan runs a pending
// signal's handler, so even switched off it would add signal-delivery
// points and change the schedules the tsan preset tests. TSan perturbs
// schedules itself.
#if defined(TL_UNDER_TSAN)
#define TL_RACE_POINTS_COMPILED 0
#else
#define TL_RACE_POINTS_COMPILED TL_INJECTION_COMPILED
#endif

// A function that may run after ThreadSanitizer finalised its thread (the
// C library's last key-destructor round) must carry no instrumentation at
// all, not even the function-entry hook that no_sanitize("thread") keeps.
#if defined(TL_UNDER_TSAN)
#define TL_UNINSTRUMENTED_UNDER_TSAN __attribute__((disable_sanitizer_instrumentation))
#else
#define TL_UNINSTRUMENTED_UNDER_TSAN
#endif

namespace tl {

#if defined(TL_UNDER_TSAN)
constexpr bool kSignalsDeferredBySanitizer = true;
#else
constexpr bool kSignalsDeferredBySanitizer = false;
#endif

// Under ThreadSanitizer a pending asynchronous signal runs only at the
// thread's next intercepted call: make one, so a polling thread answers a
// preemptive stop at its safepoint instead of never. A no-op elsewhere.
inline void let_sanitizer_deliver_signals() {
#if defined(TL_UNDER_TSAN)
  sigset_t unused;
  pthread_sigmask(SIG_BLOCK, nullptr, &unused);
#endif
}

#if defined(TL_UNDER_ASAN)
constexpr bool kSanitizerResetsStartMask = true;
#else
constexpr bool kSanitizerResetsStartMask = false;
#endif

}  // namespace tl

// Runtime locks (lock.cpp) tell ThreadSanitizer what they are, so its
// reports name them and its lock-order detector sees them.
#if defined(TL_UNDER_TSAN)
extern "C" {
void __tsan_mutex_create(void* addr, unsigned flags);
void __tsan_mutex_pre_lock(void* addr, unsigned flags);
void __tsan_mutex_post_lock(void* addr, unsigned flags, int recursion);
int __tsan_mutex_pre_unlock(void* addr, unsigned flags);
void __tsan_mutex_post_unlock(void* addr, unsigned flags);
void __tsan_mutex_pre_divert(void* addr, unsigned flags);
void __tsan_mutex_post_divert(void* addr, unsigned flags);
}
#define TL_TSAN_MUTEX_PRE_LOCK(m, f) __tsan_mutex_pre_lock(m, f)
#define TL_TSAN_MUTEX_POST_LOCK(m, f) __tsan_mutex_post_lock(m, f, 0)
#define TL_TSAN_MUTEX_PRE_UNLOCK(m) __tsan_mutex_pre_unlock(m, 0)
#define TL_TSAN_MUTEX_POST_UNLOCK(m) __tsan_mutex_post_unlock(m, 0)
// Between pre_lock and post_lock ThreadSanitizer ignores every access and
// every synchronisation of the thread; code in there that synchronises with
// other threads through the runtime's own protocol (a state change a stopper
// reads) is bracketed by these, or its release is lost to ThreadSanitizer.
#define TL_TSAN_MUTEX_PRE_DIVERT(m) __tsan_mutex_pre_divert(m, 0)
#define TL_TSAN_MUTEX_POST_DIVERT(m) __tsan_mutex_post_divert(m, 0)
#define TL_TSAN_TRY_LOCK 0x10u        // __tsan_mutex_try_lock
#define TL_TSAN_TRY_LOCK_FAILED 0x20u // __tsan_mutex_try_lock_failed
#else
#define TL_TSAN_MUTEX_PRE_LOCK(m, f) ((void)(m), (void)(f))
#define TL_TSAN_MUTEX_POST_LOCK(m, f) ((void)(m), (void)(f))
#define TL_TSAN_MUTEX_PRE_UNLOCK(m) ((void)(m))
#define TL_TSAN_MUTEX_POST_UNLOCK(m) ((void)(m))
#define TL_TSAN_MUTEX_PRE_DIVERT(m) ((void)(m))
#define TL_TSAN_MUTEX_POST_DIVERT(m) ((void)(m))
#define TL_TSAN_TRY_LOCK 0u
#define TL_TSAN_TRY_LOCK_FAILED 0u
#endif
