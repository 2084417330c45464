// world.cpp — the stopper's side of stop-the-world (see world.h).
#include "world.h"
#include "race_point.h"
#include "lock_rank.h"

#include <time.h>

#include <cstdio>

#include "altstack.h"
#include "blocking.h"
#include "current.h"
#include "lifecycle.h"
#include "inject.h"
#include "os.h"
#include "registry.h"
#include "regs.h"
#include "sanitizer_policy.h"
#include "status.h"
#include "suspend_mech.h"
#include "threadlab/runtime.h"

namespace tl::world {

std::atomic<unsigned> g_drop_every{0};

namespace {
std::atomic<int> g_policy{TL_SUSPEND_PREEMPTIVE};
unsigned g_timeout_ms = 5000, g_resend_ms = 20, g_grace_us = 500;
pthread_rwlock_t g_lifecycle;
std::atomic<uint64_t> g_stop_gen{0}, g_resume_gen{0};
uint32_t g_resume_word = 0;  // futex, bumped at each restart step; __atomic builtins
std::atomic<Record*> g_stopper{nullptr};
int g_depth = 0;  // [stopper]
std::atomic<unsigned> g_sent{0};
Stats g_stats;

uint64_t now_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

bool safe_state(State s) { return s == State::Creating || s == State::Foreign || s == State::Blocked; }

// Ask one target to stop. Runs with the registry lock held; allocates nothing.
void ask(Record* r, uint64_t gen, bool exiting_defect) {
  r->target_gen = gen;
  r->signalled_gen = 0;
  r->suspend_count.fetch_add(1, std::memory_order_relaxed);
  uint32_t cur = r->state.load(std::memory_order_acquire);
  if (exiting_defect) {
    // DEFECT suspend_ignores_exiting: signal a thread that is exiting (or
    // gone) and wait for an acknowledgement it will never send.
    r->signalled_gen = gen;
    mech::signal_maybe_gone(r);
    return;
  }
  // Every target gets kStopBit, whatever the policy: a target that leaves
  // MANAGED or polls a safepoint then acknowledges by itself, even if the
  // signal is late (or, under ThreadSanitizer, never handled).
  for (;;) {
    if (r->state.compare_exchange_weak(cur, cur | kStopBit, std::memory_order_acq_rel)) break;
  }
  TL_RACE_POINT();  // the target may leave its state between the bit and the signal
  const State s = state_of(cur);
  const bool by_state = g_policy == TL_SUSPEND_HYBRID || s == State::Creating ||
                        (kSignalsDeferredBySanitizer && (s == State::Foreign || s == State::Blocked));
  if (by_state) {
    if (safe_state(s)) {
      // Stopped by the state change alone: it cannot return to managed
      // code, and its registers and sp were saved when it left it.
      r->ack(gen);
      g_stats.by_state.fetch_add(1, std::memory_order_relaxed);
    }
    return;  // MANAGED under hybrid: answered at its next safepoint
  }
  // An adopted target whose thread died without its teardown has nothing to
  // signal (the C library may answer 0 for a thread that is gone, and its
  // pthread_t may name a newer thread by now).
  if (record_vanished(r)) {
    r->state.fetch_and(~kStopBit, std::memory_order_acq_rel);
    r->target_gen = 0;
    r->suspend_count.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  r->signalled_gen = gen;
  g_stats.signals_sent.fetch_add(1, std::memory_order_relaxed);
  if (mech::request_stop(r, gen) == mech::Sent::Gone) {
    r->state.fetch_and(~kStopBit, std::memory_order_acq_rel);
    r->target_gen = 0;  // exited meanwhile: nothing to wait for
    r->suspend_count.fetch_sub(1, std::memory_order_relaxed);
  }
}

bool is_target(Record* r, uint64_t gen) { return r->target_gen == gen; }

void bump_resume_word() {
  __atomic_fetch_add(&g_resume_word, 1u, __ATOMIC_SEQ_CST);
  os::futex_wake(&g_resume_word, 0x7fffffff);
}

// Sleep on the resume word until done() holds. The word is read before the
// condition: a restart after the check changes it, so the wait returns at
// once. Async-signal-safe when done() is.
template <class Done>
void sleep_on_resume_word(Done done) {
  for (;;) {
    const uint32_t seen = __atomic_load_n(&g_resume_word, __ATOMIC_SEQ_CST);
    if (done()) return;
    os::futex_wait(&g_resume_word, seen);
  }
}

// Restart every target of `gen` and release the stopper's locks.
void restart(uint64_t gen) {
  g_resume_gen.store(gen, std::memory_order_seq_cst);
  TL_RACE_POINT();  // a target reads resume_gen between its check and its wait
  bump_resume_word();  // wakes targets waiting for resume_gen
  registry().for_each_locked([&](Record* r) {
    if (!is_target(r, gen)) return;
    r->target_gen = 0;
    r->suspend_count.fetch_sub(1, std::memory_order_relaxed);
    r->suspend_pending.store(false, std::memory_order_relaxed);
    r->state.fetch_and(~kStopBit, std::memory_order_acq_rel);
    if (r->stopped_in_handler.load(std::memory_order_acquire) || r->signalled_gen == gen) mech::release(r);
  });
  bump_resume_word();  // wakes threads parked on their stop bit, now clear
  g_depth = 0;
  g_stopper.store(nullptr, std::memory_order_release);
  registry().set_world_stopped(false);
  registry().unlock();
  pthread_rwlock_unlock(&g_lifecycle);
  rank_dropped(Rank::Lifecycle);
}

struct Laggard {
  tl_thread_id id;
  int64_t tid;
  State state;
  bool deferred;
  char name[TL_NAME_MAX];
};

}  // namespace

void init(int policy, unsigned timeout_ms, unsigned resend_ms, unsigned grace_us) {
  g_policy = policy;
  if (timeout_ms) g_timeout_ms = timeout_ms;
  if (resend_ms) g_resend_ms = resend_ms;
  if (grace_us) g_grace_us = grace_us;
  os::rwlock_init_writer_preferred(&g_lifecycle);
  mech::install();
}

int set_policy(int policy) {
  if (policy != TL_SUSPEND_PREEMPTIVE && policy != TL_SUSPEND_HYBRID)
    return fail(TL_EINVAL, "tl_set_suspend_policy: unknown policy %d", policy);
  if (stopper() == current_record() && stopper())
    return fail(TL_ESTATE, "tl_set_suspend_policy: the calling thread holds the world stopped");
  BlockedScope wait;
  rank_taken(Rank::Lifecycle, "lifecycle");
  pthread_rwlock_wrlock(&g_lifecycle);  // no stop in progress while we switch
  g_policy.store(policy, std::memory_order_relaxed);
  pthread_rwlock_unlock(&g_lifecycle);
  rank_dropped(Rank::Lifecycle);
  return TL_OK;
}

void lifecycle_enter() {
  // The stopper holds the write side; a read by it would fail with EDEADLK
  // and the matching unlock would drop the stop's own lock. Its callers
  // refuse the stopper first (threads.cpp) or end its stop (teardown).
  if (g_stopper.load(std::memory_order_acquire) == current_record() && current_record())
    tl_fatal("lifecycle_enter: called by the thread that holds the world stopped");
  rank_taken(Rank::Lifecycle, "lifecycle");
  if (pthread_rwlock_tryrdlock(&g_lifecycle) == 0) return;
  BlockedScope wait;  // a stopper holds or wants it: wait as BLOCKED
  pthread_rwlock_rdlock(&g_lifecycle);
}
void lifecycle_leave() {
  pthread_rwlock_unlock(&g_lifecycle);
  rank_dropped(Rank::Lifecycle);
}

namespace {
// The exclusive side, taken by a stopper or the fork prepare handler. A
// MANAGED caller waits as BLOCKED: a concurrent stopper may stop it by
// state (hybrid) or signal (preemptive) meanwhile.
void take_lifecycle_exclusive(Record* self) {
  const bool was_managed = self && self->current_state() == State::Managed;
  if (was_managed) {
    save_own_context(self);
    self->move(State::Managed, State::Blocked);
  }
  rank_taken(Rank::Lifecycle, "lifecycle");
  pthread_rwlock_wrlock(&g_lifecycle);
  if (was_managed) self->move(State::Blocked, State::Managed);
}
}  // namespace

void fork_lock() { take_lifecycle_exclusive(current_record()); }
void fork_unlock() {
  pthread_rwlock_unlock(&g_lifecycle);
  rank_dropped(Rank::Lifecycle);
}
void fork_child(bool by_stopper) {
  if (by_stopper) registry().unlock();  // the stop's own hold (fork.cpp released prepare's)
  // Released first, for ThreadSanitizer's view of its owner; glibc records
  // the writer by the parent thread's kernel id, which this thread no
  // longer has, so the lock itself is then made anew.
  pthread_rwlock_unlock(&g_lifecycle);
  os::rwlock_init_writer_preferred(&g_lifecycle);
  g_stopper.store(nullptr, std::memory_order_release);
  g_depth = 0;
  g_resume_gen.store(g_stop_gen.load(std::memory_order_acquire), std::memory_order_seq_cst);
  __atomic_store_n(&g_resume_word, 0u, __ATOMIC_SEQ_CST);
  g_sent.store(0, std::memory_order_relaxed);
}

void end_stop_of_exiting(Record* r) {
  if (!r || g_stopper.load(std::memory_order_acquire) != r) return;
  restart(stop_gen());
}

bool stopped() { return g_stopper.load(std::memory_order_acquire) != nullptr; }
Record* stopper() { return g_stopper.load(std::memory_order_acquire); }
bool caller_is_stopper() {
  Record* self = current_record();
  return self && g_stopper.load(std::memory_order_acquire) == self;
}
uint64_t stop_gen() { return g_stop_gen.load(std::memory_order_acquire); }
uint32_t* resume_word() { return &g_resume_word; }
uint64_t resume_gen() { return g_resume_gen.load(std::memory_order_seq_cst); }
Stats& stats() { return g_stats; }

bool drop_this_signal() {
  unsigned n = g_drop_every.load(std::memory_order_relaxed);
  // DEFECT drop_every_nth_signal: every third suspend signal is lost, and
  // the stopper's resend that would recover it is off (suspend_others).
  if (TL_INJECT(drop_every_nth_signal) && n == 0) n = 3;
  if (n == 0) return false;
  return g_sent.fetch_add(1, std::memory_order_relaxed) % n == n - 1;
}

void acknowledge(Record* r, uint64_t gen) {
  r->ack(gen);
  mech::ack_post();
}

// The generation is read before the bit: a bit seen set after reading gen
// belongs to stop gen or a later one (the restart clears every bit before
// the next stop takes a generation, and a stopper takes its generation
// before it sets any bit). Reading the same gen again after seeing the bit
// rules out the later one. (Reading the generation once, after the bit may
// have gone, acknowledged a stop that had not yet set its bit; the thread
// then went back to managed code with that stop holding the world.)
void acknowledge_left_managed(Record* r) {
  for (;;) {
    const uint64_t gen = stop_gen();
    TL_RACE_POINT();  // the stop that set the bit may end and the next begin
    if (!(r->state.load(std::memory_order_acquire) & kStopBit)) return;
    if (stop_gen() != gen) continue;
    // A signal handler may run here and acknowledge gen itself; its stop can
    // then end and the next one acknowledge r by state before the store
    // below lands. Record::ack never lowers acked_gen, so that late store
    // cannot take back the newer acknowledgement.
    TL_RACE_POINT();
    acknowledge(r, gen);
    return;
  }
}

void save_own_context(Record* r) {
  r->saved_reg_count = capture_callee_saved(r->saved_regs, kMaxSavedRegs);
  r->saved_sp.store(current_sp(), std::memory_order_release);
  // On an altstack the runtime does not know yet (a thread that never
  // registered it, or installed it after adoption): learn it now, so the
  // collector scans both stacks of a thread that stops itself there.
  altstack_note_sp(r, r->saved_sp.load(std::memory_order_relaxed));
}

void stop_self(Record* r) {
  uint64_t gen = stop_gen();
  if (resume_gen() >= gen || r->acked_gen.load(std::memory_order_acquire) >= gen) return;
  save_own_context(r);
  g_stats.at_safepoint.fetch_add(1, std::memory_order_relaxed);
  acknowledge(r, gen);
  wait_for_resume(gen);
}

void wait_for_resume(uint64_t gen) {
  sleep_on_resume_word([gen] { return resume_gen() >= gen; });
}

void park_until_clear(Record* r) {
  sleep_on_resume_word([r] { return !(r->state.load(std::memory_order_acquire) & kStopBit); });
}

int suspend_others() {
  Record* self = current_record();
  if (!self || self->magic != kRecordMagic)
    return fail(TL_EUNKNOWN, "tl_suspend_others: the calling thread (tid %lld) has no record",
                static_cast<long long>(os::kernel_tid()));
  if (g_stopper.load(std::memory_order_acquire) == self) {
    ++g_depth;
    uint64_t gen = stop_gen();
    registry().for_each_locked([&](Record* r) {
      if (is_target(r, gen)) r->suspend_count.fetch_add(1, std::memory_order_relaxed);
    });
    return TL_OK;
  }
  // Adopted threads that died without their teardown are released first:
  // a stop would otherwise wait for an answer from a thread that is gone,
  // and the collector would scan a stack that may be unmapped.
  reap_vanished();
  take_lifecycle_exclusive(self);
  registry().lock();
  const uint64_t gen = g_stop_gen.fetch_add(1, std::memory_order_acq_rel) + 1;
  g_stopper.store(self, std::memory_order_release);
  registry().set_world_stopped(true);
  const bool exiting_defect = TL_INJECT(suspend_ignores_exiting);

  registry().for_each_locked([&](Record* r) {
    if (r == self) return;
    State s = r->current_state();
    bool gone = s == State::Exiting || s == State::Dead;
    if (gone && !exiting_defect) return;
    ask(r, gen, gone && exiting_defect);
  });

  const uint64_t start = now_us();
  const uint64_t deadline = start + uint64_t{g_timeout_ms} * 1000u;
  uint64_t next_resend = start + uint64_t{g_resend_ms} * 1000u;
  const uint64_t grace_at = start + g_grace_us;
  const bool resend_allowed = !TL_INJECT(drop_every_nth_signal);  // the defect's second half (drop_this_signal)
  for (;;) {
    bool all = true;
    registry().for_each_locked([&](Record* r) {
      if (is_target(r, gen) && r->acked_gen.load(std::memory_order_acquire) < gen) all = false;
    });
    if (all) break;
    const uint64_t t = now_us();
    if (g_policy == TL_SUSPEND_HYBRID && t >= grace_at) {
      registry().for_each_locked([&](Record* r) {
        if (!is_target(r, gen) || r->signalled_gen == gen || r->acked_gen.load(std::memory_order_acquire) >= gen) return;
        if (r->current_state() != State::Managed) return;
        r->signalled_gen = gen;
        g_stats.signals_sent.fetch_add(1, std::memory_order_relaxed);
        mech::request_stop(r, gen);
      });
    }
    if (t >= next_resend && resend_allowed) {
      registry().for_each_locked([&](Record* r) {
        if (!is_target(r, gen) || r->signalled_gen != gen || r->acked_gen.load(std::memory_order_acquire) >= gen) return;
        if (r->suspend_pending.load(std::memory_order_acquire)) return;  // deferred, not lost
        g_stats.resends.fetch_add(1, std::memory_order_relaxed);
        const State st = r->current_state();
        if (st == State::Exiting || st == State::Dead) {
          mech::signal_maybe_gone(r);  // only the suspend_ignores_exiting defect targets these
        } else if (record_vanished(r) || mech::resend(r, gen) == mech::Sent::Gone) {
          r->ack(gen);
        }
      });
      next_resend = t + uint64_t{g_resend_ms} * 1000u;
    }
    if (t >= deadline) {
      // Name who never answered, without allocating while the world is
      // stopped; format the message after the restart.
      Laggard lag[4];
      unsigned nlag = 0, total = 0;
      registry().for_each_locked([&](Record* r) {
        if (!is_target(r, gen) || r->acked_gen.load(std::memory_order_acquire) >= gen) return;
        if (nlag < 4) {
          Laggard& l = lag[nlag++];
          l.id = r->id;
          l.tid = r->kernel_tid.load(std::memory_order_relaxed);
          l.state = r->current_state();
          l.deferred = r->suspend_pending.load(std::memory_order_relaxed);
          for (unsigned i = 0; i < TL_NAME_MAX; ++i) l.name[i] = r->name[i];
        }
        ++total;
      });
      restart(gen);
      g_stats.timeouts.fetch_add(1, std::memory_order_relaxed);
      char what[512];
      int n = std::snprintf(what, sizeof what, "%u thread(s) never answered in %u ms:", total, g_timeout_ms);
      for (unsigned i = 0; i < nlag && n > 0 && static_cast<size_t>(n) < sizeof what; ++i)
        n += std::snprintf(what + n, sizeof what - static_cast<size_t>(n), " thread %llu '%s' (tid %lld, %s%s)",
                           static_cast<unsigned long long>(lag[i].id), lag[i].name, static_cast<long long>(lag[i].tid),
                           state_name(lag[i].state), lag[i].deferred ? ", inside a no-interrupt window" : "");
      return fail(TL_ETIMEDOUT, "tl_suspend_others: %s; the world was resumed", what);
    }
    uint64_t wait = 1000;
    if (g_policy == TL_SUSPEND_HYBRID && t < grace_at && grace_at - t < wait) wait = grace_at - t;
    mech::ack_wait(static_cast<unsigned>(wait));
  }
  g_depth = 1;
  g_stats.stops.fetch_add(1, std::memory_order_relaxed);
  // DEFECT free_record_while_suspended: free dead records now, with every
  // other thread stopped wherever it was, perhaps inside malloc.
  if (TL_INJECT(free_record_while_suspended)) registry().reap_now();
  return TL_OK;
}

int resume_others() {
  Record* self = current_record();
  if (!self || g_stopper.load(std::memory_order_acquire) != self)
    return fail(TL_EUNBALANCED, "tl_resume_others: the calling thread did not stop the world");
  const uint64_t gen = stop_gen();
  if (--g_depth > 0) {
    registry().for_each_locked([&](Record* r) {
      if (is_target(r, gen)) r->suspend_count.fetch_sub(1, std::memory_order_relaxed);
    });
    return TL_OK;
  }
  restart(gen);
  return TL_OK;
}

}  // namespace tl::world
