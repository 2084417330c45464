// kill.cpp — cleanups, tl_exit's unwinding, and tl_kill (see kill.h).
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "kill.h"
#include "lock.h"

#include <time.h>

#include <atomic>
#include <cstdio>
#include <cstring>

#include "current.h"
#include "gc/inhibit.h"
#include "globals.h"
#include "inject.h"
#include "os.h"
#include "record.h"
#include "registry.h"
#include "world.h"
#include "status.h"
#include "suspend_mech.h"

namespace tl {

// Unlink the top cleanup and give its slot back. The node is copied out
// first: its arg may be the only root of a managed object, and once temp_sp
// drops below the node the collector no longer scans it (the signal fence
// keeps the compiler from shrinking the stack before the copy).
static CleanupNode take_cleanup(Record* r, CleanupNode* c) {
  const CleanupNode node = *c;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  r->cleanups = node.prev;
  r->temp_sp = reinterpret_cast<uintptr_t>(c);
  return node;
}

unsigned run_all_cleanups(Record* r) {
  unsigned n = 0;
  while (CleanupNode* c = r->cleanups) {
    const CleanupNode node = take_cleanup(r, c);
    node.fn(node.arg);
    ++n;
  }
  return n;
}

unsigned release_held_locks(Record* r) {
  // Async-signal-safe (lock.h): each lock is released and marked abandoned,
  // so its next taker is told.
  return abandon_held_locks(r);
}

[[noreturn]] void kill_unwind(Record* r) {
  r->kill_requested.store(false, std::memory_order_relaxed);
  r->cleanups_run = run_all_cleanups(r);
  // DEFECT kill_keeps_locks: the killed thread's runtime locks stay held.
  r->locks_released = TL_INJECT(kill_keeps_locks) ? 0 : release_held_locks(r);
  gc::close_scopes_of_and_collect(r);
  r->no_interrupt_depth.store(0, std::memory_order_relaxed);
  r->kill_done.store(true, std::memory_order_release);
  siglongjmp(r->exit_env, 3);
}

[[noreturn]] void hard_kill_from_handler(Record* r) {
  // Runs in the suspend signal's handler: no allocation, no locks.
  r->kill_hard.store(false, std::memory_order_relaxed);
  r->cleanups_run = 0;
  r->cleanups = nullptr;
  r->temp_sp = r->temp.lo;
  r->locks_released = TL_INJECT(kill_keeps_locks) ? 0 : release_held_locks(r);
  gc::close_scopes_of_leaving_pending(r);  // the killer runs it
  r->no_interrupt_depth.store(0, std::memory_order_relaxed);
  r->kill_done.store(true, std::memory_order_release);
  siglongjmp(r->exit_env, 2);
}

}  // namespace tl

using namespace tl;

namespace {
uint64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

// Wait until the target finished its kill or died; true if it did.
bool wait_done(Record* r, uint64_t deadline_ms) {
  while (!r->kill_done.load(std::memory_order_acquire) && r->current_state() != State::Dead) {
    if (now_ms() >= deadline_ms) return false;
    timespec ts{0, 200 * 1000};
    nanosleep(&ts, nullptr);
  }
  return true;
}
}  // namespace

extern "C" int tl_cleanup_push(void (*fn)(void*), void* arg) {
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_cleanup_push: the calling thread has no record");
  if (!fn) return fail(TL_EINVAL, "tl_cleanup_push: fn is NULL");
  uintptr_t at = (r->temp_sp + alignof(CleanupNode) - 1) & ~(uintptr_t)(alignof(CleanupNode) - 1);
  if (at + sizeof(CleanupNode) > r->temp.limit())
    return fail(TL_ENOMEM, "tl_cleanup_push: temp stack of thread %llu is full", static_cast<unsigned long long>(r->id));
  auto* c = reinterpret_cast<CleanupNode*>(at);
  c->prev = r->cleanups;
  c->fn = fn;
  c->arg = arg;
  std::atomic_signal_fence(std::memory_order_seq_cst);  // the node is whole before it is scanned
  r->cleanups = c;
  r->temp_sp = at + sizeof(CleanupNode);
  return TL_OK;
}

extern "C" int tl_cleanup_pop(int run) {
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_cleanup_pop: the calling thread has no record");
  CleanupNode* c = r->cleanups;
  if (!c) return fail(TL_EUNBALANCED, "tl_cleanup_pop: no cleanup pushed on thread %llu", static_cast<unsigned long long>(r->id));
  const CleanupNode node = take_cleanup(r, c);
  if (run) node.fn(node.arg);
  return TL_OK;
}

extern "C" int tl_kill(tl_thread_id target, unsigned timeout_ms, tl_kill_report* report) {
  TL_REQUIRE_INIT();
  Record* self = current_record();
  if (self && self->id == target) return fail(TL_EINVAL, "tl_kill: thread %llu cannot kill itself (use tl_exit)", static_cast<unsigned long long>(target));
  if (world::caller_is_stopper())
    return fail(TL_EDEADLK, "tl_kill: the calling thread holds the world stopped (its target cannot run to its kill); kill after tl_resume_others");
  registry().lock();
  Record* r = registry().find_by_id_locked(target);
  if (!r) {
    registry().unlock();
    return fail(TL_ENOTHREAD, "tl_kill: no thread %llu", static_cast<unsigned long long>(target));
  }
  State s = r->current_state();
  if (!(r->flags & TL_FLAG_SPAWNED)) {
    registry().unlock();
    return fail(TL_EINVAL, "tl_kill: thread %llu was not spawned by the runtime; adopted threads belong to foreign code", static_cast<unsigned long long>(target));
  }
  if (s == State::Dead || s == State::Exiting || r->join_claimed.load()) {
    registry().unlock();
    return fail(TL_ESTATE, "tl_kill: thread %llu is already %s", static_cast<unsigned long long>(target), state_name(s));
  }
  // Keep the record from being joined and freed while we watch it.
  r->join_claimed.store(true);
  r->kill_done.store(false, std::memory_order_relaxed);
  r->kill_requested.store(true, std::memory_order_release);
  registry().unlock();

  const bool was_managed = self && self->current_state() == State::Managed;
  if (was_managed) tl_blocking_begin();
  bool done = wait_done(r, now_ms() + timeout_ms);
  bool hard = false;
  if (!done && r->current_state() != State::Dead) {
    hard = true;
    mech::request_hard_kill(r);
    done = wait_done(r, now_ms() + (timeout_ms > 1000 ? timeout_ms : 1000));
  }
  if (was_managed) tl_blocking_end();
  registry().lock();
  r->join_claimed.store(false);
  registry().unlock();
  if (report) {
    std::memset(report, 0, sizeof *report);
    report->hard = hard ? 1 : 0;
    report->state_at_kill = static_cast<int>(s);
    // Read what the kill did only once it is done (kill_done's acquire):
    // a pending kill may still write these from the target's handler.
    if (done) {
      report->cleanups_run = r->cleanups_run;
      report->locks_released = r->locks_released;
    }
    if (!done)
      std::snprintf(report->text, sizeof report->text,
                    "thread %llu has not ended in %u ms (%s), even after a hard kill: the kill stays pending and "
                    "lands when the thread next handles a signal",
                    static_cast<unsigned long long>(target), timeout_ms, state_name(s));
    else if (!hard)
      std::snprintf(report->text, sizeof report->text,
                    "thread %llu killed at a safe point: %u cleanup(s) run, %u runtime lock(s) released",
                    static_cast<unsigned long long>(target), report->cleanups_run, report->locks_released);
    else
      std::snprintf(report->text, sizeof report->text,
                    "thread %llu never reached a safe point in %u ms (%s): ended from a signal handler; "
                    "cleanups not run, foreign frames abandoned (anything they held is lost), %u runtime lock(s) released",
                    static_cast<unsigned long long>(target), timeout_ms, state_name(s), report->locks_released);
  }
  gc::run_pending_if_uninhibited();
  if (!done)
    return fail(TL_ETIMEDOUT,
                "tl_kill: thread %llu did not end even after a hard kill; the kill stays pending and lands when the "
                "thread next handles a signal", static_cast<unsigned long long>(target));
  return TL_OK;
}
