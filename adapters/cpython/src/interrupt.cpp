// interrupt.cpp — run fn(arg) on another thread at its next safe point.
//
// Two layers, both real: the adapter's per-thread queue holds what to run,
// and PyThreadState_SetAsyncExc raises threadlab.Interrupt in the target's
// thread state, which the eval loop delivers at the target's next bytecode
// boundary where it checks the eval breaker. A safe point (poll_safepoint)
// runs a Python no-op — its RESUME instruction handles the eval breaker as
// any function entry does (a pending GIL drop, then the asynchronous
// exception) — swallows threadlab.Interrupt, and runs the queue. The queue
// decides what runs, so an asynchronous exception that arrives late (or
// twice for one slot: several interrupts queued before one safe point)
// never runs an interrupt twice or loses one; the counters below say how
// CPython's own delivery behaved.
//
// Invariants:
//   - interrupt holds the GIL and the target's slot mutex while it queues
//     and raises: the slot cannot be released (its thread exiting) between
//     the check of its id and the raise.
//   - A queued interrupt runs on its target only, once, without the GIL
//     and outside every lock; a thread that exits drops what is queued.
//   - No interrupt runs inside a no-interrupt window or an adapter
//     operation.
//   - THREADLAB_CPYTHON_STATS=1 prints the delivery counts at exit.
#include <cstdio>

#include "internal.h"

namespace tlpy {

std::atomic<uint64_t> g_async_sent{0};       // SetAsyncExc calls that found the thread state
std::atomic<uint64_t> g_async_raised{0};     // raised at a safe point that found work queued
std::atomic<uint64_t> g_async_late{0};       // raised at a safe point whose queue was already empty
std::atomic<uint64_t> g_drained_unraised{0};  // work queued (and raised) before the bytecode ran, not raised

void drop_pending(Slot* s) {  // with s->mu held
  if (s->pending) s->pending->clear();
  s->npending.store(0);
}

int poll_safepoint() {
  Tls& t = tls();
  Slot* s = current();
  if (!s || t.held > 0 || t.no_interrupt > 0) return TL_ADAPTER_OK;
  bool raised = false;
  unsigned queued = 0;  // read under the same GIL hold as the bytecode ran
  if (t.saved) {        // attached: enter the interpreter, as managed code would
    Hold h(false);
    PyObject* r = PyObject_CallNoArgs(g_safepoint_fn);
    if (r) {
      Py_DECREF(r);
    } else if (PyErr_ExceptionMatches(g_interrupt_exc)) {
      PyErr_Clear();
      raised = true;
    } else {
      PyErr_Clear();
      return fail(TL_ADAPTER_EFAIL, "safepoint: the Python no-op raised");
    }
    // interrupt() queues and raises under the GIL: what is queued now was
    // raised before the no-op's RESUME checked the eval breaker.
    queued = s->npending.load(std::memory_order_acquire);
  }
  if (queued > 0) (raised ? g_async_raised : g_drained_unraised).fetch_add(1);
  else if (raised) g_async_late.fetch_add(1);
  if (s->npending.load(std::memory_order_acquire) == 0) return TL_ADAPTER_OK;
  std::vector<Pending> run;
  pthread_mutex_lock(&s->mu);
  if (s->pending) run.swap(*s->pending);
  s->npending.store(0);
  pthread_mutex_unlock(&s->mu);
  for (const Pending& p : run) p.fn(p.arg);
  return TL_ADAPTER_OK;
}

void print_interrupt_stats() {
  std::fprintf(stderr,
               "threadlab cpython adapter: interrupts: %llu asynchronous exceptions set; at safe points with work "
               "queued %llu raised, %llu not raised; %llu raised with nothing queued\n",
               static_cast<unsigned long long>(g_async_sent.load()),
               static_cast<unsigned long long>(g_async_raised.load()),
               static_cast<unsigned long long>(g_drained_unraised.load()),
               static_cast<unsigned long long>(g_async_late.load()));
}

}  // namespace tlpy

extern "C" int tlpy_interrupt(tl_adapter_thread_id id, tl_adapter_fn fn, void* arg) {
  using namespace tlpy;
  if (id == 0 || !fn) return fail(TL_ADAPTER_EFAIL, "interrupt: no target or no function");
  Slot* target = nullptr;
  for (auto& s : g_slots)
    if (s.id.load(std::memory_order_acquire) == id) {
      target = &s;
      break;
    }
  if (!target) return fail(TL_ADAPTER_EFAIL, "interrupt: no thread %llu", static_cast<unsigned long long>(id));
  Hold h;  // PyThreadState_SetAsyncExc needs the GIL
  pthread_mutex_lock(&target->mu);
  if (target->id.load() != id) {
    pthread_mutex_unlock(&target->mu);
    return fail(TL_ADAPTER_EFAIL, "interrupt: thread %llu exited", static_cast<unsigned long long>(id));
  }
  if (!target->pending) target->pending = new std::vector<Pending>();
  target->pending->push_back({fn, arg});
  target->npending.fetch_add(1, std::memory_order_release);
  // 0 when the target has no thread state now (a foreign thread between
  // callbacks): it runs the interrupt at its next safe point, if any.
  if (PyThreadState_SetAsyncExc(target->py_ident.load(), g_interrupt_exc) > 0) g_async_sent.fetch_add(1);
  pthread_mutex_unlock(&target->mu);
  return TL_ADAPTER_OK;
}

extern "C" int tlpy_safepoint(void) { return tlpy::poll_safepoint(); }
