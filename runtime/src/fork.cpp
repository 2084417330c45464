// fork.cpp — the runtime across fork(): pthread_atfork handlers, tl_fork
// and tl_fork_report (see fork.h for the invariants, docs/architecture.md
// "Fork" for the lock order and what the child resets).
//
// Invariants (beyond fork.h):
//   - prepare, parent and child run on the forking thread; which locks
//     prepare took is kept in that thread's thread-locals, which the child
//     inherits, so the child undoes exactly what its prepare did.
//   - Two forks are serialised by the lifecycle lock; a stop in progress
//     ends before prepare gets it, and none begins until the fork is done.
//     The thread holding the world stopped already holds it (and the
//     registry lock): its fork goes ahead, and in the child the stop ends,
//     the threads it stopped being gone. tl_fork refuses that thread.
//   - The child handler allocates and frees (records, interrupt nodes):
//     the C library's allocator is made fork-safe by the C library itself.
//     It never waits: every lock it takes was re-initialised first and no
//     other thread exists.
#include "fork.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <vector>

#include "current.h"
#include "death_watch.h"
#include "fault.h"
#include "fault_forward.h"
#include "gc/heap.h"
#include "gc/inhibit.h"
#include "globals.h"
#include "inject.h"
#include "interrupt.h"
#include "ledger.h"
#include "lock_rank.h"
#include "os.h"
#include "record.h"
#include "registry.h"
#include "status.h"
#include "thread_handles.h"
#include "world.h"

namespace tl {

void retire_stacks(Record* r);  // lifecycle.cpp

namespace {

tl_fork_info g_report{};
std::atomic<uint64_t> g_forks{0};

// What this thread's prepare took, for its parent or child handler.
thread_local bool t_prepared = false;
thread_local bool t_by_stopper = false;
thread_local bool t_heap_taken = false;

void lock_leaves() {
  // One rank entry for every leaf lock: only this handler holds several.
  rank_taken(Rank::Leaf, "every leaf lock (fork)");
  pthread_mutex_lock(slot_cache_mutex());
  pthread_mutex_lock(adopt_cache_mutex());
  pthread_mutex_lock(registry().graveyard_mutex());
  pthread_mutex_lock(names_mutex());
  pthread_mutex_lock(lock_order_mutex());
  mailboxes_fork_lock();
}

void unlock_leaves() {
  mailboxes_fork_unlock();
  pthread_mutex_unlock(lock_order_mutex());
  pthread_mutex_unlock(names_mutex());
  pthread_mutex_unlock(registry().graveyard_mutex());
  pthread_mutex_unlock(adopt_cache_mutex());
  pthread_mutex_unlock(slot_cache_mutex());
  rank_dropped(Rank::Leaf);
}

void prepare() {
  if (!initialized()) return;
  // The tick lock first: tl_set_cpu_tick holds it while it walks the
  // registry, so it ranks above the lifecycle lock here.
  pthread_mutex_lock(tick_mutex());
  t_by_stopper = world::caller_is_stopper();
  if (!t_by_stopper) world::fork_lock();  // a stop in progress ends first
  registry().lock();
  // DEFECT child_lock_not_reinitialized: the heap lock is neither taken
  // before the fork nor made anew in the child; a thread that was refilling
  // its allocation buffer at the fork holds it there for good (bdwgc
  // #816/#909: the child's first allocation blocks).
  t_heap_taken = !TL_INJECT(child_lock_not_reinitialized);
  if (t_heap_taken) lock_ranked(&gc::heap().lock, Rank::Heap, "heap");
  lock_ranked(roots_mutex(), Rank::Roots, "roots");
  lock_leaves();
  g_forks.fetch_add(1, std::memory_order_relaxed);
  t_prepared = true;
}

void parent() {
  if (!t_prepared) return;
  t_prepared = false;
  unlock_leaves();
  unlock_ranked(roots_mutex(), Rank::Roots);
  if (t_heap_taken) unlock_ranked(&gc::heap().lock, Rank::Heap);
  registry().unlock();
  if (!t_by_stopper) world::fork_unlock();
  pthread_mutex_unlock(tick_mutex());
}

// Every lock prepare took, made anew and unlocked; the forking thread then
// holds none (the stopper's own holds included: its stop ends here).
void reinit_locks() {
  rank_reset_after_fork();
  pthread_mutex_init(tick_mutex(), nullptr);
  world::fork_child();
  registry().reinit_lock_after_fork();
  if (t_heap_taken) pthread_mutex_init(&gc::heap().lock, nullptr);
  pthread_mutex_init(roots_mutex(), nullptr);
  pthread_mutex_init(slot_cache_mutex(), nullptr);
  pthread_mutex_init(adopt_cache_mutex(), nullptr);
  pthread_mutex_init(names_mutex(), nullptr);
  pthread_mutex_init(lock_order_mutex(), nullptr);
  g_report.mailboxes_reset = mailboxes_fork_child();
}

// r's thread did not survive: do what its teardown would have done, on its
// behalf (the reaper's release_vanished, lifecycle.cpp, for a thread that
// cannot have run since: nothing of it is destroyed in the kernel, where it
// never existed for this process).
void drop(Record* r) {
  r->state.fetch_and(~kStopBit, std::memory_order_acq_rel);
  State s = r->current_state();
  if (s == State::Blocked) {
    transition(r->state, State::Blocked, State::Managed, r->id);
    s = State::Managed;
  }
  if (s == State::Managed || s == State::Foreign) {
    transition(r->state, s, State::Exiting, r->id);
    s = State::Exiting;
  }
  if (s == State::Creating || s == State::Exiting) transition(r->state, s, State::Dead, r->id);
  r->callback_depth.store(0, std::memory_order_relaxed);
  r->suspend_count.store(0, std::memory_order_relaxed);
  r->target_gen = 0;
  drop_interrupts(r);
  g_report.locks_taken_over += locks_fork_take_over(r);
  if (r->gc_inhibit_depth > 0) ++g_report.scopes_closed;
  gc::close_scopes_of_leaving_pending(r);
  r->no_interrupt_depth.store(0, std::memory_order_relaxed);
  handles_after_fork(r, false);
  fault::forget_after_fork(r);
  death_watch_after_fork(&r->death, false);
  r->join_handle_valid = false;  // nothing to join: the thread never existed here
  if (r->flags & TL_FLAG_ADOPTED) {
    retire_stacks(r);
    ledger().records_adopted.fetch_sub(1, std::memory_order_relaxed);
  }
  registry().retire(r);
}

// The forking thread's record: its new kernel ids, no stop, no interrupt or
// kill pending (they were asked by threads that are gone).
void rekey(Record* self) {
  self->pthread = pthread_self();
  self->kernel_tid.store(os::kernel_tid(), std::memory_order_release);
  self->mach_port = os::mach_thread_port(self->pthread);
  self->state.fetch_and(~kStopBit, std::memory_order_acq_rel);
  self->suspend_count.store(0, std::memory_order_relaxed);
  self->target_gen = 0;
  self->signalled_gen = 0;
  self->stopped_in_handler.store(false, std::memory_order_relaxed);
  self->suspend_pending.store(false, std::memory_order_relaxed);
  drop_interrupts(self);
  self->kill_requested.store(false, std::memory_order_relaxed);
  self->kill_hard.store(false, std::memory_order_relaxed);
  self->kill_done.store(false, std::memory_order_relaxed);
  self->waiting_on.store(nullptr, std::memory_order_relaxed);
  locks_fork_survivor(self);
  handles_after_fork(self, true);
  death_watch_after_fork(&self->death, true);
}

void child() {
  if (!t_prepared) return;
  t_prepared = false;
  g_forks.store(0, std::memory_order_relaxed);  // this process has made none
  g_report = tl_fork_info{};
  g_report.in_child = 1;
  g_report.by_stopper = t_by_stopper ? 1 : 0;
  reinit_locks();
  Record* self = current_record();
  if (self && self->magic != kRecordMagic) self = nullptr;  // released already (a late destructor forked)
  g_report.survivor = self ? self->id : 0;
  g_report.forwarding_stopped = fault::forward_after_fork() ? 1 : 0;
  if (self) rekey(self);
  // DEFECT child_keeps_vanished_records: the records of threads that did
  // not survive stay registered, as if those threads were only slow to
  // die (seed 003); whoever waits for them in the child waits for good.
  if (!TL_INJECT(child_keeps_vanished_records)) {
    std::vector<Record*> gone;
    registry().lock();
    registry().for_each_locked([&](Record* r) {
      if (r != self) gone.push_back(r);
    });
    for (Record* r : gone) drop(r);
    registry().unlock();
    g_report.records_dropped = static_cast<unsigned>(gone.size());
  }
  rt().initial = self;
}

}  // namespace

namespace forking {

void install() {
  static bool done = false;  // under tl_init's lock
  if (done) return;
  done = pthread_atfork(prepare, parent, child) == 0;
}

void report_lock(tl_lock* l, tl_thread_id owner) {
  if (g_report.nlocks >= TL_FORK_LOCKS_MAX) return;
  tl_fork_lock& e = g_report.locks[g_report.nlocks++];
  e.lock = reinterpret_cast<uintptr_t>(l);
  e.owner = owner;
  e.name = l->name;
}

}  // namespace forking
}  // namespace tl

using namespace tl;

extern "C" int tl_fork_check(void) {
  TL_REQUIRE_INIT();
  if (world::caller_is_stopper())
    return fail(TL_EDEADLK, "tl_fork: the calling thread holds the world stopped; fork after tl_resume_others");
  return TL_OK;
}

extern "C" int tl_fork(int* pid) {
  TL_REQUIRE_INIT();
  if (!pid) return fail(TL_EINVAL, "tl_fork: pid is NULL");
  if (int rc = tl_fork_check(); rc != TL_OK) return rc;
  const pid_t p = fork();
  if (p < 0) return fail(TL_EAGAIN, "tl_fork: fork: %s", strerror(errno));
  *pid = static_cast<int>(p);
  return TL_OK;
}

extern "C" int tl_fork_report(tl_fork_info* out) {
  TL_REQUIRE_INIT();
  if (!out) return fail(TL_EINVAL, "tl_fork_report: out is NULL");
  if (g_report.in_child) {
    *out = g_report;
  } else {
    *out = tl_fork_info{};
  }
  out->forks = g_forks.load(std::memory_order_relaxed);
  return TL_OK;
}
