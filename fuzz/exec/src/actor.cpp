// actor.cpp — every t and f thread of a program is an actor with its own
// op queue; ops `on:` another thread are delivered to it and run there,
// concurrently with the driver; `async` ops are not waited for.
//
// Invariants:
//   - One producer (the driver) and one consumer (the actor) per ring:
//     push publishes the task with a release store of `tail` and rings the
//     bell; the actor takes ring[head], runs it, marks it done, then moves
//     `head` on. No mutex anywhere: an actor killed by the runtime (a
//     longjmp out of whatever it was doing) can leave no lock held.
//   - Waiting is a futex wait on an atomic word (bell, done, state). A
//     thread that is inside the runtime (spawned actors, foreign actors in a
//     callback, the driver) waits inside a blocking region when the adapter
//     has TL_CAP_REGIONS, so a stop-the-world never waits for a thread that
//     is only waiting for its next op.
//   - A task is done exactly once (compare-exchange from kPending): by its
//     actor, or by abandon() once the actor is known gone (killed, its spawn
//     failed, or never run because its spawner was killed first).
//   - A kill (kill_actor) raises kill_wanted and rings the bell first: the
//     target leaves its idle wait and polls safe points until the kill
//     lands there, rather than being ended the hard way after the runtime's
//     kill timeout. A kill of a thread blocked in an op still lands however
//     the runtime ends blocked threads.
//   - A spawned actor pushes a cleanup (TL_CAP_CLEANUPS) that marks it
//     ended and abandons its tasks when the runtime kills it, so a thread
//     killed by a killer that was itself killed mid-kill is still known
//     gone; kill_wanted is polled for at most kKillPollMs for the same
//     reason.
//   - Each actor records what self() said on its own thread (seen_self), so
//     tests can check that ops on a thread really ran there.
#include <sched.h>

#include <chrono>
#include <threadlab/adapter.h>

#include "exec.h"

namespace threadlab::fuzz::detail {

bool in_runtime(const Actor& me) {
  if (me.kind == Kind::Foreign) return me.callback_depth > 0;
  return true;
}

static bool complete(Task& t, uint32_t how) {
  uint32_t expect = kPending;
  if (!t.done.compare_exchange_strong(expect, how)) return false;
  t.done.notify_all();
  return true;
}

// Around a wait: a blocking region when the thread is in the runtime (and
// not already in one).
namespace {
struct Region {
  const tl_adapter* a;
  bool on = false;
  Region(const Actor& me, const tl_adapter* ad) : a(ad) {
    if ((a->caps & TL_CAP_REGIONS) && in_runtime(me) && me.region_depth == 0)
      on = a->blocking_begin() == TL_ADAPTER_OK;
  }
  ~Region() {
    if (on) a->blocking_end();
  }
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
};
}  // namespace

void push(Actor& to, Task* t) {
  const uint32_t tail = to.tail.load(std::memory_order_relaxed);
  if (tail - to.head.load(std::memory_order_acquire) >= kRing) {  // cannot happen within kMaxOps
    complete(*t, kAbandoned);
    return;
  }
  to.ring[tail % kRing] = t;
  to.tail.store(tail + 1, std::memory_order_seq_cst);
  to.bell.fetch_add(1, std::memory_order_seq_cst);
  to.bell.notify_all();
  // The actor may have gone (killed, spawn failed) just before the push.
  const int s = to.state.load(std::memory_order_seq_cst);
  if (s == kEnded || s == kFailed) abandon(to);
}

void wait_done(Actor& waiter, Task& t) {
  if (t.done.load(std::memory_order_acquire) != kPending) return;
  waiter.ex->sched.idle(waiter.slot);  // a waiting driver is not runnable: nobody yields to it
  {
    Region r(waiter, waiter.ex->a);
    for (;;) {
      const uint32_t d = t.done.load(std::memory_order_acquire);
      if (d != kPending) break;
      t.done.wait(d, std::memory_order_acquire);
    }
  }
  waiter.ex->sched.busy(waiter.slot);
}

void mark_failed(Actor& a) {
  int s = 0;
  if (!a.started.compare_exchange_strong(s, -1, std::memory_order_seq_cst)) return;
  a.started.notify_all();
  a.state.store(kFailed, std::memory_order_seq_cst);
  abandon(a);
}

void abandon(Actor& gone) {
  const uint32_t tail = gone.tail.load(std::memory_order_seq_cst);
  for (uint32_t i = gone.head.load(std::memory_order_seq_cst); i != tail; ++i) {
    Task* t = gone.ring[i % kRing];
    if (t && complete(*t, kAbandoned))
      for (Actor* d : t->defines) mark_failed(*d);  // its thread will never be made
  }
  gone.ex->progress.fetch_add(1, std::memory_order_relaxed);
}

bool wait_started(Actor& t) {
  for (;;) {
    const int s = t.started.load(std::memory_order_acquire);
    if (s != 0) return s > 0;
    t.started.wait(s, std::memory_order_acquire);
  }
}

int kill_actor(Actor& t) {
  const tl_adapter* a = t.ex->a;
  t.kill_wanted.store(true, std::memory_order_seq_cst);
  t.bell.fetch_add(1, std::memory_order_seq_cst);
  t.bell.notify_all();
  const int rc = a->kill(t.id.load());
  t.kill_wanted.store(false, std::memory_order_seq_cst);
  if (rc == TL_ADAPTER_OK) {
    t.state.store(kEnded, std::memory_order_seq_cst);
    abandon(t);
  } else {
    t.bell.fetch_add(1, std::memory_order_seq_cst);
    t.bell.notify_all();
  }
  return rc;
}

void idle_wait(Actor& me) {
  const uint32_t bell = me.bell.load(std::memory_order_seq_cst);
  if (me.kill_wanted.load(std::memory_order_seq_cst)) return;
  if (me.head.load(std::memory_order_relaxed) != me.tail.load(std::memory_order_seq_cst)) return;
  me.ex->sched.idle(me.slot);
  Region r(me, me.ex->a);
  me.bell.wait(bell, std::memory_order_seq_cst);
}

// The loop both kinds of actor run. Returns after a quit task.
static void loop(Actor& me) {
  Exec& ex = *me.ex;
  for (;;) {
    if (me.kill_wanted.load(std::memory_order_seq_cst)) {
      // The killer waits for a safe point: give it one. Bounded: a killer
      // that is itself killed mid-kill never lowers the flag.
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kKillPollMs);
      while (me.kill_wanted.load(std::memory_order_seq_cst) && std::chrono::steady_clock::now() < until) {
        if ((ex.a->caps & TL_CAP_REGIONS) && in_runtime(me)) ex.a->safepoint();
        sched_yield();
      }
      me.kill_wanted.store(false, std::memory_order_seq_cst);
      continue;
    }
    const uint32_t head = me.head.load(std::memory_order_relaxed);
    if (head == me.tail.load(std::memory_order_acquire)) {
      idle_wait(me);
      continue;
    }
    Task& t = *me.ring[head % kRing];
    if (t.op == nullptr) {
      release_all(me, t.index);
      me.state.store(kEnded, std::memory_order_seq_cst);
      complete(t, kDone);
      me.head.store(head + 1, std::memory_order_seq_cst);
      abandon(me);  // anything given after the quit never runs
      return;
    }
    if (!ex.stopping.load(std::memory_order_relaxed)) {
      ex.sched.busy(me.slot);
      run_task(me, t);
    } else {
      for (Actor* d : t.defines) mark_failed(*d);  // not run: the threads it makes never exist
    }
    me.runs.fetch_add(1, std::memory_order_relaxed);
    complete(t, kDone);
    me.head.store(head + 1, std::memory_order_release);
    ex.progress.fetch_add(1, std::memory_order_relaxed);
  }
}

static void start(Actor& me) {
  me.objects.reserve(kMaxObjects);
  me.held.reserve(kMaxLocks);
  if (me.kind == Kind::Spawned) me.seen_self.store(me.ex->a->self());
  int s = kNotStarted;
  me.state.compare_exchange_strong(s, kRunning, std::memory_order_seq_cst);
}

namespace {
// Run by the runtime when it kills the thread (TL_CAP_CLEANUPS): the actor
// is gone even when its killer was killed before it could say so.
void on_killed(void* p) {
  Actor& me = *static_cast<Actor*>(p);
  me.state.store(kEnded, std::memory_order_seq_cst);
  abandon(me);
}
}  // namespace

void actor_main(void* p) {
  Actor& me = *static_cast<Actor*>(p);
  const tl_adapter* a = me.ex->a;
  const bool cleanup = (a->caps & TL_CAP_CLEANUPS) && a->cleanup_push(on_killed, &me) == TL_ADAPTER_OK;
  start(me);
  loop(me);
  if (cleanup) a->cleanup_pop(0);
}

namespace {
// A foreign thread ended by the runtime or a handler (pthread_exit unwinds
// through here) is gone: whatever it was given is abandoned.
struct EndGuard {
  explicit EndGuard(Actor* a) : me(a) {}
  Actor* me;
  bool normal = false;
  ~EndGuard() {
    if (normal) return;
    me->ex->error(me->ex->current.load(), me->name + " ended while running an op");
    me->state.store(kEnded, std::memory_order_seq_cst);
    abandon(*me);
  }
  EndGuard(const EndGuard&) = delete;
  EndGuard& operator=(const EndGuard&) = delete;
};
}  // namespace

void foreign_main(Actor* p) {
  EndGuard guard(p);
  start(*p);
  loop(*p);
  guard.normal = true;
}

}  // namespace threadlab::fuzz::detail
