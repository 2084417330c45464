// callbacks.cpp — callback_enter/exit: a thread bdwgc does not know calls
// into managed code.
//
// The first callback_enter on an unregistered thread registers it with
// bdwgc (GC_get_stack_base + GC_register_my_thread, enabled by
// GC_allow_register_threads at init), the way JNI's AttachCurrentThread
// adopts a thread. Later and nested callbacks on that thread only count
// depth. The registration is released when the thread exits, by a pthread
// key destructor (GC_unregister_my_thread), not at the outermost
// callback_exit: that is what embedders of bdwgc and of JVMs do (attach once,
// detach at thread exit), because
//   - a foreign caller may keep a pointer a callback returned on its own
//     stack between callbacks; bdwgc scans that stack only while the thread
//     is registered (after GC_unregister_my_thread "the thread may no longer
//     ... manipulate pointers to the garbage collected heap");
//   - registration takes bdwgc's allocation lock and builds a thread
//     record: per callback it would serialise every callback on that lock;
//   - a thread keeps one id for all its callbacks (the harness checks it).
// The cost: an adopted thread is stopped by every collection and
// suspend_all even between callbacks (bdwgc suspends each registered thread
// with a signal, wherever it is).
//
// Re-entry: bdwgc's GC_call_with_gc_active is the way back into managed
// code from inside GC_do_blocking. The adapter opens no blocking region (it
// cannot map blocking_begin/end onto the function-scoped GC_do_blocking;
// TL_CAP_REGIONS is clear), so a registered thread is always "active" and a
// nested callback_enter has nothing to switch.
//
// bdwgc aborts ("Collecting from unknown thread") when an unregistered
// thread collects: run_registered registers such a thread for the length of
// one call (a deferred collection run by the last without-GC scope's end on
// a foreign thread), as bdwgc's documentation has foreign code do.
//
// Invariants:
//   - A thread the adapter registered has t_adopted set and a non-null
//     value under g_key, so its destructor runs at thread exit.
//   - depth counts enters minus exits; callback_exit at depth 0 fails.
#include <pthread.h>

#include "gc_include.h"
#include "internal.h"

namespace tlgc {

namespace {

pthread_key_t g_key;
thread_local bool t_adopted = false;

void at_thread_exit(void* v) {
  auto* s = static_cast<Slot*>(v);
  if (t_adopted) {
    GC_unregister_my_thread();
    t_adopted = false;
    adopted_add(-1);
  }
  set_my_slot(nullptr);
  slot_release(s);
}

}  // namespace

int callbacks_init() {
  return pthread_key_create(&g_key, at_thread_exit) == 0 ? TL_ADAPTER_OK
                                                         : fail(TL_ADAPTER_EFAIL, "pthread_key_create failed");
}

int callback_enter() {
  if (Slot* s = my_slot()) {
    s->depth.fetch_add(1);
    return TL_ADAPTER_OK;
  }
  if (world_stopped_by_me())
    return fail(TL_ADAPTER_EFAIL, "callback_enter on an unregistered thread that holds the world stopped");
  bool adopted = false;
  if (!GC_thread_is_registered()) {
    GC_stack_base sb{};
    if (GC_get_stack_base(&sb) != GC_SUCCESS) return fail(TL_ADAPTER_EFAIL, "GC_get_stack_base failed");
    const int r = GC_register_my_thread(&sb);
    if (r != GC_SUCCESS) return fail(TL_ADAPTER_EFAIL, "GC_register_my_thread failed");
    adopted = true;
  }
  Slot* s = slot_claim("foreign", adopted ? Kind::Foreign : Kind::Spawned);
  if (!s) {
    if (adopted) GC_unregister_my_thread();
    return fail(TL_ADAPTER_EFAIL, "thread table full");
  }
  if (pthread_setspecific(g_key, s) != 0) {
    slot_release(s);
    if (adopted) GC_unregister_my_thread();
    return fail(TL_ADAPTER_EFAIL, "pthread_setspecific failed");
  }
  t_adopted = adopted;
  if (adopted) adopted_add(1);
  set_my_slot(s);
  s->depth.store(1);
  return TL_ADAPTER_OK;
}

bool registered() { return my_slot() != nullptr || GC_thread_is_registered(); }

bool run_registered(void (*fn)(void*), void* arg) {
  if (registered()) {
    fn(arg);
    return true;
  }
  GC_stack_base sb{};
  if (GC_get_stack_base(&sb) != GC_SUCCESS || GC_register_my_thread(&sb) != GC_SUCCESS) return false;
  fn(arg);
  GC_unregister_my_thread();
  return true;
}

int callback_exit() {
  Slot* s = my_slot();
  if (!s || s->depth.load() == 0) return fail(TL_ADAPTER_EFAIL, "callback_exit without callback_enter");
  s->depth.fetch_sub(1);
  return TL_ADAPTER_OK;
}

}  // namespace tlgc
