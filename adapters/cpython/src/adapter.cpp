// adapter.cpp — the cpython adapter's operation table and its entry point.
//
// Capabilities offered, each backed by CPython itself: spawn (raw pthreads
// that attach with PyGILState_Ensure), foreign callbacks (PyGILState_Ensure
// / Release), interrupt (a per-thread queue plus PyThreadState_SetAsyncExc,
// delivered at a safe point that runs bytecode), collect (PyGC_Collect),
// fork (PyOS_BeforeFork / AfterFork_*), a value stack in the thread state's
// dict, regions, counters, thread_list, and locks (PyThread_type_lock, the
// lock under _thread and threading, with owners kept by the adapter).
// Declared absent, and why (adapters/cpython/README.md):
//   suspend — no stop-the-world before 3.13; holding the GIL stops only
//             threads that want it, not native code between operations.
//   heap    — CPython frees by reference count and never scans native
//             stacks: the conservative-roots contract cannot be honoured.
//   mailboxes — queue.Queue runs bytecode, where an interrupt's pending
//             asynchronous exception would be raised mid-operation (and
//             lose a message); queue.SimpleQueue is unbounded.
//   kill, faults, integrity, cleanups, stacks, image,
//   os_fail — no CPython mechanism behind them.
#include "internal.h"

namespace {
tl_adapter make() {
  tl_adapter a{};
  a.abi_version = TL_ADAPTER_ABI_VERSION;
  a.struct_size = sizeof(tl_adapter);
  a.name = "cpython";
  a.description = "embedded CPython " PY_VERSION " (libpython): GIL, PyGILState adoption, gc, fork hooks";
  a.caps = TL_CAP_SPAWN | TL_CAP_FOREIGN_CALLBACK | TL_CAP_INTERRUPT | TL_CAP_COLLECT | TL_CAP_FORK |
           TL_CAP_VALUE_STACK | TL_CAP_COUNTERS | TL_CAP_THREAD_LIST | TL_CAP_REGIONS | TL_CAP_LOCKS;
  a.init = tlpy_init;
  a.last_error = tlpy_last_error;
  a.spawn = tlpy_spawn;
  a.join = tlpy_join;
  a.self = tlpy_self;
  a.callback_enter = tlpy_callback_enter;
  a.callback_exit = tlpy_callback_exit;
  a.interrupt = tlpy_interrupt;
  a.collect = tlpy_collect;
  a.fork_prepare = tlpy_fork_prepare;
  a.fork_parent = tlpy_fork_parent;
  a.fork_child = tlpy_fork_child;
  a.value_push = tlpy_value_push;
  a.value_pop = tlpy_value_pop;
  a.counters = tlpy_counters;
  a.thread_list = tlpy_thread_list;
  a.safepoint = tlpy_safepoint;
  a.foreign_begin = tlpy_foreign_begin;
  a.foreign_end = tlpy_foreign_end;
  a.blocking_begin = tlpy_blocking_begin;
  a.blocking_end = tlpy_blocking_end;
  a.no_interrupt_begin = tlpy_no_interrupt_begin;
  a.no_interrupt_end = tlpy_no_interrupt_end;
  a.lock_new = tlpy_lock_new;
  a.lock = tlpy_lock;
  a.unlock = tlpy_unlock;
  a.lock_free = tlpy_lock_free;
  a.wait_edges = tlpy_wait_edges;
  return a;
}
const tl_adapter g_table = make();
}  // namespace

extern "C" TL_ADAPTER_EXPORT const tl_adapter* threadlab_adapter(void) { return &g_table; }
