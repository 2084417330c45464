// safepoint.cpp — Record::move (the state gate), safepoint polls, foreign,
// blocking and no-interrupt regions (see safepoint.h and world.h).
#include "safepoint.h"
#include "sanitizer_policy.h"
#include "race_point.h"

#include <signal.h>

#include "current.h"
#include "globals.h"
#include "interrupt.h"
#include "kill.h"
#include "record.h"
#include "regs.h"
#include "status.h"
#include "world.h"

namespace tl {

void Record::move(State from, State to) {
  for (;;) {
    if (try_transition(state, from, to, id, false)) return;
    // A stop is pending on this record.
    if (from == State::Managed) {
      // Leaving managed code for somewhere safe is itself a way to stop:
      // save where we are, move, acknowledge, and go on in foreign code.
      world::save_own_context(this);
      TL_RACE_POINT();  // context saved, state not yet moved
      try_transition(state, from, to, id, true);
      world::acknowledge_left_managed(this);
      world::stats().at_safepoint.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    // Leaving a stopped state: wait for the resume.
    world::park_until_clear(this);
  }
}

void safepoint_poll(Record* r) {
  if (r->no_interrupt_depth.load(std::memory_order_relaxed) > 0) return;
  if (r->current_state() != State::Managed) return;
  if ((r->state.load(std::memory_order_acquire) & kStopBit) || r->suspend_pending.exchange(false))
    world::stop_self(r);
  if (r->kill_requested.load(std::memory_order_acquire)) kill_unwind(r);
  if (r->interrupts.load(std::memory_order_acquire)) run_interrupts(r);
}

}  // namespace tl

using namespace tl;

namespace {
Record* self_or_fail(const char* fn, int* rc) {
  if (!initialized()) {
    *rc = fail(TL_ENOTINIT, "call tl_init() before %s()", fn);
    return nullptr;
  }
  Record* r = current_record();
  if (!r) *rc = fail(TL_EUNKNOWN, "%s: the calling thread has no record", fn);
  return r;
}

int leave_managed(const char* fn, State to) {
  int rc = TL_OK;
  Record* r = self_or_fail(fn, &rc);
  if (!r) return rc;
  State s = r->current_state();
  if (s != State::Managed) return fail(TL_ESTATE, "%s: thread %llu is %s, not managed", fn, static_cast<unsigned long long>(r->id), state_name(s));
  world::save_own_context(r);
  r->move(State::Managed, to);
  return TL_OK;
}

int return_to_managed(const char* fn, State from) {
  int rc = TL_OK;
  Record* r = self_or_fail(fn, &rc);
  if (!r) return rc;
  State s = r->current_state();
  if (s != from) return fail(TL_ESTATE, "%s: thread %llu is %s, not %s", fn, static_cast<unsigned long long>(r->id), state_name(s), state_name(from));
  r->move(from, State::Managed);
  safepoint_poll(r);
  return TL_OK;
}
}  // namespace

extern "C" int tl_safepoint(void) {
  int rc = TL_OK;
  Record* r = self_or_fail("tl_safepoint", &rc);
  if (!r) return rc;
  let_sanitizer_deliver_signals();  // a pending stop signal runs here under TSan
  safepoint_poll(r);
  return TL_OK;
}

extern "C" int tl_foreign_begin(void) { return leave_managed("tl_foreign_begin", State::Foreign); }
extern "C" int tl_foreign_end(void) { return return_to_managed("tl_foreign_end", State::Foreign); }
extern "C" int tl_blocking_begin(void) { return leave_managed("tl_blocking_begin", State::Blocked); }
extern "C" int tl_blocking_end(void) { return return_to_managed("tl_blocking_end", State::Blocked); }

extern "C" int tl_no_interrupt_begin(void) {
  int rc = TL_OK;
  Record* r = self_or_fail("tl_no_interrupt_begin", &rc);
  if (!r) return rc;
  r->no_interrupt_depth.fetch_add(1, std::memory_order_acq_rel);
  return TL_OK;
}

extern "C" int tl_no_interrupt_end(void) {
  int rc = TL_OK;
  Record* r = self_or_fail("tl_no_interrupt_end", &rc);
  if (!r) return rc;
  int d = r->no_interrupt_depth.load(std::memory_order_relaxed);
  if (d <= 0) return fail(TL_EUNBALANCED, "tl_no_interrupt_end: thread %llu has no open no-interrupt window", static_cast<unsigned long long>(r->id));
  r->no_interrupt_depth.store(d - 1, std::memory_order_release);
  if (d == 1) safepoint_poll(r);
  return TL_OK;
}

extern "C" int tl_suspend_others(void) {
  TL_REQUIRE_INIT();
  return world::suspend_others();
}

extern "C" int tl_resume_others(void) {
  TL_REQUIRE_INIT();
  return world::resume_others();
}

extern "C" int tl_set_suspend_policy(int policy) {
  TL_REQUIRE_INIT();
  return world::set_policy(policy);
}

extern "C" int tl_world_is_stopped(void) { return world::stopped() ? 1 : 0; }

extern "C" int tl_get_suspend_stats(tl_suspend_stats* out) {
  TL_REQUIRE_INIT();
  if (!out) return fail(TL_EINVAL, "tl_get_suspend_stats: out is NULL");
  world::Stats& s = world::stats();
  out->stops = s.stops.load();
  out->signals_sent = s.signals_sent.load();
  out->resends = s.resends.load();
  out->stopped_by_state = s.by_state.load();
  out->stopped_at_safepoint = s.at_safepoint.load();
  out->stopped_by_signal = s.by_signal.load();
  out->deferred = s.deferred.load();
  out->timeouts = s.timeouts.load();
  return TL_OK;
}

extern "C" void tl_debug_drop_suspend_signals(unsigned every_nth) { world::g_drop_every.store(every_nth); }
