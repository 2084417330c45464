// table.cpp — the bdwgc adapter's operation table, init, and the module's
// one exported symbol (TL_ADAPTER_ENTRY_SYMBOL).
//
// Capabilities, each exercised by adapters/bdwgc/tests:
//   spawn, foreign_callback, suspend, collect, fork, heap, counters,
//   thread_list.
// Declared absent, because bdwgc has no such mechanism and faking one would
// test the adapter instead of the collector:
//   regions      bdwgc's blocking state is GC_do_blocking(fn, arg), a
//                function-scoped call; the ABI's blocking_begin/end return
//                to their caller in between, which GC_do_blocking cannot
//                span (its "inactive" state ends when fn returns). There are
//                no safepoints (stops are signals) and no no-interrupt
//                windows. So REGIONS stays clear.
//   value_stack  no managed value stack: bdwgc scans C stacks.
//   kill, interrupt, kill_blocked, cleanups: no way to end or interrupt a
//                thread at a safe point.
//   locks, lock_handoff, mailboxes: bdwgc has no user-visible locks or queues.
//   faults, integrity, stacks, image, os_fail: nothing of the kind exposed.
//
// Invariants:
//   - threadlab_adapter() only returns the table; init (once, on the
//     thread that will run the scenario) does GC_set_handle_fork(-1) (the
//     adapter brackets fork itself, fork.cpp), GC_INIT,
//     GC_allow_register_threads (foreign threads register in
//     callback_enter), and takes a slot for the calling thread.
#include "gc_include.h"
#include "internal.h"

namespace tlgc {

namespace {

int init() {
  if (GC_is_init_called()) return fail(TL_ADAPTER_EFAIL, "init called twice");
  GC_set_handle_fork(-1);
  GC_INIT();
  GC_allow_register_threads();
  if (!GC_thread_is_registered()) {
    // init on a thread other than the process's first: register it as a
    // foreign thread would be.
    GC_stack_base sb{};
    if (GC_get_stack_base(&sb) != GC_SUCCESS || GC_register_my_thread(&sb) != GC_SUCCESS)
      return fail(TL_ADAPTER_EFAIL, "could not register the initialising thread");
  }
  if (int rc = callbacks_init()) return rc;
  Slot* s = slot_claim("initial", Kind::Initial);
  if (!s) return fail(TL_ADAPTER_EFAIL, "thread table full");
  set_my_slot(s);
  return TL_ADAPTER_OK;
}

tl_adapter make() {
  tl_adapter a{};
  a.abi_version = TL_ADAPTER_ABI_VERSION;
  a.struct_size = sizeof(tl_adapter);
  a.name = "bdwgc";
  a.description = "Boehm-Demers-Weiser conservative GC (libgc), threads registered with it";
  a.caps = TL_CAP_SPAWN | TL_CAP_FOREIGN_CALLBACK | TL_CAP_SUSPEND | TL_CAP_COLLECT | TL_CAP_FORK | TL_CAP_HEAP |
           TL_CAP_COUNTERS | TL_CAP_THREAD_LIST;
  a.init = init;
  a.last_error = last_error;
  a.spawn = spawn;
  a.join = join;
  a.self = self;
  a.callback_enter = callback_enter;
  a.callback_exit = callback_exit;
  a.suspend_all = suspend_all;
  a.resume_all = resume_all;
  a.collect = collect;
  a.fork_prepare = fork_prepare;
  a.fork_parent = fork_parent;
  a.fork_child = fork_child;
  a.counters = counters;
  a.thread_list = thread_list;
  a.alloc = alloc;
  a.is_live = is_live;
  a.without_gc_begin = without_gc_begin;
  a.without_gc_end = without_gc_end;
  a.heap_stats = heap_stats;
  a.poison_byte = 0;  // bdwgc does not poison freed objects
  return a;
}

const tl_adapter g_table = make();

}  // namespace

}  // namespace tlgc

extern "C" TL_ADAPTER_EXPORT const tl_adapter* threadlab_adapter(void) { return &tlgc::g_table; }
