// lifecycle.cpp — thread teardown, the reaper of adopted records whose
// thread died without one, and record freeing (see lifecycle.h).
#include "lifecycle.h"
#include "race_point.h"

#include "death_watch.h"
#include "fault.h"
#include "kill.h"
#include "ledger.h"

#include "adopt_cache.h"
#include "inject.h"
#include "ledger.h"
#include "record.h"
#include "registry.h"
#include "thread_handles.h"
#include "slot.h"
#include "current.h"
#include "gc/inhibit.h"
#include "interrupt.h"
#include "world.h"

namespace tl {

void retire_stacks(Record* r);

void thread_leave_for_exit(Record* r) {
  // A thread that exits holding the world stopped gives it back first: the
  // threads it stopped would otherwise wait for a resume nobody sends.
  world::end_stop_of_exiting(r);
  // Close any without-GC scope the thread left open; the collection it
  // deferred runs now, while the thread can still take part in it.
  gc::close_scopes_of_and_collect(r);
  // Shared side of the lifecycle lock: a thread never starts exiting while
  // the world is stopped, so a stopper never signals a thread that is gone.
  world::lifecycle_enter();
  State s = r->current_state();
  if (s == State::Blocked) {
    r->move(State::Blocked, State::Managed);
    s = State::Managed;
  }
  r->move(s, State::Exiting);
  // From here only this thread releases the record: the reaper takes no
  // record that is EXITING, and the watch no longer reports it.
  death_watch_disarm(&r->death);
  world::lifecycle_leave();
}

void thread_release(Record* r) {
  TL_RACE_POINT();  // EXITING: stoppers skip it, the reaper must too
  fault::thread_detach(r);  // on the thread: its altstack back as it was (fault.h)
  r->callback_depth.store(0, std::memory_order_relaxed);
  const bool adopted = r->flags & TL_FLAG_ADOPTED;
  // DEFECT interrupt_during_exit: queued interrupts run after the stacks
  // were retired (Clozure CL #517).
  const bool late_interrupts = TL_INJECT(interrupt_during_exit);
  if (!late_interrupts) drop_interrupts(r);
  // DEAD and the stacks retired together under the registry lock: its
  // readers (integrity checks; the collector, whose stopper holds it for the
  // whole stop) skip dead records, and see either a live record with its
  // stacks or a dead one, never a live record whose stacks go away under
  // them (a check that read the state first then faulted on the canary).
  registry().lock();
  r->move(State::Exiting, State::Dead);
  handles_release(r);  // on the thread itself: its kernel handle (thread_handles.h)
  if (adopted) retire_stacks(r);
  registry().unlock();
  if (late_interrupts) run_interrupts(r);
  if (adopted) {
    // DEFECT adopted_record_not_released: the key destructor forgets the
    // adopted record; it stays registered (dead) with its stacks mapped.
    if (TL_INJECT(adopted_record_not_released)) return;
    ledger().records_adopted.fetch_sub(1, std::memory_order_relaxed);
    // Unbind first: once retired, another thread's reap may free the record
    // at any moment, and nothing on this thread may reach it through TLS.
    bind_tls_only(nullptr);
    registry().retire(r);
  }
}

namespace {

// The thread is dead: do what its teardown would have done. Runs under the
// registry lock, so no stop is in progress and none begins.
void release_vanished(Record* r) {
  State s = r->current_state();
  if (s == State::Blocked) {
    transition(r->state, State::Blocked, State::Managed, r->id);
    s = State::Managed;
  }
  transition(r->state, s, State::Exiting, r->id);
  r->callback_depth.store(0, std::memory_order_relaxed);
  r->waiting_on.store(nullptr, std::memory_order_relaxed);
  drop_interrupts(r);
  release_held_locks(r);  // a dead owner never unlocks them
  gc::close_scopes_of_leaving_pending(r);  // run after the unlock
  r->no_interrupt_depth.store(0, std::memory_order_relaxed);
  transition(r->state, State::Exiting, State::Dead, r->id);
  handles_release(r);  // the thread is gone; its kernel handle is not
  retire_stacks(r);
  r->vanished.store(false, std::memory_order_relaxed);
  ledger().records_adopted.fetch_sub(1, std::memory_order_relaxed);
  ledger().records_vanished.fetch_add(1, std::memory_order_relaxed);
  registry().retire(r);
}

}  // namespace

bool record_vanished(Record* r) {
  if (!(r->flags & TL_FLAG_ADOPTED)) return false;
  if (r->vanished.load(std::memory_order_acquire)) return true;
  if (death_watch_check(&r->death) != Liveness::Dead) return false;
  r->vanished.store(true, std::memory_order_release);  // the claim is kept for the reaper
  return true;
}

void reap_vanished() {
  constexpr unsigned kBatch = 32;  // the rest at the next call
  Record* dead[kBatch];
  unsigned n = 0;
  // Mid-stop (the stopper reading counters or the thread list) targets
  // carry the stop bit, and the stopper may be scanning them: later.
  if (world::stopped()) return;
  registry().lock();
  registry().for_each_locked([&](Record* r) {
    if (n == kBatch || !(r->flags & TL_FLAG_ADOPTED)) return;
    const State s = r->current_state();
    if (s == State::Exiting || s == State::Dead) return;
    if (record_vanished(r)) dead[n++] = r;
  });
  for (unsigned i = 0; i < n; ++i) release_vanished(dead[i]);
  registry().unlock();
  if (n) gc::run_pending_if_uninhibited();
}

// An adopted thread's value and temp stacks are dead once it exits: make
// them inaccessible at once. They stay so while the record is cached for the
// next adoption (adopt_cache.h), and are unmapped when it is deleted.
void retire_stacks(Record* r) { retire_together(r->value, r->temp); }

void record_free(Record* r) {
  ledger().records_live.fetch_sub(1, std::memory_order_relaxed);
  if (r->slot) {
    slot_release(r->slot);
    return;
  }
  // The free_record_while_suspended defect (marked in world.cpp): with it
  // every free runs in the stopper, mid-stop, and gives the record back
  // to the allocator, as when the cache is full: a stopped thread may hold
  // the allocator's lock. The cache would hide that.
  const bool to_allocator = TL_INJECT(free_record_while_suspended);
  if ((r->flags & TL_FLAG_ADOPTED) && !to_allocator && adopt_cache_put(r)) return;
  record_delete(r);
}

}  // namespace tl
