// pyobjects.cpp — the Python objects the adapter makes once, at init, with
// the GIL held: the exception an interrupt raises asynchronously, the
// Python-level no-op a safe point runs, and gc.get_objects for the ledger.
//
// Invariant: these are strong references kept for the process's life
// (never released: the interpreter is never finalised by the adapter).
#include "internal.h"

namespace tlpy {

PyObject* g_interrupt_exc = nullptr;
PyObject* g_safepoint_fn = nullptr;
PyObject* g_gc_get_objects = nullptr;

int make_py_objects() {
  g_interrupt_exc = PyErr_NewException("threadlab.Interrupt", nullptr, nullptr);
  PyObject* globals = PyDict_New();
  if (!g_interrupt_exc || !globals) return fail(TL_ADAPTER_EFAIL, "init: cannot make the adapter's Python objects");
  PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins());
  // A function whose first instruction (RESUME) checks the eval breaker:
  // a pending GIL drop request or asynchronous exception is handled there,
  // as at any function entry in the interpreter.
  PyObject* r = PyRun_String("def safepoint():\n    pass\n", Py_file_input, globals, globals);
  Py_XDECREF(r);
  g_safepoint_fn = r ? PyDict_GetItemString(globals, "safepoint") : nullptr;
  Py_XINCREF(g_safepoint_fn);
  Py_DECREF(globals);
  PyObject* gc = PyImport_ImportModule("gc");
  g_gc_get_objects = gc ? PyObject_GetAttrString(gc, "get_objects") : nullptr;
  Py_XDECREF(gc);
  if (!g_safepoint_fn || !g_gc_get_objects) {
    PyErr_Clear();
    return fail(TL_ADAPTER_EFAIL, "init: cannot compile the safe-point function or import gc");
  }
  return TL_ADAPTER_OK;
}

}  // namespace tlpy
