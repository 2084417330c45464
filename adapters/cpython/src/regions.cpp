// regions.cpp — where a thread is, in CPython's terms.
//
// Between adapter operations an attached thread already runs with the GIL
// released (Py_BEGIN_ALLOW_THREADS, see internal.h), which is what CPython
// asks of a thread that blocks or runs foreign code: blocking and foreign
// regions therefore release nothing more; they mark the thread's state for
// thread_list and make their end a safe point (the thread returns to
// managed code, and runs what was queued for it). A no-interrupt window
// defers interrupts until the window closes; its end is a safe point too.
//
// Invariants:
//   - Tls::regions is a stack of region kinds; *_end must match the
//     innermost *_begin (regions do not nest across kinds).
//   - Nothing is run inside a no-interrupt window.
#include "internal.h"

namespace {
using tlpy::State;

int begin(State kind) {
  tlpy::Tls& t = tlpy::tls();
  if (t.held > 0) return tlpy::fail(TL_ADAPTER_EFAIL, "region begun inside an adapter operation");
  t.regions.push_back(static_cast<int>(kind));
  if (t.saved) tlpy::set_state(kind);
  return TL_ADAPTER_OK;
}

int end(State kind, const char* what) {
  tlpy::Tls& t = tlpy::tls();
  if (t.regions.empty() || t.regions.back() != static_cast<int>(kind))
    return tlpy::fail(TL_ADAPTER_EFAIL, "%s_end without the matching %s_begin", what, what);
  t.regions.pop_back();
  if (t.saved) tlpy::set_state(t.regions.empty() ? State::Native : static_cast<State>(t.regions.back()));
  return tlpy::poll_safepoint();
}
}  // namespace

extern "C" int tlpy_foreign_begin(void) { return begin(State::Foreign); }
extern "C" int tlpy_foreign_end(void) { return end(State::Foreign, "foreign"); }
extern "C" int tlpy_blocking_begin(void) { return begin(State::Blocking); }
extern "C" int tlpy_blocking_end(void) { return end(State::Blocking, "blocking"); }

extern "C" int tlpy_no_interrupt_begin(void) {
  ++tlpy::tls().no_interrupt;
  return TL_ADAPTER_OK;
}

extern "C" int tlpy_no_interrupt_end(void) {
  tlpy::Tls& t = tlpy::tls();
  if (t.no_interrupt == 0) return tlpy::fail(TL_ADAPTER_EFAIL, "no_interrupt_end without no_interrupt_begin");
  if (--t.no_interrupt > 0) return TL_ADAPTER_OK;
  return tlpy::poll_safepoint();
}
