// kill.h — ending a spawned thread from another thread (tl_kill), and the
// cleanup handlers that run when it happens.
//
// Invariants:
//   - A soft kill runs on the target at a safe point: cleanups innermost
//     first, then every runtime lock it holds is released, then its
//     without-GC scopes are closed, then it leaves through exit_env.
//   - A hard kill (the target never reached a safe point in time) runs from
//     the suspend signal's handler: it releases runtime locks (atomic stores
//     and a futex wake — no allocation, no locks), runs no cleanups, and
//     leaves through exit_env, abandoning whatever foreign frames were on
//     the stack. The killer's report says so.
//   - Cleanup nodes live on the thread's temp stack: no allocation.
#pragma once

namespace tl {

struct Record;

struct CleanupNode {
  CleanupNode* prev;
  void (*fn)(void*);
  void* arg;
};

[[noreturn]] void kill_unwind(Record* r);
[[noreturn]] void hard_kill_from_handler(Record* r);
// Run every cleanup, innermost first (tl_exit and kill); returns the count.
unsigned run_all_cleanups(Record* r);
// Release every runtime lock r holds; returns the count.
unsigned release_held_locks(Record* r);

}  // namespace tl
