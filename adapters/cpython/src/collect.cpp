// collect.cpp — a full collection: PyGC_Collect with the GIL held. CPython
// frees most objects by reference count; the cyclic collector runs here on
// the calling thread, while every other thread that wants the GIL waits.
// An unattached caller is given a thread state for the call.
#include "internal.h"

extern "C" int tlpy_collect(void) {
  tlpy::Hold h;
  (void)PyGC_Collect();
  if (PyErr_Occurred()) {
    PyErr_Clear();
    return tlpy::fail(TL_ADAPTER_EFAIL, "collect: the collector raised");
  }
  return TL_ADAPTER_OK;
}
