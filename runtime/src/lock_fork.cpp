// lock_fork.cpp — runtime locks (tl_lock, lock.cpp) in a fork child, where
// only the forking thread exists.
//
// Invariants:
//   - Runs only in the child handler (fork.cpp), single-threaded: it edits
//     lock words, owners and queues directly, never through the queue guard
//     (a vanished thread may have held the guard; lock.cpp's guard() would
//     spin on it for good).
//   - A lock a vanished thread held is left free and marked abandoned (the
//     next taker gets TL_EOWNERDEAD, as after a kill) and is reported; a
//     queue a vanished thread waited in is emptied (every waiter vanished:
//     the forking thread is not waiting); a lock the forking thread holds
//     stays held by it, its queue emptied.
//   - Uses the word layout runtime.h documents for tl_lock (bit 0 held,
//     bit 1 waiters queued, bit 2 queue guard; flags bit 31 abandoned).
#include "fork.h"
#include "record.h"
#include "sanitizer_policy.h"

namespace tl {
namespace {

constexpr uint32_t kHeld = 1;
constexpr uint32_t kAbandoned = 1u << 31;

void empty_queue(tl_lock* l) {
  l->head = nullptr;
  l->tail = nullptr;
  __atomic_store_n(&l->word, __atomic_load_n(&l->word, __ATOMIC_RELAXED) & kHeld, __ATOMIC_RELEASE);
}

// Free l, marked abandoned, and report it under its last owner's id.
void take_over(tl_lock* l, tl_thread_id owner) {
  l->next_held = nullptr;
  l->depth = 0;
  l->head = nullptr;
  l->tail = nullptr;
  __atomic_store_n(&l->owner, tl_thread_id{0}, __ATOMIC_RELAXED);
  __atomic_fetch_or(&l->flags, kAbandoned, __ATOMIC_RELAXED);
  TL_TSAN_MUTEX_PRE_UNLOCK(l);  // to ThreadSanitizer: released by the thread that took it over
  __atomic_store_n(&l->word, 0u, __ATOMIC_RELEASE);
  TL_TSAN_MUTEX_POST_UNLOCK(l);
  forking::report_lock(l, owner);
}

}  // namespace

unsigned locks_fork_take_over(Record* r) {
  unsigned n = 0;
  if (tl_lock* w = r->waiting_on.load(std::memory_order_acquire)) {
    // Granted by a hand-off but not yet awake: it owns the lock, which is
    // on no held list yet.
    if (__atomic_load_n(&w->owner, __ATOMIC_RELAXED) == r->id && (__atomic_load_n(&w->word, __ATOMIC_RELAXED) & kHeld)) {
      take_over(w, r->id);
      ++n;
    } else {
      empty_queue(w);
    }
  }
  r->waiting_on.store(nullptr, std::memory_order_relaxed);
  while (tl_lock* l = r->held_locks) {
    r->held_locks = l->next_held;
    take_over(l, r->id);
    ++n;
  }
  return n;
}

void locks_fork_survivor(Record* self) {
  for (tl_lock* l = self->held_locks; l; l = l->next_held) empty_queue(l);
}

}  // namespace tl
