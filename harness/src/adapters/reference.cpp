// reference.cpp — the adapters for threadlab's own reference runtime:
// `reference` (stop-the-world by the preemptive signal handshake) and
// `reference-hybrid` (state word + safepoints, signals after a grace period).
// Both tables share every operation; only init's suspension policy differs.
//
// Invariants:
//   - A capability bit is set only once runtime.h offers the operation.
//   - Fork: the runtime's own pthread_atfork handlers do the work (fork.cpp);
//     fork_prepare refuses the thread holding the world stopped (as tl_fork
//     does), fork_child checks that the runtime's child handler ran.
//   - A stop-the-world gives up after kSuspendTimeoutMs (the runtime resumes
//     the world and names who never answered): short enough that a scenario
//     reports that diagnosis before the harness watchdog fires.
//   - thread_list goes through tl_thread_list, which takes the registry lock;
//     the watchdog calls it from a helper thread with a deadline, so a stuck
//     registry lock costs the dump its record states, never the dump. What a
//     thread waits on comes from the lock-free wait-for graph.
//   - Violations are classified by the runtime's own prefix ("scribble:" or
//     "invariant:").
#include <threadlab/adapter.h>
#include <threadlab/runtime.h>

#include <cstdio>
#include <cstring>

#include "adapters/builtin.h"
#include "adapters/reference_ops.h"

namespace threadlab::ref {
namespace {
thread_local char g_err[640];
}  // namespace

int st(int rc, const char* call) {
  if (rc == TL_OK) return TL_ADAPTER_OK;
  std::snprintf(g_err, sizeof g_err, "%s: %s (%s)", call, tl_strerror(rc), tl_last_error());
  return rc == TL_ETIMEDOUT ? TL_ADAPTER_ETIMEDOUT : TL_ADAPTER_EFAIL;
}
const char* last_error() { return g_err; }

}  // namespace threadlab::ref

namespace {
using threadlab::ref::st;

#if defined(TL_UNDER_TSAN) || defined(TL_UNDER_ASAN)
// Sanitizers slow every thread 5-15x (ThreadSanitizer also delays signal
// delivery to the next intercepted call): the stop timeout scales with them,
// still far below the watchdog's.
constexpr unsigned kSuspendTimeoutMs = 10000;
#else
constexpr unsigned kSuspendTimeoutMs = 1000;
#endif

int init_with(int policy) {
  tl_config cfg;
  tl_config_defaults(&cfg);
  cfg.suspend_policy = policy;
  cfg.suspend_timeout_ms = kSuspendTimeoutMs;
  const int rc = st(tl_init(&cfg), "tl_init");
  if (rc == TL_ADAPTER_OK) tl_lock_order_check(1);  // predicted deadlocks (lock_order_cycles)
  return rc;
}
int ref_init() { return init_with(TL_SUSPEND_PREEMPTIVE); }
int ref_init_hybrid() { return init_with(TL_SUSPEND_HYBRID); }

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
      // Bounded (tl_config.stack_cache): growth past warm-up that keeps
      // going is a record released to the cache and never reused.
      {"records_cached", c.records_cached, TL_UNIT_COUNT},
      // One per living spawned or adopted thread (thread_handles.h).
      {"thread_handles", c.thread_handles, TL_UNIT_COUNT},
  };
  const size_t n = sizeof all / sizeof all[0];
  for (size_t i = 0; i < n && i < cap; ++i) out[i] = all[i];
  if (count) *count = n;
  return TL_ADAPTER_OK;
}

// Fork: the runtime's pthread_atfork handlers take its locks, and make the
// child whole again; these ops check around them.
int ref_fork_prepare() { return st(tl_fork_check(), "fork_prepare"); }  // tl_fork's own check
int ref_fork_parent() { return TL_ADAPTER_OK; }
int ref_fork_child() {
  tl_fork_info info{};
  if (int rc = st(tl_fork_report(&info), "tl_fork_report")) return rc;
  if (!info.in_child)
    return st(TL_ESTATE, "fork_child (the runtime's fork handler did not run in this child)");
  return TL_ADAPTER_OK;
}

int ref_save_image(const char* path) { return st(tl_save_image(path), "tl_save_image"); }
int ref_trim() { return st(tl_trim(), "tl_trim"); }
// The runtime's simulated OS-call failures (tl_os_fail_nth): the failing
// operation reports it through its own status and message.
int ref_os_fail_nth(unsigned nth) {
  tl_os_fail_nth(nth);
  return TL_ADAPTER_OK;
}
int ref_image_check(const char* path) { return st(tl_image_check(path, nullptr), "tl_image_check"); }
int ref_fork_and_save(const char* path, unsigned timeout_ms, int* status) {
  return st(tl_fork_and_save(path, timeout_ms, status), "tl_fork_and_save");
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

void describe_wait(tl_adapter_thread& t, const tl_wait_edge* edges, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (edges[i].waiter != t.id) continue;
    const char* name = threadlab::ref::lock_name(edges[i].lock);
    std::snprintf(t.waiting_on, sizeof t.waiting_on, "lock '%s' held by thread %llu", *name ? name : "?",
                  static_cast<unsigned long long>(edges[i].owner));
    return;
  }
}

int ref_thread_list(tl_adapter_thread* out, size_t cap, size_t* count) {
  tl_thread_info info[256];
  size_t total = 0;
  int rc = st(tl_thread_list(info, 256, &total), "tl_thread_list");
  if (rc) return rc;
  tl_wait_edge edges[256];
  size_t nedges = tl_wait_edges(edges, 256);
  for (size_t i = 0; i < total && i < 256 && i < cap; ++i) {
    out[i] = tl_adapter_thread{};
    out[i].id = info[i].id;
    out[i].kernel_tid = info[i].kernel_tid;
    std::snprintf(out[i].state, sizeof out[i].state, "%s", tl_state_name(info[i].state));
    std::snprintf(out[i].name, sizeof out[i].name, "%s", info[i].name);
    if (info[i].callback_depth)
      std::snprintf(out[i].waiting_on, sizeof out[i].waiting_on, "in callback (depth %u)",
                    info[i].callback_depth);
    describe_wait(out[i], edges, nedges < 256 ? nedges : 256);
  }
  if (count) *count = total;
  return TL_ADAPTER_OK;
}

int ref_stacks(tl_adapter_thread_id id, tl_adapter_stack* out, size_t cap, size_t* count) {
  tl_stack_info info[8];
  size_t total = 0;
  int rc = st(tl_thread_stacks(id, info, 8, &total), "tl_thread_stacks");
  if (rc) return rc;
  for (size_t i = 0; i < total && i < 8 && i < cap; ++i) {
    static const char* const kKinds[] = {"control", "value", "temp", "altstack"};
    out[i] = tl_adapter_stack{};
    std::snprintf(out[i].kind, sizeof out[i].kind, "%s",
                  info[i].kind >= 0 && info[i].kind < 4 ? kKinds[info[i].kind] : "other");
    out[i].lo = info[i].lo;
    out[i].hi = info[i].hi;
    out[i].guard_below_start = info[i].guard_below_start;
    out[i].guard_below_end = info[i].guard_below_end;
    out[i].guard_above_start = info[i].guard_above_start;
    out[i].guard_above_end = info[i].guard_above_end;
  }
  if (count) *count = total;
  return TL_ADAPTER_OK;
}

tl_adapter make_reference(const char* name, const char* description, int (*init)()) {
  namespace r = threadlab::ref;
  tl_adapter a{};
  a.abi_version = TL_ADAPTER_ABI_VERSION;
  a.struct_size = sizeof(tl_adapter);
  a.name = name;
  a.description = description;
  a.caps = TL_CAP_SPAWN | TL_CAP_FOREIGN_CALLBACK | TL_CAP_COUNTERS | TL_CAP_INTEGRITY | TL_CAP_VALUE_STACK |
           TL_CAP_THREAD_LIST | TL_CAP_SUSPEND | TL_CAP_COLLECT | TL_CAP_INTERRUPT | TL_CAP_KILL | TL_CAP_LOCKS |
           TL_CAP_REGIONS | TL_CAP_HEAP | TL_CAP_CLEANUPS | TL_CAP_MAILBOXES | TL_CAP_LOCK_HANDOFF | TL_CAP_FAULTS | TL_CAP_STACKS | TL_CAP_FORK | TL_CAP_IMAGE |
           TL_CAP_OS_FAIL;
#if !defined(TL_UNDER_TSAN)
  // Under ThreadSanitizer the hard kill's signal is handled only when a
  // blocked read() returns (docs/architecture.md).
  a.caps |= TL_CAP_KILL_BLOCKED;
#endif
  a.init = init;
  a.last_error = r::last_error;
  a.spawn = ref_spawn;
  a.join = ref_join;
  a.self = ref_self;
  a.callback_enter = ref_enter;
  a.callback_exit = ref_exit;
  a.kill = r::kill;
  a.interrupt = r::interrupt;
  a.suspend_all = r::suspend_all;
  a.resume_all = r::resume_all;
  a.collect = r::collect;
  a.lock_new = r::lock_new;
  a.lock = r::lock;
  a.unlock = r::unlock;
  a.lock_free = r::lock_free;
  a.wait_edges = r::wait_edges;
  a.lock_order_cycles = r::lock_order_cycles;
  a.lock_handoff = r::lock_handoff;
  a.lock_waiters = r::lock_waiters;
  a.mailbox_new = r::mailbox_new;
  a.mailbox_send = r::mailbox_send;
  a.mailbox_receive = r::mailbox_receive;
  a.mailbox_close = r::mailbox_close;
  a.mailbox_free = r::mailbox_free;
  a.value_push = ref_push;
  a.value_pop = ref_pop;
  a.counters = ref_counters;
  a.check_integrity = ref_integrity;
  a.thread_list = ref_thread_list;
  a.kill_report = r::kill_report;
  a.safepoint = r::safepoint;
  a.foreign_begin = r::foreign_begin;
  a.foreign_end = r::foreign_end;
  a.blocking_begin = r::blocking_begin;
  a.blocking_end = r::blocking_end;
  a.no_interrupt_begin = r::no_interrupt_begin;
  a.no_interrupt_end = r::no_interrupt_end;
  a.alloc = r::alloc;
  a.is_live = r::is_live;
  a.without_gc_begin = r::without_gc_begin;
  a.without_gc_end = r::without_gc_end;
  a.heap_stats = r::heap_stats;
  a.poison_byte = TL_GC_POISON;
  a.cleanup_push = r::cleanup_push;
  a.cleanup_pop = r::cleanup_pop;
  a.provoke_fault = r::provoke_fault;
  a.fault_mode = r::fault_mode;
  a.stacks = ref_stacks;
  a.fork_prepare = ref_fork_prepare;
  a.fork_parent = ref_fork_parent;
  a.fork_child = ref_fork_child;
  a.save_image = ref_save_image;
  a.image_check = ref_image_check;
  a.fork_and_save = ref_fork_and_save;
  a.trim = ref_trim;
  a.os_fail_nth = ref_os_fail_nth;
  return a;
}

}  // namespace

extern "C" const tl_adapter tl_reference_adapter =
    make_reference("reference", "threadlab's reference runtime (runtime/), preemptive stop-the-world", ref_init);
extern "C" const tl_adapter tl_reference_hybrid_adapter = make_reference(
    "reference-hybrid", "threadlab's reference runtime (runtime/), hybrid stop-the-world (state word + safepoints)",
    ref_init_hybrid);
