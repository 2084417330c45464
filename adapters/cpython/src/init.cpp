// init.cpp — bring up the embedded interpreter on the thread that calls init.
//
// Invariants:
//   - init runs once per process (adapter.h); a second call fails.
//   - libpython is promoted to RTLD_GLOBAL before Py_InitializeEx: the
//     module (and libpython with it) may be loaded RTLD_LOCAL, and CPython's
//     extension modules (lib-dynload/*.so) resolve libpython's symbols from
//     the global scope.
//   - After init the initial thread is attached with the GIL released
//     (PyEval_SaveThread), so other threads can take it.
#include <dlfcn.h>

#include <cstdlib>

#include "internal.h"

namespace {
std::atomic<bool> g_initialised{false};

void promote_libpython() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&Py_InitializeEx), &info) == 0 || !info.dli_fname) return;
  // RTLD_NOLOAD: only change the scope of the copy already loaded.
  if (void* h = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL)) (void)h;  // kept for good
}
}  // namespace

extern "C" int tlpy_init(void) {
  using namespace tlpy;
  if (g_initialised.exchange(true)) return fail(TL_ADAPTER_EFAIL, "init: called twice");
  if (Py_IsInitialized()) return fail(TL_ADAPTER_EFAIL, "init: an interpreter is already running in this process");
  promote_libpython();
  Py_InitializeEx(0);  // 0: leave the process's signal handlers alone
  if (!Py_IsInitialized()) return fail(TL_ADAPTER_EFAIL, "init: Py_InitializeEx failed");
  int rc = make_py_objects();
  if (!claim("initial")) rc = fail(TL_ADAPTER_EFAIL, "init: thread table full");
  const char* stats = std::getenv("THREADLAB_CPYTHON_STATS");
  if (stats && *stats == '1') std::atexit(print_interrupt_stats);
  tls().saved = PyEval_SaveThread();
  set_state(State::Native);
  return rc;
}
