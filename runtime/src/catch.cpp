// catch.cpp — catch frames, tl_throw, dynamic bindings, and what happens
// when an unwind lands (see catch.h and fault_state.h for the invariants).
//
// Landing restores, in order: the signal mask tl_catch ran with (the
// handler jumped out with SIGSEGV and the async signals blocked, and the
// fault may have hit inside another handler) — and, after an overflow of
// the control stack, raises the runtime's suspend signal again, since the
// stop's signal may have been dropped by the kernel (no room for its frame)
// or its handler abandoned by the unwind — the
// bindings made since the frame, its cleanups (innermost first), the value
// and temp stack depths and the no-interrupt depth; then, when the unwind
// recovered an overflow, it closes the yellow zone again (HotSpot re-guards
// its yellow zone the same way) and re-arms the control-stack canaries an
// overflow of the native stack ran over.
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "catch.h"

#include <signal.h>

#include "current.h"
#include "fatal.h"
#include "globals.h"
#include "guard_zone.h"
#include "inject.h"
#include "kill.h"
#include "status.h"
#include "suspend_mech.h"

namespace tl {

void unwind_to(Record* r, CatchFrame* f, int code, const void* uc) {
  r->fault.unwind_code = code;
  r->fault.unwind_from_handler = uc != nullptr;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  siglongjmp(f->env, 1);
}

namespace {

void undo_bindings(Record* r, unsigned to) {
  FaultState& fs = r->fault;
  while (fs.binding_depth > to) {
    const Binding& b = fs.bindings[--fs.binding_depth];
    *b.slot = b.old;
  }
}

void run_cleanups_to(Record* r, CleanupNode* to) {
  while (r->cleanups && r->cleanups != to) {
    CleanupNode* c = r->cleanups;
    const CleanupNode node = *c;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    r->cleanups = node.prev;
    r->temp_sp = reinterpret_cast<uintptr_t>(c);
    node.fn(node.arg);
  }
}

int land(Record* r, CatchFrame* f) {
  FaultState& fs = r->fault;
  fs.catch_top = f->prev;
  if (fs.unwind_from_handler) {
    // The mask of tl_catch, not the one the fault interrupted: an overflow
    // inside a signal handler (the runtime's suspend handler, say, which
    // blocks every async signal) would otherwise leave them blocked for good.
    pthread_sigmask(SIG_SETMASK, &f->mask, nullptr);
    fs.unwind_from_handler = false;
  }
  if (fs.redeliver_suspend) {
    // The kernel dropped the signal it could not deliver on the full stack;
    // if that was a stop's, the stopper would wait for this thread until
    // its deadline. Ask again, to ourselves (fault_state.h).
    fs.redeliver_suspend = false;
    mech::signal_maybe_gone(r);
  }
  undo_bindings(r, f->binding_depth);
  run_cleanups_to(r, f->cleanups);
  __atomic_store_n(&r->value_sp, f->value_sp, __ATOMIC_RELAXED);  // read by tl_check_integrity
  r->temp_sp = f->temp_sp;
  r->no_interrupt_depth.store(f->no_interrupt_depth, std::memory_order_relaxed);
  const Recovering rec = fs.recovering.load(std::memory_order_acquire);
  if (rec != Recovering::None) {
    // DEFECT guard_not_reprotected: the yellow zone opened for the recovery
    // stays open; the next overflow runs through it into the red zone.
    if (!TL_INJECT(guard_not_reprotected)) {
      if (rec == Recovering::Value && !zone_close_yellow(r->value))
        fatal_error("fault: could not re-protect the value stack's yellow zone after an overflow");
      if (rec == Recovering::Temp && !zone_close_yellow(r->temp))
        fatal_error("fault: could not re-protect the temp stack's yellow zone after an overflow");
    }
    if (rec == Recovering::Control && r->control_canaries) arm_canaries_at(r->control_lo);
    fs.recovering.store(Recovering::None, std::memory_order_release);
  }
  const int code = fs.unwind_code;
  fs.unwind_code = 0;
  return code;
}

}  // namespace
}  // namespace tl

using namespace tl;

extern "C" int tl_catch(tl_catch_fn fn, void* arg) {
  TL_REQUIRE_INIT();
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_catch: the calling thread has no record");
  if (!fn) return fail(TL_EINVAL, "tl_catch: fn is NULL");
  CatchFrame f;
  f.prev = r->fault.catch_top;
  f.value_sp = r->value_sp;
  f.temp_sp = r->temp_sp;
  f.binding_depth = r->fault.binding_depth;
  f.no_interrupt_depth = r->no_interrupt_depth.load(std::memory_order_relaxed);
  f.callback_depth = r->callback_depth.load(std::memory_order_relaxed);
  f.cleanups = r->cleanups;
  pthread_sigmask(SIG_SETMASK, nullptr, &f.mask);
  if (sigsetjmp(f.env, 0) == 0) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
    r->fault.catch_top = &f;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    const int rc = fn(arg);
    r->fault.catch_top = f.prev;
    return rc;
  }
  return land(current_record(), &f);
}

extern "C" void tl_throw(int code) {
  Record* r = current_record();
  if (!r) fatal_error("tl_throw: the calling thread has no record");
  if (code == 0) fatal_error("tl_throw: code 0 (a catch would read it as a normal return)");
  CatchFrame* f = catch_frame_for_unwind(r);
  if (!f) fatal_error("tl_throw: no catch frame at this callback depth");
  unwind_to(r, f, code, nullptr);
}

extern "C" int tl_bind(uintptr_t* slot, uintptr_t value) {
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_bind: the calling thread has no record");
  if (!slot) return fail(TL_EINVAL, "tl_bind: slot is NULL");
  FaultState& fs = r->fault;
  if (fs.binding_depth >= kMaxBindings)
    return fail(TL_ENOMEM, "tl_bind: more than %u nested bindings", kMaxBindings);
  fs.bindings[fs.binding_depth] = {slot, *slot};
  std::atomic_signal_fence(std::memory_order_seq_cst);
  ++fs.binding_depth;
  *slot = value;
  return TL_OK;
}

extern "C" int tl_unbind(void) {
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_unbind: the calling thread has no record");
  FaultState& fs = r->fault;
  if (fs.binding_depth == 0) return fail(TL_EUNBALANCED, "tl_unbind: no binding to undo");
  const CatchFrame* f = fs.catch_top;
  if (f && f->binding_depth >= fs.binding_depth)
    return fail(TL_EUNBALANCED, "tl_unbind: the innermost binding belongs outside the current catch frame");
  undo_bindings(r, fs.binding_depth - 1);
  return TL_OK;
}
