// fault_classify.cpp — classifying a fault address (see fault_classify.h).
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "fault_classify.h"

#include "gc/barrier.h"
#include "globals.h"
#include "guard_zone.h"
#include "os.h"
#include "record.h"
#include "registry.h"

namespace tl {
namespace {

// Pages below an adopted or initial thread's control stack that count as
// its guard: a large frame can skip the first guard page.
constexpr uintptr_t kControlGuardPages = 16;

// Which protected part of r's runtime stacks holds addr.
bool hit_of(Record* r, uintptr_t addr, ZoneHit* hit, Recovering* stack) {
  if ((*hit = zone_hit(r->value, addr)) != ZoneHit::None) {
    *stack = Recovering::Value;
    return true;
  }
  if ((*hit = zone_hit(r->temp, addr)) != ZoneHit::None) {
    *stack = Recovering::Temp;
    return true;
  }
  const uintptr_t ps = os::page_size();
  if (r->control_canaries && r->control_lo && addr >= r->control_lo - ps && addr < r->control_lo) {
    *hit = ZoneHit::Guard;
    *stack = Recovering::Control;
    return true;
  }
  return false;
}

}  // namespace

Decision classify(Record* self, uintptr_t addr) {
  Decision d;
  d.writer = self;
  if (gc::barrier_contains(addr)) {
    d.kind = FaultKind::Barrier;
    return d;
  }
  ZoneHit hit = ZoneHit::None;
  Recovering stack = Recovering::None;
  Record* owner = nullptr;
  if (self && hit_of(self, addr, &hit, &stack)) {
    owner = self;
  } else {
    registry().for_each_lockfree([&](Record* r) {
      // The state word, not magic: retire writes magic while walkers may
      // still stand on the record (registry.h); stack fields are fixed while
      // it is registered.
      if (owner || r->current_state() == State::Dead) return;
      if (hit_of(r, addr, &hit, &stack)) owner = r;
    });
  }
  if (!owner && self && self->control_lo) {
    const uintptr_t ps = os::page_size();
    const uintptr_t below = self->control_lo > kControlGuardPages * ps ? self->control_lo - kControlGuardPages * ps : 0;
    if (addr >= below && addr < self->control_lo) {
      owner = self;
      hit = ZoneHit::Guard;
      stack = Recovering::Control;
    }
  }
  if (!owner) return d;
  d.owner = owner;
  d.stack = stack;
  if (owner != self) {
    d.kind = FaultKind::Scribble;
    return d;
  }
  const Recovering rec = self->fault.recovering.load(std::memory_order_acquire);
  if (stack == Recovering::Control) {
    d.kind = rec == Recovering::None ? FaultKind::Overflow : FaultKind::OverflowInRecovery;
  } else if (hit == ZoneHit::Yellow) {
    d.kind = FaultKind::Overflow;
  } else if (hit == ZoneHit::Red) {
    // Red with the yellow zone open for a recovery: overflow while
    // recovering. Red with it believed closed: it was open anyway, and the
    // thread wrote through it.
    d.kind = rec == stack ? FaultKind::OverflowInRecovery : FaultKind::Scribble;
  } else {
    d.kind = FaultKind::Scribble;  // its own outer guard page: under- or overrun past every zone
  }
  return d;
}

Decision classify_failed_delivery(Record* self, uintptr_t sp) {
  Decision d;
  d.writer = self;
  if (!self || !self->control_lo) return d;
  const uintptr_t ps = os::page_size();
  const uintptr_t lo = self->control_lo > kControlGuardPages * ps ? self->control_lo - kControlGuardPages * ps : 0;
  // A signal frame needs a few KiB (AT_MINSIGSTKSZ): sp within that of the
  // low end means the frame did not fit.
  if (sp < lo || sp >= self->control_lo + 4 * os::min_signal_stack()) return d;
  d.owner = self;
  d.stack = Recovering::Control;
  d.kind = self->fault.recovering.load(std::memory_order_acquire) == Recovering::None ? FaultKind::Overflow
                                                                                      : FaultKind::OverflowInRecovery;
  return d;
}

}  // namespace tl
