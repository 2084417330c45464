// collect.cpp — collect (GC_gcollect) and without-GC scopes
// (GC_disable/GC_enable), with the deferred collection the ABI asks for.
//
// bdwgc's own GC_disable makes a GC_gcollect meanwhile a silent no-op; the
// adapter instead answers TL_ADAPTER_DEFERRED and runs the collection once,
// when the last scope on any thread ends.
//
// bdwgc aborts when a thread it does not know collects; a collect (or the
// deferred collection) on such a thread registers it for the call
// (run_registered, callbacks.cpp).
//
// A collect by the thread that holds the world stopped (bdwgc's lock is
// held) is deferred too: it runs when that thread restarts the world
// (world.cpp), or, if a without-GC scope is open by then, when the last
// scope ends.
//
// Invariants (all under g_mu):
//   - g_scopes counts open scopes, and GC_disable/GC_enable are called
//     with it, so g_scopes == 0 means bdwgc is enabled (no one else calls
//     GC_disable) and a GC_gcollect under g_mu really collects.
//   - g_pending is set by a collect refused during a scope and cleared by
//     the one GC_gcollect the last scope's end runs.
//   - g_mu is taken before bdwgc's allocation lock, never while holding it
//     (the thread holding the world stopped holds bdwgc's lock: it is
//     refused here before it would take g_mu).
#include <pthread.h>

#include "gc_include.h"
#include "internal.h"

namespace tlgc {

namespace {
pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
unsigned g_scopes = 0;
bool g_pending = false;
}  // namespace

int collect() {
  if (world_stopped_by_me()) {
    // bdwgc's lock is held from GC_stop_world_external until the world
    // restarts: GC_gcollect here would wait on it forever. The collection
    // runs when this thread's outermost resume_all has restarted the world.
    world_collect_at_resume();
    return TL_ADAPTER_DEFERRED;
  }
  pthread_mutex_lock(&g_mu);
  if (g_scopes > 0) {
    g_pending = true;
    pthread_mutex_unlock(&g_mu);
    return TL_ADAPTER_DEFERRED;
  }
  const bool ran = run_registered([](void*) { GC_gcollect(); }, nullptr);
  pthread_mutex_unlock(&g_mu);
  return ran ? TL_ADAPTER_OK : fail(TL_ADAPTER_EFAIL, "collect: could not register the calling thread with bdwgc");
}

int without_gc_begin() {
  if (world_stopped_by_me())
    return fail(TL_ADAPTER_EFAIL, "without_gc_begin while this thread holds the world stopped");
  pthread_mutex_lock(&g_mu);
  ++g_scopes;
  GC_disable();
  pthread_mutex_unlock(&g_mu);
  return TL_ADAPTER_OK;
}

int without_gc_end() {
  if (world_stopped_by_me())
    return fail(TL_ADAPTER_EFAIL, "without_gc_end while this thread holds the world stopped");
  pthread_mutex_lock(&g_mu);
  if (g_scopes == 0) {
    pthread_mutex_unlock(&g_mu);
    return fail(TL_ADAPTER_EFAIL, "without_gc_end without without_gc_begin");
  }
  GC_enable();
  const bool run = --g_scopes == 0 && g_pending;
  bool ran = true;
  if (run) {
    g_pending = false;
    ran = run_registered([](void*) { GC_gcollect(); }, nullptr);
  }
  pthread_mutex_unlock(&g_mu);
  return ran ? TL_ADAPTER_OK
             : fail(TL_ADAPTER_EFAIL, "without_gc_end: could not register the calling thread to collect");
}

void collect_lock_for_fork() { pthread_mutex_lock(&g_mu); }

void collect_unlock_after_fork(bool child) {
  if (child)
    pthread_mutex_init(&g_mu, nullptr);
  else
    pthread_mutex_unlock(&g_mu);
}

}  // namespace tlgc
