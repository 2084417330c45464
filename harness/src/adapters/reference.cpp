// reference.cpp — the adapter for threadlab's own reference runtime.
//
// Invariants:
//   - A capability bit is set only once runtime.h offers the operation; the
//     runtime's suspension, GC, interrupt/kill, fork hooks, locks, mailboxes
//     and fault handling arrive later, and their bits stay clear until then.
//   - thread_list goes through tl_thread_list, which takes the registry lock;
//     the watchdog calls it from a helper thread with a deadline, so a stuck
//     registry lock costs the dump its record states, never the dump.
//   - Violations are classified by the runtime's own prefix ("scribble:" or
//     "invariant:").
#include <threadlab/adapter.h>
#include <threadlab/runtime.h>

#include <cstdio>
#include <cstring>

#include "adapters/builtin.h"

namespace {

thread_local char g_err[160];

int st(int rc, const char* call) {
  if (rc == TL_OK) return TL_ADAPTER_OK;
  std::snprintf(g_err, sizeof g_err, "%s: %s (%s)", call, tl_strerror(rc), tl_last_error());
  return rc == TL_ETIMEDOUT ? TL_ADAPTER_ETIMEDOUT : TL_ADAPTER_EFAIL;
}

int ref_init() {
  tl_config cfg;
  tl_config_defaults(&cfg);
  return st(tl_init(&cfg), "tl_init");
}
const char* ref_last_error() { return g_err; }

int ref_spawn(const char* name, tl_adapter_fn fn, void* arg, tl_adapter_thread_id* out) {
  tl_thread_id id = 0;
  int rc = st(tl_spawn(name, fn, arg, &id), "tl_spawn");
  if (out) *out = id;
  return rc;
}
int ref_join(tl_adapter_thread_id id) { return st(tl_join(id), "tl_join"); }
tl_adapter_thread_id ref_self() { return tl_self(); }
int ref_enter() { return st(tl_callback_enter(), "tl_callback_enter"); }
int ref_exit() { return st(tl_callback_exit(), "tl_callback_exit"); }
int ref_push(uintptr_t w) { return st(tl_value_push(w), "tl_value_push"); }
int ref_pop(uintptr_t* w) { return st(tl_value_pop(w), "tl_value_pop"); }

int ref_counters(tl_adapter_counter* out, size_t cap, size_t* count) {
  tl_counters c;
  int rc = st(tl_get_counters(&c), "tl_get_counters");
  if (rc) return rc;
  const tl_adapter_counter all[] = {
      {"records_live", c.records_live, TL_UNIT_COUNT},
      {"records_adopted", c.records_adopted, TL_UNIT_COUNT},
      {"stacks_mapped", c.stacks_mapped, TL_UNIT_COUNT},
      {"stack_bytes", c.stack_bytes, TL_UNIT_BYTES},
      {"altstacks", c.altstacks, TL_UNIT_COUNT},
  };
  const size_t n = sizeof all / sizeof all[0];
  for (size_t i = 0; i < n && i < cap; ++i) out[i] = all[i];
  if (count) *count = n;
  return TL_ADAPTER_OK;
}

int ref_integrity(tl_adapter_violation* out, size_t cap) {
  tl_violation v[32];
  int n = tl_check_integrity(v, 32);
  if (n < 0) return st(n, "tl_check_integrity");
  for (int i = 0; i < n && i < 32 && static_cast<size_t>(i) < cap; ++i) {
    out[i].kind = std::strncmp(v[i].what, "scribble", 8) == 0 ? TL_VIOLATION_SCRIBBLE
                                                               : TL_VIOLATION_INVARIANT;
    out[i].thread = v[i].thread;
    out[i].address = v[i].address;
    std::snprintf(out[i].what, sizeof out[i].what, "%s", v[i].what);
  }
  return n;
}

int ref_thread_list(tl_adapter_thread* out, size_t cap, size_t* count) {
  tl_thread_info info[256];
  size_t total = 0;
  int rc = st(tl_thread_list(info, 256, &total), "tl_thread_list");
  if (rc) return rc;
  for (size_t i = 0; i < total && i < 256 && i < cap; ++i) {
    out[i] = tl_adapter_thread{};
    out[i].id = info[i].id;
    out[i].kernel_tid = info[i].kernel_tid;
    std::snprintf(out[i].state, sizeof out[i].state, "%s", tl_state_name(info[i].state));
    std::snprintf(out[i].name, sizeof out[i].name, "%s", info[i].name);
    if (info[i].callback_depth)
      std::snprintf(out[i].waiting_on, sizeof out[i].waiting_on, "in callback (depth %u)",
                    info[i].callback_depth);
  }
  if (count) *count = total;
  return TL_ADAPTER_OK;
}

tl_adapter make_reference() {
  tl_adapter a{};
  a.abi_version = TL_ADAPTER_ABI_VERSION;
  a.struct_size = sizeof(tl_adapter);
  a.name = "reference";
  a.description = "threadlab's reference runtime (runtime/)";
  a.caps = TL_CAP_SPAWN | TL_CAP_FOREIGN_CALLBACK | TL_CAP_COUNTERS | TL_CAP_INTEGRITY |
           TL_CAP_VALUE_STACK | TL_CAP_THREAD_LIST;
  a.init = ref_init;
  a.last_error = ref_last_error;
  a.spawn = ref_spawn;
  a.join = ref_join;
  a.self = ref_self;
  a.callback_enter = ref_enter;
  a.callback_exit = ref_exit;
  a.value_push = ref_push;
  a.value_pop = ref_pop;
  a.counters = ref_counters;
  a.check_integrity = ref_integrity;
  a.thread_list = ref_thread_list;
  return a;
}

}  // namespace

extern "C" const tl_adapter tl_reference_adapter = make_reference();
