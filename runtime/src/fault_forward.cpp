// fault_forward.cpp — forwarded mode (see fault_forward.h).
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "fault_forward.h"

#include <errno.h>
#include <string.h>

#include <atomic>

#include "current.h"
#include "fault_report.h"
#include "globals.h"
#include "guard_zone.h"
#include "inject.h"
#include "os.h"
#include "record.h"
#include "registry.h"
#include "status.h"

namespace tl::fault {
namespace {

enum : uint32_t { kFree = 0, kClaimed = 1, kPosted = 2, kAnswered = 3 };
constexpr unsigned kSlots = 256;

struct Request {
  uint32_t state = kFree;  // futex word, __atomic builtins
  int64_t tid = 0;
  uintptr_t addr = 0;
  Decision d;
};
Request g_req[kSlots];
uint32_t g_posted = 0;  // futex word: bumped at every post
std::atomic<bool> g_active{false};
std::atomic<int64_t> g_handler_tid{0};
std::atomic<bool> g_started{false};
uint32_t g_ready = 0;  // futex word: 1 once g_handler_tid is published

void decide(Request& q) {
  // DEFECT handler_uses_own_tls: the handler thread asks its own
  // thread-locals for "the faulting thread's" record, and gets its own
  // (none): the faulting thread's own guard zone then looks like another
  // thread's (seed 004: a handler on another thread, core and stack).
  Record* self = TL_INJECT(handler_uses_own_tls) ? current_record() : registry().find_by_kernel_tid(q.tid);
  q.d = classify(self, q.addr);
  if (q.d.kind == FaultKind::Overflow) prepare(&q.d);
}

void* handler_main(void*) {
  g_handler_tid.store(os::kernel_tid(), std::memory_order_release);
  __atomic_store_n(&g_ready, 1u, __ATOMIC_RELEASE);
  os::futex_wake(&g_ready, INT32_MAX);
  for (;;) {
    const uint32_t seen = __atomic_load_n(&g_posted, __ATOMIC_ACQUIRE);
    bool any = false;
    for (Request& q : g_req) {
      if (__atomic_load_n(&q.state, __ATOMIC_ACQUIRE) != kPosted) continue;
      decide(q);
      fault_counters().forwarded.fetch_add(1, std::memory_order_relaxed);
      __atomic_store_n(&q.state, kAnswered, __ATOMIC_RELEASE);
      os::futex_wake(&q.state, 1);
      any = true;
    }
    if (!any) os::futex_wait(&g_posted, seen);
  }
  return nullptr;
}

}  // namespace

void prepare(Decision* d) {
  Record* r = d->owner;
  bool ok = true;
  if (d->stack == Recovering::Value) ok = zone_open_yellow(r->value);
  if (d->stack == Recovering::Temp) ok = zone_open_yellow(r->temp);
  if (!ok) {
    d->kind = FaultKind::OverflowInRecovery;
    return;
  }
  r->fault.recovering.store(d->stack, std::memory_order_release);
}

// Returns once the handler thread has published its tid: a fault after
// tl_set_fault_mode(TL_FAULT_FORWARDED) returns is forwarded, never handled
// directly because the handler had not been scheduled yet.
static void wait_ready() {
  while (__atomic_load_n(&g_ready, __ATOMIC_ACQUIRE) == 0) os::futex_wait(&g_ready, 0);
}

int forward_start() {
  if (g_started.exchange(true)) {
    wait_ready();
    g_active.store(true, std::memory_order_release);
    return TL_OK;
  }
  pthread_t t;
  sigset_t mask;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  const int e = os::thread_create(&t, &attr, handler_main, nullptr, &mask);
  pthread_attr_destroy(&attr);
  if (e != 0) {
    g_started.store(false);
    return fail(TL_EAGAIN, "tl_set_fault_mode: could not start the fault handler thread: %s", strerror(e));
  }
  wait_ready();
  g_active.store(true, std::memory_order_release);
  return TL_OK;
}

bool forward_active() { return g_active.load(std::memory_order_acquire); }

void forward_stop() { g_active.store(false, std::memory_order_release); }

bool forward_after_fork() {
  const bool was = g_active.exchange(false, std::memory_order_acq_rel);
  g_started.store(false, std::memory_order_release);
  g_handler_tid.store(0, std::memory_order_release);
  __atomic_store_n(&g_ready, 0u, __ATOMIC_RELEASE);
  __atomic_store_n(&g_posted, 0u, __ATOMIC_RELEASE);
  for (Request& q : g_req) __atomic_store_n(&q.state, kFree, __ATOMIC_RELEASE);
  return was;
}

bool forward_ask(int64_t tid, uintptr_t addr, Decision* d) {
  if (!forward_active()) return false;
  const int64_t handler = g_handler_tid.load(std::memory_order_acquire);
  if (handler == 0 || handler == tid) return false;  // not running yet, or the handler itself faulted
  Request* q = nullptr;
  const unsigned start = static_cast<unsigned>(tid) % kSlots;
  for (unsigned i = 0; i < kSlots && !q; ++i) {
    Request& c = g_req[(start + i) % kSlots];
    uint32_t free = kFree;
    if (__atomic_compare_exchange_n(&c.state, &free, kClaimed, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) q = &c;
  }
  if (!q) return false;
  q->tid = tid;
  q->addr = addr;
  __atomic_store_n(&q->state, kPosted, __ATOMIC_RELEASE);
  __atomic_fetch_add(&g_posted, 1u, __ATOMIC_RELEASE);
  os::futex_wake(&g_posted, 1);
  while (__atomic_load_n(&q->state, __ATOMIC_ACQUIRE) != kAnswered) os::futex_wait(&q->state, kPosted);
  *d = q->d;
  __atomic_store_n(&q->state, kFree, __ATOMIC_RELEASE);
  return true;
}

}  // namespace tl::fault
