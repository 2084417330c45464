// blocking.cpp — BlockedScope and NoStopScope (see blocking.h).
#include "blocking.h"
#include "race_point.h"

#include "current.h"
#include "record.h"
#include "world.h"

namespace tl {

BlockedScope::BlockedScope() {
  Record* r = current_record();
  if (!r || r->current_state() != State::Managed || world::stopper() == r) return;
  world::save_own_context(r);
  TL_RACE_POINT();  // context saved, still MANAGED
  r->move(State::Managed, State::Blocked);
  r_ = r;
}

BlockedScope::~BlockedScope() {
  if (r_) r_->move(State::Blocked, State::Managed);
}

NoStopScope::NoStopScope() {
  Record* r = current_record();
  // An exiting thread is never stopped, and may free its own record inside
  // the scope (retiring it): leave it alone.
  if (!r || r->current_state() == State::Exiting || r->current_state() == State::Dead) return;
  r->no_interrupt_depth.fetch_add(1, std::memory_order_acq_rel);
  r_ = r;
}

NoStopScope::~NoStopScope() {
  if (!r_) return;
  if (r_->no_interrupt_depth.fetch_sub(1, std::memory_order_acq_rel) == 1 &&
      r_->current_state() == State::Managed && r_->suspend_pending.exchange(false))
    world::stop_self(r_);
}

}  // namespace tl
