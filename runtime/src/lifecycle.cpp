// lifecycle.cpp — thread teardown and record freeing.
#include "lifecycle.h"

#include "adopt_cache.h"
#include "inject.h"
#include "ledger.h"
#include "record.h"
#include "registry.h"
#include "slot.h"
#include "current.h"
#include "gc/inhibit.h"
#include "interrupt.h"
#include "world.h"

namespace tl {

void retire_stacks(Record* r);

void thread_teardown(Record* r) {
  // Close any without-GC scope the thread left open; the collection it
  // deferred runs now, while the thread can still take part in it.
  gc::close_scopes_of(r, /*may_collect=*/true);
  // Shared side of the lifecycle lock: a thread never starts exiting while
  // the world is stopped, so a stopper never signals a thread that is gone.
  world::lifecycle_enter();
  State s = r->current_state();
  if (s == State::Blocked) {
    r->move(State::Blocked, State::Managed);
    s = State::Managed;
  }
  r->move(s, State::Exiting);
  world::lifecycle_leave();
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
  // DEFECT free_record_while_suspended: with it every free runs in the
  // stopper, mid-stop (registry.cpp, world.cpp), and gives the record back
  // to the allocator, as when the cache is full: a stopped thread may hold
  // the allocator's lock. The cache would hide that.
  const bool to_allocator = TL_INJECT(free_record_while_suspended);
  if ((r->flags & TL_FLAG_ADOPTED) && !to_allocator && adopt_cache_put(r)) return;
  record_delete(r);
}

}  // namespace tl
