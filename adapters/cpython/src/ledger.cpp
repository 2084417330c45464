// ledger.cpp — counters (the runtime's own ledger, sampled after each
// cycle as leak probes: levels only, nothing monotonic) and thread_list
// (hang dumps).
//
// Invariants:
//   - thread_list reads the slot table with atomics only: it never takes
//     the GIL or a lock (the watchdog calls it while threads may hold or
//     wait for the GIL forever).
//   - counters may take the GIL; a thread state the call itself needed
//     (an unattached caller) is not counted, nor a fork child's keeper
//     (fork.cpp).
#include <cstdio>

#include "internal.h"

extern "C" int tlpy_counters(tl_adapter_counter* out, size_t cap, size_t* count) {
  using namespace tlpy;
  uint64_t states = 0, objects = 0, pending = 0;
  {
    Hold h;
    PyInterpreterState* interp = PyInterpreterState_Main();
    for (PyThreadState* ts = PyInterpreterState_ThreadHead(interp); ts; ts = PyThreadState_Next(ts)) ++states;
    if (h.adopted() && states > 0) --states;
    if (g_fork_keeper && states > 0) --states;
    PyObject* all = PyObject_CallNoArgs(g_gc_get_objects);
    if (all) {
      objects = static_cast<uint64_t>(PyList_GET_SIZE(all));
      Py_DECREF(all);
    } else {
      PyErr_Clear();
    }
  }
  for (auto& s : g_slots)
    if (s.id.load(std::memory_order_acquire) != 0) pending += s.npending.load();
  const tl_adapter_counter all[] = {{"threads_live", g_live.load(), TL_UNIT_COUNT},
                                    {"threads_unjoined", tlpy_unjoined(), TL_UNIT_COUNT},
                                    {"thread_states", states, TL_UNIT_COUNT},
                                    {"gc_tracked_objects", objects, TL_UNIT_COUNT},
                                    {"interrupts_pending", pending, TL_UNIT_COUNT}};
  constexpr size_t n = sizeof all / sizeof all[0];
  for (size_t i = 0; i < n && i < cap; ++i) out[i] = all[i];
  if (count) *count = n;
  return TL_ADAPTER_OK;
}

extern "C" int tlpy_thread_list(tl_adapter_thread* out, size_t cap, size_t* count) {
  using namespace tlpy;
  size_t n = 0;
  for (auto& s : g_slots) {
    uint64_t id = s.id.load(std::memory_order_acquire);
    if (id == 0 || id == UINT64_MAX) continue;
    if (n < cap) {
      out[n] = tl_adapter_thread{};
      out[n].id = id;
      out[n].kernel_tid = s.tid.load();
      const auto st = static_cast<State>(s.state.load(std::memory_order_relaxed));
      std::snprintf(out[n].state, sizeof out[n].state, "%s", state_name(st));
      std::snprintf(out[n].name, sizeof out[n].name, "%s", s.name);
      if (st == State::GilWait) std::snprintf(out[n].waiting_on, sizeof out[n].waiting_on, "the GIL");
      if (uint64_t w = s.waiting.load())
        std::snprintf(out[n].waiting_on, sizeof out[n].waiting_on, "lock %s", tlpy_lock_name(w));
    }
    ++n;
  }
  if (count) *count = n;
  return TL_ADAPTER_OK;
}
