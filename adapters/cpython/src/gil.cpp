// gil.cpp — per-thread attachment state and the GIL guard (see internal.h).
//
// Invariants:
//   - A Hold on an attached thread is exactly Py_END_ALLOW_THREADS at its
//     start and Py_BEGIN_ALLOW_THREADS at its end (PyEval_RestoreThread /
//     PyEval_SaveThread with the thread's own state); Holds nest.
//   - A Hold with adopt on an unattached thread is PyGILState_Ensure /
//     Release: CPython makes a thread state for it and deletes it again.
//   - The slot's state reads gil-wait while the thread waits for the GIL,
//     python while it holds it.
#include "internal.h"

namespace tlpy {

Tls& tls() {
  thread_local Tls t;
  return t;
}

Hold::Hold(bool adopt) {
  Tls& t = tls();
  if (t.held > 0) {
    ++t.held;
    mode_ = Mode::Nested;
    return;
  }
  if (t.saved) {
    set_state(State::GilWait);
    PyEval_RestoreThread(t.saved);
    t.saved = nullptr;
    t.held = 1;
    set_state(State::Python);
    mode_ = Mode::Restored;
    return;
  }
  if (!adopt) return;
  set_state(State::GilWait);
  st_ = PyGILState_Ensure();
  t.held = 1;
  set_state(State::Python);
  mode_ = Mode::Ensured;
}

Hold::~Hold() {
  Tls& t = tls();
  switch (mode_) {
    case Mode::None: return;
    case Mode::Nested: --t.held; return;
    case Mode::Restored:
      t.held = 0;
      t.saved = PyEval_SaveThread();
      set_state(t.regions.empty() ? State::Native : static_cast<State>(t.regions.back()));
      return;
    case Mode::Ensured:
      t.held = 0;
      PyGILState_Release(st_);
      set_state(State::Detached);
      return;
  }
}

}  // namespace tlpy
