// fork.cpp — fork hooks: PyOS_BeforeFork / PyOS_AfterFork_Parent /
// PyOS_AfterFork_Child, with the GIL held by the forking thread across
// fork() (PyOS_AfterFork_Child re-creates the GIL and retakes it for the
// calling thread's state, which must be the current one).
//
// Invariants:
//   - fork_prepare takes the GIL (an unattached caller is given a thread
//     state), then the import lock (PyOS_BeforeFork, which also runs
//     os.register_at_fork's before-hooks), then the adapter's spawn map lock.
//   - fork_parent and fork_child release them in reverse order; the child
//     forgets every thread but the forking one (CPython deletes their
//     thread states in PyOS_AfterFork_Child).
//   - The child keeps one extra thread state bound to no thread (the
//     keeper), so its interpreter never runs out of thread states: CPython
//     3.11 reuses the interpreter's preallocated initial thread state for
//     the next one made once the list is empty, without resetting it, and
//     aborts ("init_threadstate: thread state already initialized"). A
//     child forked from any thread but the main one gets there as soon as
//     the forking thread's state is deleted (a PyGILState_Release). See
//     docs/findings.md; THREADLAB_CPYTHON_NO_FORK_KEEPER=1 leaves the
//     keeper out, to reproduce it.
#include <cstdlib>
#include <new>

#include "internal.h"

namespace tlpy {
PyThreadState* g_fork_keeper = nullptr;
}

namespace {
thread_local tlpy::Hold* g_fork_hold = nullptr;

int release_hold() {
  delete g_fork_hold;
  g_fork_hold = nullptr;
  return TL_ADAPTER_OK;
}
}  // namespace

extern "C" int tlpy_fork_prepare(void) {
  using namespace tlpy;
  if (g_fork_hold) return fail(TL_ADAPTER_EFAIL, "fork_prepare twice without fork_parent/fork_child");
  if (tls().held > 0) return fail(TL_ADAPTER_EFAIL, "fork_prepare inside an adapter operation");
  g_fork_hold = new (std::nothrow) Hold();
  if (!g_fork_hold) return fail(TL_ADAPTER_EFAIL, "fork_prepare: no memory");
  PyOS_BeforeFork();
  spawn_fork_prepare();
  return TL_ADAPTER_OK;
}

extern "C" int tlpy_fork_parent(void) {
  using namespace tlpy;
  if (!g_fork_hold) return fail(TL_ADAPTER_EFAIL, "fork_parent without fork_prepare");
  spawn_fork_parent();
  PyOS_AfterFork_Parent();
  return release_hold();
}

extern "C" int tlpy_fork_child(void) {
  using namespace tlpy;
  if (!g_fork_hold) return fail(TL_ADAPTER_EFAIL, "fork_child without fork_prepare");
  spawn_fork_child();
  forget_others();
  PyOS_AfterFork_Child();
  const char* no_keeper = std::getenv("THREADLAB_CPYTHON_NO_FORK_KEEPER");
  if (!(no_keeper && *no_keeper == '1')) g_fork_keeper = PyThreadState_New(PyInterpreterState_Main());
  return release_hold();
}
