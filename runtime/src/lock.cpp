// lock.cpp — runtime locks: no syscall when uncontended, waiters queued FIFO
// with no cap, hand-off to a chosen successor, recursion, timed takes; the
// owner and every waiter recorded (for wait-for graphs and for kill).
//
// SIGNAL PATH: abandon_held_locks runs in a hard kill's handler; nothing in
// this file allocates or takes a mutex.
//
// Invariants:
//   - word: kHeld while owned; kQueued while the FIFO is non-empty; kGuard
//     while one thread edits the FIFO (a few instructions, never across a
//     wait); kWaking while a waiter woken to retry (kWoken) has not yet come
//     back to the guard. Fast paths are one CAS: 0 -> kHeld and kHeld -> 0;
//     any other word takes the slow path.
//   - kWaking: at most one waiter is on its way back at a time. A plain
//     release that finds kWaking frees the lock without waking anyone (the
//     one on its way retries; if it finds the lock held again it queues at
//     the front and clears kWaking under the guard, and the next release
//     wakes it again). The bit is cleared only under the guard, by the
//     woken waiter (or, if it leaves at a deadline or kill, by leave_queue,
//     which passes the wake on instead when the lock is free).
//   - A waiter's node is its record's lock_wait, on at most one queue. Only
//     the guard holder links or unlinks nodes; a node leaves the queue with
//     wake set to kWoken (retry, at the front of the queue) or kGranted
//     (the releaser made it the owner), then gets a futex wake.
//   - owner is the holder's id exactly while kHeld (a granted waiter is the
//     owner before it runs); a held lock is on its owner's held_locks list
//     once the owner runs (granted: when it wakes).
//   - A waiter is BLOCKED while it waits (a stop-the-world never signals it)
//     and wakes every kWaitSliceUs to honour a kill or its deadline.
//   - flags bit kAbandoned: the last owner died holding it; the next take
//     returns TL_EOWNERDEAD and clears it.
#include <sched.h>

#include "current.h"
#include "globals.h"
#include "inject.h"
#include "kill.h"
#include "lock.h"
#include "os.h"
#include "race_point.h"
#include "record.h"
#include "registry.h"
#include "sanitizer_policy.h"
#include "status.h"
#include "world.h"

using namespace tl;

namespace {
constexpr uint32_t kHeld = 1, kQueued = 2, kGuard = 4, kWaking = 8;
constexpr uint32_t kWaiting = 0, kWoken = 1, kGranted = 2;
constexpr uint32_t kAbandoned = 1u << 31;
constexpr unsigned kWaitSliceUs = 20000;
constexpr int kSpins = 20;

inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Take the queue guard; returns the word as it was (guard clear).
uint32_t guard(tl_lock* l) {
  for (unsigned spins = 0;; ++spins) {
    uint32_t w = __atomic_load_n(&l->word, __ATOMIC_RELAXED);
    if (!(w & kGuard) &&
        __atomic_compare_exchange_n(&l->word, &w, w | kGuard, true, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return w;
    if (spins > 64) sched_yield(); else relax();
  }
}
// Drop the guard, publishing `w` (without kGuard) as the new word.
void unguard(tl_lock* l, uint32_t w) { __atomic_store_n(&l->word, w & ~kGuard, __ATOMIC_RELEASE); }

LockWaiter*& head(tl_lock* l) { return reinterpret_cast<LockWaiter*&>(l->head); }
LockWaiter*& tail(tl_lock* l) { return reinterpret_cast<LockWaiter*&>(l->tail); }

// Under the guard.
void enqueue(tl_lock* l, LockWaiter* n, bool front) {
  n->next = nullptr;
  if (!head(l)) {
    head(l) = tail(l) = n;
  } else if (front) {
    n->next = head(l);
    head(l) = n;
  } else {
    // DEFECT thread_cap_bitmask: waiters kept as bits of one 32-bit word, so
    // a thread whose id aliases a queued one's (same id mod 32) is taken to
    // be queued already and is never woken.
    if (TL_INJECT(thread_cap_bitmask)) {
      for (LockWaiter* q = head(l); q; q = q->next)
        if ((q->id & 31) == (n->id & 31)) return;
    }
    tail(l)->next = n;
    tail(l) = n;
  }
}
LockWaiter* pop(tl_lock* l, tl_thread_id want) {
  LockWaiter* prev = nullptr;
  for (LockWaiter* q = head(l); q; prev = q, q = q->next) {
    if (want && q->id != want) continue;
    (prev ? prev->next : head(l)) = q->next;
    if (tail(l) == q) tail(l) = prev;
    q->next = nullptr;
    return q;
  }
  return nullptr;
}
uint32_t queued_bit(tl_lock* l) { return head(l) ? kQueued : 0; }

void push_held(Record* r, tl_lock* l) {
  l->next_held = r->held_locks;
  r->held_locks = l;
}
void unlink_held(Record* r, tl_lock* l) {
  if (__builtin_expect(r->held_locks == l, 1)) {  // the innermost, usually
    r->held_locks = l->next_held;
    l->next_held = nullptr;
    return;
  }
  for (tl_lock** p = &r->held_locks; *p; p = &(*p)->next_held) {
    if (*p == l) {
      *p = l->next_held;
      break;
    }
  }
  l->next_held = nullptr;
}

// The caller now owns l: record it, and say whether the last owner died.
__attribute__((noinline, cold)) int abandoned(tl_lock* l) {
  __atomic_fetch_and(&l->flags, ~kAbandoned, __ATOMIC_RELAXED);
  return fail(TL_EOWNERDEAD, "lock %s: its previous owner died holding it; the caller holds it now",
              l->name ? l->name : "(unnamed)");
}
inline int took(Record* r, tl_lock* l, unsigned tsan_flags) {
  __atomic_store_n(&l->owner, r->id, __ATOMIC_RELAXED);  // depth is 0 whenever the lock is free
  push_held(r, l);
  TL_TSAN_MUTEX_POST_LOCK(l, tsan_flags);
  if (__builtin_expect(__atomic_load_n(&l->flags, __ATOMIC_RELAXED) & kAbandoned, 0)) return abandoned(l);
  return TL_OK;
}

// Give up the lock (the caller owns it, off its held list already). With
// `to` a waiter's id (or kFifo for the oldest), make that waiter the owner;
// otherwise free it and wake the oldest waiter to retry. False if `to` was
// given but is not queued (the lock is still held then).
constexpr tl_thread_id kNobody = 0, kFifo = ~tl_thread_id{0};
__attribute__((noinline)) bool let_go_slow(tl_lock* l, tl_thread_id to, tl_thread_id self);
inline bool let_go(tl_lock* l, tl_thread_id to) {
  const tl_thread_id self = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
  uint32_t expect = kHeld;
  if (__builtin_expect(to == kNobody && !(__atomic_load_n(&l->flags, __ATOMIC_RELAXED) & TL_LOCK_FAIR), 1)) {
    __atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
    TL_RACE_POINT();  // no owner recorded, the word still held
    if (__atomic_compare_exchange_n(&l->word, &expect, 0u, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) return true;
  }
  return let_go_slow(l, to, self);
}
bool let_go_slow(tl_lock* l, tl_thread_id to, tl_thread_id self) {
  if (to == kNobody && (__atomic_load_n(&l->flags, __ATOMIC_RELAXED) & TL_LOCK_FAIR)) to = kFifo;
  if (to == kNobody) {
    // Nobody to wake (no queue, or a woken waiter is on its way back): free
    // the lock with one CAS, the queue and kWaking as they are. The guard
    // held by another: below, which waits for it.
    for (uint32_t w = __atomic_load_n(&l->word, __ATOMIC_RELAXED);;) {
      if ((w & kGuard) || ((w & kQueued) && !(w & kWaking))) break;
      if (__atomic_compare_exchange_n(&l->word, &w, w & ~kHeld, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        return true;
    }
  }
  uint32_t w = guard(l);
  // A plain release wakes only when nobody is on the way back already.
  LockWaiter* n = (to == kNobody && (w & kWaking)) ? nullptr : pop(l, to == kFifo ? 0 : to);
  if (to != kNobody && to != kFifo && !n) {
    __atomic_store_n(&l->owner, self, __ATOMIC_RELAXED);
    unguard(l, w);
    return false;
  }
  // DEFECT unlock_loses_wakeup: the waiter is dequeued but never told (nor
  // woken): it sleeps on, off the queue, while the lock goes free.
  const bool lose = n && to == kNobody && TL_INJECT(unlock_loses_wakeup);
  if (n && to != kNobody) {  // hand-off: the lock never becomes free
    __atomic_store_n(&l->owner, n->id, __ATOMIC_RELAXED);
    __atomic_store_n(&n->wake, kGranted, __ATOMIC_RELEASE);
    unguard(l, kHeld | queued_bit(l) | (w & kWaking));
  } else {
    __atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
    if (n && !lose) __atomic_store_n(&n->wake, kWoken, __ATOMIC_RELEASE);
    unguard(l, queued_bit(l) | ((n && !lose) || (w & kWaking) ? kWaking : 0));
  }
  if (n && !lose) os::futex_wake(&n->wake, 1);
  return true;
}

// Leave the queue after a timeout or a kill. Returns kGranted if the lock
// was handed to us meanwhile (we own it), else kWaiting.
uint32_t leave_queue(tl_lock* l, LockWaiter* me) {
  uint32_t w = guard(l);
  uint32_t how = __atomic_load_n(&me->wake, __ATOMIC_ACQUIRE);
  if (how == kGranted) {
    unguard(l, w);
    return kGranted;
  }
  if (how == kWaiting) {
    pop(l, me->id);
    unguard(l, (w & ~kQueued) | queued_bit(l));
    return kWaiting;
  }
  // Woken to retry: pass the wake on (kWaking stays, now for it), or the
  // next waiter sleeps on a free lock; with the lock held, clear kWaking so
  // that its release wakes the next.
  LockWaiter* n = (w & kHeld) ? nullptr : pop(l, 0);
  if (n) __atomic_store_n(&n->wake, kWoken, __ATOMIC_RELEASE);
  unguard(l, (w & ~(kQueued | kWaking)) | queued_bit(l) | (n ? kWaking : 0));
  if (n) os::futex_wake(&n->wake, 1);
  return kWaiting;
}

// After a take (rc TL_OK or TL_EOWNERDEAD): the acquired-before edges from
// the other locks the caller holds, when checking is on.
inline int ordered(Record* r, tl_lock* l, bool order, int rc) {
  if (__builtin_expect(order, 0) && (rc == TL_OK || rc == TL_EOWNERDEAD) && l->next_held) order_after_take(r, l);
  return rc;
}

uint64_t now_us() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

__attribute__((noinline)) int acquire_slow(Record* r, tl_lock* l, unsigned timeout_ms, const char* what);

// The rest of a fast-path take that found the lock abandoned, or took it
// while holding others with checking on (took() less what the fast path did).
// Not `cold`: with checking on (the reference adapter's default) every
// nested take comes here, and a cold copy cost 3 ns of its 20.
__attribute__((noinline)) int took_rare(Record* r, tl_lock* l, bool order) {
  const int rc = (__atomic_load_n(&l->flags, __ATOMIC_RELAXED) & kAbandoned) ? abandoned(l) : TL_OK;
  return ordered(r, l, order, rc);
}

// The fast path, inlined into each entry point; the rest is out of line.
// Free lock, no order check asked by the lock: one CAS, the owner and the
// held list written, two loads to rule out the rare cases (abandoned; nested
// with checking on); no call, so no frame.
inline int acquire(tl_lock* l, unsigned timeout_ms, const char* what) {
  Record* r = l ? current_record() : nullptr;
  // Needs no order check before the take: a lock without TL_LOCK_CHECK_ORDER.
  if (__builtin_expect(r && !(__atomic_load_n(&l->flags, __ATOMIC_RELAXED) & TL_LOCK_CHECK_ORDER), 1)) {
    uint32_t w = __atomic_load_n(&l->word, __ATOMIC_RELAXED);
    const unsigned tsan_try = timeout_ms == TL_FOREVER ? 0 : TL_TSAN_TRY_LOCK;
    TL_TSAN_MUTEX_PRE_LOCK(l, tsan_try);
    // Free (waiters queued or not: a running thread may go first): one CAS.
    if (__builtin_expect(!(w & (kHeld | kGuard)), 1) &&
        __builtin_expect(__atomic_compare_exchange_n(&l->word, &w, w | kHeld, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED), 1)) {
      tl_lock* const outer = r->held_locks;
      __atomic_store_n(&l->owner, r->id, __ATOMIC_RELAXED);  // depth is 0 whenever the lock is free
      l->next_held = outer;
      r->held_locks = l;
      TL_TSAN_MUTEX_POST_LOCK(l, tsan_try);
      const bool nested = outer && __atomic_load_n(&order_checking, __ATOMIC_RELAXED);
      if (__builtin_expect((__atomic_load_n(&l->flags, __ATOMIC_RELAXED) & kAbandoned) || nested, 0))
        return took_rare(r, l, nested);
      return TL_OK;
    }
    TL_TSAN_MUTEX_POST_LOCK(l, TL_TSAN_TRY_LOCK | TL_TSAN_TRY_LOCK_FAILED);
  }
  return acquire_slow(r, l, timeout_ms, what);
}

int acquire_slow(Record* r, tl_lock* l, unsigned timeout_ms, const char* what) {
  if (!l) return fail(TL_EINVAL, "%s: lock is NULL", what);
  if (!r) return fail(TL_EUNKNOWN, "%s: the calling thread has no record", what);
  const unsigned tsan_try = timeout_ms == TL_FOREVER ? 0 : TL_TSAN_TRY_LOCK;
  if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == r->id && (__atomic_load_n(&l->word, __ATOMIC_RELAXED) & kHeld)) {
    if (__atomic_load_n(&l->flags, __ATOMIC_RELAXED) & TL_LOCK_RECURSIVE) {
      ++l->depth;  // ThreadSanitizer sees the outermost take only
      return TL_OK;
    }
    return fail(TL_EDEADLK, "%s: thread %llu already holds this lock", what, static_cast<unsigned long long>(r->id));
  }
  const bool order = r->held_locks && __atomic_load_n(&order_checking, __ATOMIC_RELAXED);
  if (order && (__atomic_load_n(&l->flags, __ATOMIC_RELAXED) & TL_LOCK_CHECK_ORDER)) {
    int rc = order_refuses(r, l);
    if (rc != TL_OK) return rc;
  }
  TL_TSAN_MUTEX_PRE_LOCK(l, tsan_try);
  // Free (waiters or not: a running thread may go first): one CAS. Spin a
  // little while it is held and nobody queues yet.
  for (int i = 0;; ++i) {
    uint32_t w = __atomic_load_n(&l->word, __ATOMIC_RELAXED);
    if (!(w & (kHeld | kGuard)) &&
        __atomic_compare_exchange_n(&l->word, &w, w | kHeld, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return ordered(r, l, order, took(r, l, tsan_try));
    if (i >= kSpins || (w & kQueued) || timeout_ms == 0) break;
    relax();
  }
  {
    uint32_t w = guard(l);
    if (!(w & kHeld)) {
      unguard(l, w | kHeld);
      return ordered(r, l, order, took(r, l, tsan_try));
    }
    if (timeout_ms == 0) {
      unguard(l, w);
      TL_TSAN_MUTEX_POST_LOCK(l, TL_TSAN_TRY_LOCK | TL_TSAN_TRY_LOCK_FAILED);
      return fail(TL_EBUSY, "%s: held by thread %llu", what,
                  static_cast<unsigned long long>(__atomic_load_n(&l->owner, __ATOMIC_RELAXED)));
    }
    unguard(l, w);
  }
  const uint64_t deadline = timeout_ms == TL_FOREVER ? 0 : now_us() + uint64_t{timeout_ms} * 1000u;
  const bool managed = r->current_state() == State::Managed;
  if (managed) {
    // Outside ThreadSanitizer's ignore (pre_lock above): a stopper that
    // finds this thread BLOCKED synchronises with this state change, and
    // must see everything the thread did before it (sanitizer_policy.h).
    TL_TSAN_MUTEX_PRE_DIVERT(l);
    world::save_own_context(r);
    r->move(State::Managed, State::Blocked);
    TL_TSAN_MUTEX_POST_DIVERT(l);
  }
  LockWaiter* me = &r->lock_wait;
  me->id = r->id;
  r->waiting_on.store(l, std::memory_order_release);
  bool front = false;  // woken to retry: it holds kWaking until here
  int rc = TL_OK;
  for (;;) {
    __atomic_store_n(&me->wake, kWaiting, __ATOMIC_RELAXED);
    uint32_t w = guard(l);
    if (front) w &= ~kWaking;
    if (!(w & kHeld)) {
      unguard(l, w | kHeld);
      break;  // ours
    }
    enqueue(l, me, front);
    unguard(l, w | kQueued);
    uint32_t how;
    while ((how = __atomic_load_n(&me->wake, __ATOMIC_ACQUIRE)) == kWaiting) {
      unsigned slice = kWaitSliceUs;
      if (deadline) {
        const uint64_t t = now_us();
        if (t >= deadline) break;
        if (deadline - t < slice) slice = static_cast<unsigned>(deadline - t);
      }
      os::futex_wait_for(&me->wake, kWaiting, slice);
      if (managed && r->kill_requested.load(std::memory_order_acquire)) break;
    }
    if (how == kWaiting) how = leave_queue(l, me);  // deadline or kill
    if (how == kGranted) break;                      // handed to us
    if (how == kWoken) {
      front = true;  // retry ahead of those who came later
      continue;
    }
    TL_TSAN_MUTEX_POST_LOCK(l, TL_TSAN_TRY_LOCK | TL_TSAN_TRY_LOCK_FAILED);
    if (managed && r->kill_requested.load(std::memory_order_acquire)) {
      r->waiting_on.store(nullptr, std::memory_order_release);
      r->move(State::Blocked, State::Managed);
      kill_unwind(r);
    }
    rc = fail(TL_ETIMEDOUT, "%s: lock %s still held by thread %llu after %u ms", what, l->name ? l->name : "(unnamed)",
              static_cast<unsigned long long>(__atomic_load_n(&l->owner, __ATOMIC_RELAXED)), timeout_ms);
    break;
  }
  r->waiting_on.store(nullptr, std::memory_order_release);
  if (rc == TL_OK) rc = took(r, l, tsan_try);
  if (managed) r->move(State::Blocked, State::Managed);
  // A kill asked while we were granted the lock: we hold it, so the unwind
  // releases it (as for any lock held at a kill).
  return ordered(r, l, order, rc);
}

// owner is the caller's id only while the caller holds the lock.
inline int check_owner(Record* r, tl_lock* l, const char* what) {
  if (__builtin_expect(__atomic_load_n(&l->owner, __ATOMIC_RELAXED) != r->id, 0))
    return fail(TL_ESTATE, "%s: thread %llu does not hold this lock", what, static_cast<unsigned long long>(r->id));
  return TL_OK;
}
}  // namespace

extern "C" int tl_lock_init(tl_lock* l, const char* name, unsigned flags) {
  if (!l) return fail(TL_EINVAL, "tl_lock_init: lock is NULL");
  if (flags & ~unsigned{TL_LOCK_RECURSIVE | TL_LOCK_CHECK_ORDER | TL_LOCK_FAIR})
    return fail(TL_EINVAL, "tl_lock_init: unknown flags %#x", flags);
  *l = tl_lock TL_LOCK_INIT;
  l->flags = flags;
  l->name = name;
  if (flags & TL_LOCK_CHECK_ORDER) tl_lock_order_check(1);
  return TL_OK;
}

extern "C" int tl_lock_acquire(tl_lock* l) { return acquire(l, TL_FOREVER, "tl_lock_acquire"); }
extern "C" int tl_lock_acquire_timed(tl_lock* l, unsigned ms) { return acquire(l, ms, "tl_lock_acquire_timed"); }
extern "C" int tl_lock_try(tl_lock* l) { return acquire(l, 0, "tl_lock_try"); }

namespace {
// Every release the fast path below does not finish.
__attribute__((noinline)) int release_slow(Record* r, tl_lock* l) {
  if (!l) return fail(TL_EINVAL, "tl_lock_release: lock is NULL");
  if (!r) return fail(TL_EUNKNOWN, "tl_lock_release: the calling thread has no record");
  if (int rc = check_owner(r, l, "tl_lock_release")) return rc;
  if (l->depth > 0) {
    --l->depth;
    return TL_OK;
  }
  TL_TSAN_MUTEX_PRE_UNLOCK(l);
  unlink_held(r, l);
  let_go(l, kNobody);
  TL_TSAN_MUTEX_POST_UNLOCK(l);
  return TL_OK;
}
// The fast path's release found waiters (or the guard): the owner is
// already cleared and the lock off the held list.
__attribute__((noinline)) int release_contended(tl_lock* l, tl_thread_id self) {
  let_go_slow(l, kNobody, self);
  TL_TSAN_MUTEX_POST_UNLOCK(l);
  return TL_OK;
}
}  // namespace

// Fast path: the caller owns l once (not recursively), l is its innermost
// held lock and l is not TL_LOCK_FAIR: the lock unlinked from the held
// list, the owner cleared, one CAS (held -> free); no call, so no frame.
// A waiter to wake, or the guard in the word: release_contended. Anything else is
// release_slow, which checks and does the same in general.
extern "C" int tl_lock_release(tl_lock* l) {
  Record* r = l ? current_record() : nullptr;
  if (__builtin_expect(r != nullptr, 1)) {
    const tl_thread_id self = r->id;
    if (__builtin_expect(__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == self && l->depth == 0 &&
                             r->held_locks == l && !(__atomic_load_n(&l->flags, __ATOMIC_RELAXED) & TL_LOCK_FAIR),
                         1)) {
      // The word is read before the bookkeeping (its latency hidden); the
      // CAS checks it is still so.
      uint32_t w = __atomic_load_n(&l->word, __ATOMIC_RELAXED);
      TL_TSAN_MUTEX_PRE_UNLOCK(l);
      r->held_locks = l->next_held;
      l->next_held = nullptr;
      __atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
      TL_RACE_POINT();  // no owner recorded, the word still held
      // Nobody to wake (no waiters, or one already woken: kWaking): one CAS
      // clears kHeld.
      if (__builtin_expect(!(w & kGuard) && (!(w & kQueued) || (w & kWaking)), 1) &&
          __builtin_expect(__atomic_compare_exchange_n(&l->word, &w, w & ~kHeld, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED), 1)) {
        TL_TSAN_MUTEX_POST_UNLOCK(l);
        return TL_OK;
      }
      return release_contended(l, self);
    }
  }
  return release_slow(r, l);
}

extern "C" int tl_lock_handoff(tl_lock* l, tl_thread_id successor) {
  if (!l) return fail(TL_EINVAL, "tl_lock_handoff: lock is NULL");
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_lock_handoff: the calling thread has no record");
  if (int rc = check_owner(r, l, "tl_lock_handoff")) return rc;
  if (l->depth > 0) return fail(TL_ESTATE, "tl_lock_handoff: the lock is held recursively (%u more)", l->depth);
  TL_TSAN_MUTEX_PRE_UNLOCK(l);
  unlink_held(r, l);
  if (!let_go(l, successor ? successor : kFifo)) {
    push_held(r, l);
    TL_TSAN_MUTEX_POST_UNLOCK(l);  // to ThreadSanitizer: released and taken again
    TL_TSAN_MUTEX_PRE_LOCK(l, 0);
    TL_TSAN_MUTEX_POST_LOCK(l, 0);
    return fail(TL_ENOTHREAD, "tl_lock_handoff: thread %llu is not waiting on this lock",
                static_cast<unsigned long long>(successor));
  }
  TL_TSAN_MUTEX_POST_UNLOCK(l);
  return TL_OK;
}

extern "C" size_t tl_lock_waiters(tl_lock* l, tl_thread_id* out, size_t cap) {
  if (!l) return 0;
  uint32_t w = guard(l);
  size_t n = 0;
  for (LockWaiter* q = head(l); q; q = q->next, ++n)
    if (out && n < cap) out[n] = q->id;
  unguard(l, w);
  return n;
}

namespace tl {
unsigned abandon_held_locks(Record* r) {
  unsigned n = 0;
  while (tl_lock* l = r->held_locks) {
    r->held_locks = l->next_held;
    l->next_held = nullptr;
    l->depth = 0;
    __atomic_fetch_or(&l->flags, kAbandoned, __ATOMIC_RELAXED);
    TL_TSAN_MUTEX_PRE_UNLOCK(l);  // (the reaper's release of a dead thread's lock is by another thread)
    let_go(l, kNobody);
    TL_TSAN_MUTEX_POST_UNLOCK(l);
    ++n;
  }
  return n;
}
}  // namespace tl

extern "C" size_t tl_wait_edges(tl_wait_edge* out, size_t cap) {
  // Async-signal-safe: atomics and a lock-free registry walk only.
  if (!initialized()) return 0;
  size_t n = 0;
  registry().for_each_lockfree([&](Record* r) {
    tl_lock* l = r->waiting_on.load(std::memory_order_acquire);
    if (!l) return;
    const tl_thread_id owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
    if (owner == r->id) return;  // granted, not yet awake
    if (out && n < cap) {
      out[n].waiter = r->id;
      out[n].owner = owner;
      out[n].lock = reinterpret_cast<uintptr_t>(l);
    }
    ++n;
  });
  return n;
}
