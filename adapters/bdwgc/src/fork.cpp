// fork.cpp — fork_prepare/parent/child around the harness's fork(), with
// bdwgc's manual fork handling: init calls GC_set_handle_fork(-1) before
// GC_INIT (no pthread_atfork handlers of bdwgc's own), and the adapter calls
// GC_atfork_prepare/parent/child itself.
//
// Invariants:
//   - Lock order in fork_prepare: the adapter's collect lock (taken before
//     bdwgc's lock everywhere), its heap and spawn table locks (never held
//     while calling into bdwgc), then bdwgc's (GC_atfork_prepare); parent
//     and child release in reverse, the child re-initialising the adapter's
//     locks and forgetting every thread but the one that forked.
//   - A thread holding the world stopped cannot fork (bdwgc's lock is held).
#include "gc_include.h"
#include "internal.h"

namespace tlgc {

int fork_prepare() {
  if (world_stopped_by_me())
    return fail(TL_ADAPTER_EFAIL, "fork_prepare while this thread holds the world stopped (bdwgc's lock is held)");
  collect_lock_for_fork();
  heap_lock_for_fork();
  spawn_lock_for_fork();
  GC_atfork_prepare();
  return TL_ADAPTER_OK;
}

int fork_parent() {
  GC_atfork_parent();
  spawn_unlock_after_fork(false);
  heap_unlock_after_fork(false);
  collect_unlock_after_fork(false);
  return TL_ADAPTER_OK;
}

int fork_child() {
  GC_atfork_child();
  spawn_unlock_after_fork(true);
  heap_unlock_after_fork(true);
  collect_unlock_after_fork(true);
  world_after_fork_child();
  slots_after_fork_child();
  return TL_ADAPTER_OK;
}

}  // namespace tlgc
