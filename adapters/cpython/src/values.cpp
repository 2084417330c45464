// values.cpp — the per-thread managed value stack: a Python list kept in
// the calling thread's CPython thread state dict (PyThreadState_GetDict),
// so two threads sharing one thread state would share one stack and the
// scenarios' tagged words would show it.
//
// Invariants:
//   - Only an attached thread has a value stack; it lives as long as its
//     thread state (a foreign thread's ends with its outermost callback).
//   - Words are stored as Python ints, pushed and popped under the GIL.
#include "internal.h"

namespace {
PyObject* my_stack(bool create) {  // with the GIL; borrowed
  PyObject* dict = PyThreadState_GetDict();
  if (!dict) return nullptr;
  PyObject* list = PyDict_GetItemString(dict, "threadlab.values");
  if (list || !create) return list;
  list = PyList_New(0);
  if (!list) return nullptr;
  int rc = PyDict_SetItemString(dict, "threadlab.values", list);
  Py_DECREF(list);
  return rc == 0 ? list : nullptr;
}
}  // namespace

extern "C" int tlpy_value_push(uintptr_t w) {
  using namespace tlpy;
  Hold h(false);
  if (!h.ok()) return fail(TL_ADAPTER_EFAIL, "value_push: the thread has no thread state (outside a callback)");
  PyObject* list = my_stack(true);
  PyObject* v = list ? PyLong_FromUnsignedLongLong(w) : nullptr;
  int rc = v ? PyList_Append(list, v) : -1;
  Py_XDECREF(v);
  if (rc != 0) {
    PyErr_Clear();
    return fail(TL_ADAPTER_EFAIL, "value_push: no memory");
  }
  return TL_ADAPTER_OK;
}

extern "C" int tlpy_value_pop(uintptr_t* w) {
  using namespace tlpy;
  Hold h(false);
  if (!h.ok()) return fail(TL_ADAPTER_EFAIL, "value_pop: the thread has no thread state (outside a callback)");
  PyObject* list = my_stack(false);
  Py_ssize_t n = list ? PyList_GET_SIZE(list) : 0;
  if (n == 0) return fail(TL_ADAPTER_EFAIL, "value_pop: value stack underflow");
  unsigned long long v = PyLong_AsUnsignedLongLong(PyList_GET_ITEM(list, n - 1));
  if (PyList_SetSlice(list, n - 1, n, nullptr) != 0 || PyErr_Occurred()) {
    PyErr_Clear();
    return fail(TL_ADAPTER_EFAIL, "value_pop: the list refused");
  }
  if (w) *w = static_cast<uintptr_t>(v);
  return TL_ADAPTER_OK;
}
