// lock.cpp — runtime locks: no syscall when uncontended, the owner
// recorded (for wait-for graphs and for kill to release them).
//
// Invariants:
//   - word: 0 free, 1 held, 2 held and someone may be waiting.
//   - A held lock is on its owner's held_locks list exactly while held.
//   - A waiter is BLOCKED while it waits, so a stop-the-world never needs to
//     signal it; it returns to MANAGED (through the state gate) holding the
//     lock.
//   - Waiting is a safe point for kill: the waiter wakes every kWaitSliceUs
//     to look for a kill request, so killing it runs its cleanups (a soft
//     kill) instead of needing a signal.
#include "current.h"
#include "race_point.h"
#include "globals.h"
#include "inject.h"
#include "os.h"
#include "record.h"
#include "status.h"
#include "kill.h"
#include "registry.h"
#include "world.h"

using namespace tl;

namespace {
constexpr unsigned kWaitSliceUs = 20000;

void take(Record* r, tl_lock* l) {
  __atomic_store_n(&l->owner, r->id, __ATOMIC_RELAXED);
  l->next_held = r->held_locks;
  r->held_locks = l;
}
}  // namespace

extern "C" int tl_lock_acquire(tl_lock* l) {
  if (!l) return fail(TL_EINVAL, "tl_lock_acquire: lock is NULL");
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_lock_acquire: the calling thread has no record");
  if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == r->id && __atomic_load_n(&l->word, __ATOMIC_RELAXED) != 0)
    return fail(TL_EDEADLK, "tl_lock_acquire: thread %llu already holds this lock", static_cast<unsigned long long>(r->id));
  uint32_t expected = 0;
  if (__atomic_compare_exchange_n(&l->word, &expected, 1u, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
    take(r, l);
    return TL_OK;
  }
  const bool managed = r->current_state() == State::Managed;
  if (managed) {
    world::save_own_context(r);
    r->move(State::Managed, State::Blocked);
  }
  r->waiting_on.store(l, std::memory_order_release);
  while (__atomic_exchange_n(&l->word, 2u, __ATOMIC_ACQUIRE) != 0) {
    os::futex_wait_for(&l->word, 2, kWaitSliceUs);
    if (r->kill_requested.load(std::memory_order_acquire) && managed) {
      r->waiting_on.store(nullptr, std::memory_order_release);
      r->move(State::Blocked, State::Managed);
      kill_unwind(r);
    }
  }
  r->waiting_on.store(nullptr, std::memory_order_release);
  take(r, l);
  if (managed) r->move(State::Blocked, State::Managed);
  return TL_OK;
}

extern "C" int tl_lock_release(tl_lock* l) {
  if (!l) return fail(TL_EINVAL, "tl_lock_release: lock is NULL");
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_lock_release: the calling thread has no record");
  if (__atomic_load_n(&l->word, __ATOMIC_RELAXED) == 0 || __atomic_load_n(&l->owner, __ATOMIC_RELAXED) != r->id)
    return fail(TL_ESTATE, "tl_lock_release: thread %llu does not hold this lock", static_cast<unsigned long long>(r->id));
  for (tl_lock** p = &r->held_locks; *p; p = &(*p)->next_held) {
    if (*p == l) {
      *p = l->next_held;
      break;
    }
  }
  l->next_held = nullptr;
  __atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
  TL_RACE_POINT();  // no owner recorded, the word still held
  if (__atomic_exchange_n(&l->word, 0u, __ATOMIC_RELEASE) == 2) {
    // DEFECT unlock_loses_wakeup: the queued waiter is never woken.
    if (!TL_INJECT(unlock_loses_wakeup)) os::futex_wake(&l->word, 1);
  }
  return TL_OK;
}

extern "C" size_t tl_wait_edges(tl_wait_edge* out, size_t cap) {
  // Async-signal-safe: atomics and a lock-free registry walk only.
  if (!initialized()) return 0;
  size_t n = 0;
  registry().for_each_lockfree([&](Record* r) {
    tl_lock* l = r->waiting_on.load(std::memory_order_acquire);
    if (!l) return;
    if (out && n < cap) {
      out[n].waiter = r->id;
      out[n].owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
      out[n].lock = reinterpret_cast<uintptr_t>(l);
    }
    ++n;
  });
  return n;
}
