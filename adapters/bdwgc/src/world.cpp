// world.cpp — suspend_all/resume_all through GC_stop_world_external and
// GC_start_world_external (exported by libgc 8.2: `nm -D libgc.so.1`).
//
// bdwgc stops every registered thread but the caller with its suspend
// signal and holds its allocation lock until the world is started again:
// the stopping thread may not allocate, collect or register meanwhile
// (world_stopped_by_me() lets those paths refuse instead of deadlocking).
//
// Invariants:
//   - One thread at a time holds the world stopped (g_owner, its kernel
//     tid); nested suspend_all calls by that thread only count (t_depth),
//     and the world restarts when the outermost resume_all returns.
//   - A second thread's suspend_all waits on bdwgc's lock until the first
//     restarts the world (or, registered, is itself stopped until then).
//   - resume_all by a thread that does not hold the world stopped fails.
//   - A collect asked for by the stopping thread (collect.cpp answers
//     TL_ADAPTER_DEFERRED) runs once, after the outermost resume_all has
//     restarted the world.
#include <sys/syscall.h>
#include <unistd.h>

#include "gc_include.h"
#include "internal.h"

namespace tlgc {

namespace {
std::atomic<int64_t> g_owner{0};
thread_local unsigned t_depth = 0;
thread_local bool t_collect_at_resume = false;

int64_t my_tid() {
  thread_local int64_t tid = static_cast<int64_t>(syscall(SYS_gettid));
  return tid;
}
}  // namespace

int suspend_all() {
  if (t_depth > 0) {
    ++t_depth;
    return TL_ADAPTER_OK;
  }
  GC_stop_world_external();
  g_owner.store(my_tid());
  t_depth = 1;
  return TL_ADAPTER_OK;
}

int resume_all() {
  if (t_depth == 0) return fail(TL_ADAPTER_EFAIL, "resume_all by a thread that did not suspend_all");
  if (--t_depth > 0) return TL_ADAPTER_OK;
  g_owner.store(0);
  GC_start_world_external();
  if (t_collect_at_resume) {
    t_collect_at_resume = false;
    const int rc = collect();  // or deferred again, to the last without-GC scope's end
    if (rc < 0) return rc;
  }
  return TL_ADAPTER_OK;
}

void world_collect_at_resume() { t_collect_at_resume = true; }

bool world_stopped_by_me() { return t_depth > 0; }
int64_t world_stopper_tid() { return g_owner.load(); }

void world_after_fork_child() {
  // fork_prepare refuses a fork while this thread holds the world stopped,
  // and another thread's stop does not survive into the child.
  g_owner.store(0);
  t_depth = 0;
  t_collect_at_resume = false;
}

}  // namespace tlgc
