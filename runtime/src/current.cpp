// current.cpp — the three current-record lookups and the key destructor.
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "current.h"

#include <pthread.h>
#include <signal.h>

#include "lifecycle.h"
#include "os.h"
#include "record.h"
#include "sanitizer_policy.h"
#include "slot.h"

namespace tl {
__thread Record* t_current __attribute__((tls_model("initial-exec"))) = nullptr;  // current.h
namespace {
// initial-exec: no lazy TLS allocation on first touch, so the load is safe
// inside signal handlers.
__attribute__((tls_model("initial-exec"))) thread_local bool t_torn_down = false;
pthread_key_t g_key;
bool g_key_made = false;  // tl_init runs once, under its own lock

// Not instrumented by ThreadSanitizer: on a thread adopted in a late
// round it runs (only to re-arm) in the C library's last round, after
// TSan's own destructor finalised the thread, where instrumented code
// crashes. The teardown it calls runs in the penultimate round or never
// (then the death watch reaps the record).
TL_UNINSTRUMENTED_UNDER_TSAN
void key_destructor(void* value) {
  auto* r = static_cast<Record*>(value);
  // Re-arm so the record survives the other keys' destructors, which may
  // call back into managed code. Tear down in the penultimate round, not the
  // last: sanitizer runtimes (TSan, ASan) finalise their own per-thread
  // state in the last round, after which no instrumented code may run here.
  if (r->key_destructor_rounds < PTHREAD_DESTRUCTOR_ITERATIONS - 2) {
    ++r->key_destructor_rounds;
    pthread_setspecific(g_key, r);
    return;
  }
  // Leaving for EXITING runs with signals as they are: until the record is
  // EXITING a stopper may wait for this thread, and only a handler can
  // answer it (preemptive policy). From EXITING on, stoppers skip it, and an
  // adopted thread releases its record with async signals blocked, as its
  // adoption is made (Go's dropm does the same): a handler that called back
  // meanwhile would re-take a runtime lock the release holds (the adoption
  // cache's, while it frees), or, once the record is unbound, adopt a
  // second one that nobody releases. A callback from a handler fails with
  // TL_ESTATE while the record is EXITING or DEAD, and with TL_EEXITING
  // once it is gone. Spawned threads need no mask change: their release
  // takes no lock a callback needs.
  thread_leave_for_exit(r);
  const bool adopted = r->flags & TL_FLAG_ADOPTED;
  sigset_t old;
  if (adopted) os::block_async_signals(&old);
  thread_release(r);
  t_current = nullptr;
  t_torn_down = true;
  if (adopted) pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace

void current_init() {
  if (g_key_made) return;
  pthread_key_create(&g_key, key_destructor);
  g_key_made = true;
}

Record* current_record_by_key() {
  return static_cast<Record*>(pthread_getspecific(g_key));
}

Record* current_record_by_stack() {
  char probe;
  return record_by_stack_address(reinterpret_cast<uintptr_t>(&probe));
}

Record* record_by_stack_address(uintptr_t addr) {
  Slot* s = slot_containing(addr);
  if (!s) return nullptr;
  Record* r = s->record;
  return (r && r->magic == kRecordMagic) ? r : nullptr;
}

void set_current(Record* r) {
  t_current = r;
  t_torn_down = false;
  pthread_setspecific(g_key, r);
}

void clear_current() {
  t_current = nullptr;
  pthread_setspecific(g_key, nullptr);
}

void bind_tls_only(Record* r) { t_current = r; }

bool current_torn_down() { return t_torn_down; }

}  // namespace tl
