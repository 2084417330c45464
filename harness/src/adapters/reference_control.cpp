// reference_control.cpp — the reference adapter's stop-the-world, regions,
// heap, interrupt, kill and cleanup operations (see reference_ops.h).
//
// Invariants:
//   - Each operation is one runtime call; nothing here adds behaviour the
//     runtime does not have, so a scenario's verdict is the runtime's.
//   - kill waits kKillTimeoutMs for the target to reach a safe point before
//     the runtime ends it the hard way; the runtime's report of what that
//     cost is kept per calling thread for kill_report.
#include <threadlab/runtime.h>

#include <cstdio>

#include "adapters/reference_ops.h"

namespace threadlab::ref {
namespace {
constexpr unsigned kKillTimeoutMs = 500;
thread_local tl_adapter_kill_report g_last_kill;
thread_local bool g_have_kill = false;
}  // namespace

int suspend_all() { return st(tl_suspend_others(), "tl_suspend_others"); }
int resume_all() { return st(tl_resume_others(), "tl_resume_others"); }

int collect() {
  int rc = tl_gc_collect();
  if (rc == TL_GC_DEFERRED) return TL_ADAPTER_DEFERRED;
  return st(rc, "tl_gc_collect");
}

int interrupt(tl_adapter_thread_id id, tl_adapter_fn fn, void* arg) {
  return st(tl_interrupt(id, fn, arg), "tl_interrupt");
}

int kill(tl_adapter_thread_id id) {
  tl_kill_report rep{};
  int rc = tl_kill(id, kKillTimeoutMs, &rep);
  if (rc == TL_OK || rc == TL_ETIMEDOUT) {
    g_last_kill = tl_adapter_kill_report{};
    g_last_kill.hard = rep.hard;
    g_last_kill.cleanups_run = rep.cleanups_run;
    g_last_kill.locks_released = rep.locks_released;
    std::snprintf(g_last_kill.state_at_kill, sizeof g_last_kill.state_at_kill, "%s", tl_state_name(rep.state_at_kill));
    std::snprintf(g_last_kill.text, sizeof g_last_kill.text, "%s", rep.text);
    g_have_kill = true;
  }
  return st(rc, "tl_kill");
}

int kill_report(tl_adapter_kill_report* out) {
  if (!g_have_kill || !out) return TL_ADAPTER_EFAIL;
  *out = g_last_kill;
  return TL_ADAPTER_OK;
}

int safepoint() { return st(tl_safepoint(), "tl_safepoint"); }
int foreign_begin() { return st(tl_foreign_begin(), "tl_foreign_begin"); }
int foreign_end() { return st(tl_foreign_end(), "tl_foreign_end"); }
int blocking_begin() { return st(tl_blocking_begin(), "tl_blocking_begin"); }
int blocking_end() { return st(tl_blocking_end(), "tl_blocking_end"); }
int no_interrupt_begin() { return st(tl_no_interrupt_begin(), "tl_no_interrupt_begin"); }
int no_interrupt_end() { return st(tl_no_interrupt_end(), "tl_no_interrupt_end"); }

void* alloc(size_t bytes) {
  void* p = tl_gc_alloc(bytes);
  if (!p) st(TL_ENOMEM, "tl_gc_alloc");
  return p;
}
int is_live(const void* p) { return tl_gc_is_live(p); }
int without_gc_begin() { return st(tl_without_gcing_begin(), "tl_without_gcing_begin"); }
int without_gc_end() { return st(tl_without_gcing_end(), "tl_without_gcing_end"); }

int heap_stats(tl_adapter_heap_stats* out) {
  tl_gc_stats s{};
  int rc = st(tl_gc_get_stats(&s), "tl_gc_get_stats");
  if (rc == TL_ADAPTER_OK && out) *out = {s.collections, s.live_objects, s.freed_objects};
  return rc;
}

int cleanup_push(tl_adapter_fn fn, void* arg) { return st(tl_cleanup_push(fn, arg), "tl_cleanup_push"); }
int cleanup_pop(int run) { return st(tl_cleanup_pop(run), "tl_cleanup_pop"); }

}  // namespace threadlab::ref
