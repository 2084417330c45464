// callbacks.cpp — foreign callbacks: CPython's adoption of a thread it did
// not create. callback_enter is PyGILState_Ensure (a thread state made
// lazily on the thread's first entry, reused by nested entries) followed by
// PyEval_SaveThread: the thread stays attached for the whole callback but
// holds the GIL only inside adapter operations, so a callback that waits
// for another thread's callback (scenarios do) does not hold the GIL while
// it waits. callback_exit retakes the GIL and calls PyGILState_Release,
// which deletes the thread state when the outermost callback ends.
//
// Invariants:
//   - Tls::callbacks holds one PyGILState_STATE per open callback.
//   - After callback_exit, Tls::saved is the thread state CPython still has
//     for this thread (nested, spawned or initial threads) or nullptr.
//   - The adapter's record (slot, id) of a foreign thread lives until the
//     thread exits: ids stay the same across its callbacks, although
//     CPython makes a new thread state for each outermost one.
#include "internal.h"

extern "C" int tlpy_callback_enter(void) {
  using namespace tlpy;
  Tls& t = tls();
  if (t.held > 0) return fail(TL_ADAPTER_EFAIL, "callback_enter inside an adapter operation");
  if (!claim("foreign")) return fail(TL_ADAPTER_EFAIL, "callback_enter: thread table full");
  set_state(State::GilWait);
  PyGILState_STATE st = PyGILState_Ensure();
  t.callbacks.push_back(st);
  t.saved = PyEval_SaveThread();
  set_state(t.regions.empty() ? State::Native : static_cast<State>(t.regions.back()));
  return TL_ADAPTER_OK;
}

extern "C" int tlpy_callback_exit(void) {
  using namespace tlpy;
  Tls& t = tls();
  if (t.callbacks.empty() || !t.saved) return fail(TL_ADAPTER_EFAIL, "callback_exit without callback_enter");
  if (t.held > 0) return fail(TL_ADAPTER_EFAIL, "callback_exit inside an adapter operation");
  PyGILState_STATE st = t.callbacks.back();
  t.callbacks.pop_back();
  set_state(State::GilWait);
  PyEval_RestoreThread(t.saved);
  t.saved = nullptr;
  PyGILState_Release(st);  // releases the GIL; deletes the state after the outermost
  t.saved = PyGILState_GetThisThreadState();
  set_state(t.saved ? State::Native : State::Detached);
  return TL_ADAPTER_OK;
}
