// thread_handles.cpp — acquiring and releasing a record's per-thread kernel
// handles, the ledger of them, and the CPU-time tick's C ABI (see
// thread_handles.h for the invariants).
#include "thread_handles.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "current.h"
#include "fork.h"
#include "globals.h"
#include "inject.h"
#include "ledger.h"
#include "os.h"
#include "record.h"
#include "registry.h"
#include "status.h"

namespace tl {

std::atomic<uint64_t> g_cpu_ticks_total{0};

namespace {
std::atomic<bool> g_supported{false};
const char* g_why = "the runtime is not initialised";
std::atomic<uint64_t> g_period_ns{0};
pthread_mutex_t g_tick_mu = PTHREAD_MUTEX_INITIALIZER;  // one tl_set_cpu_tick at a time
bool g_handler_installed = false;                       // under g_tick_mu
}  // namespace

pthread_mutex_t* tick_mutex() { return &g_tick_mu; }  // fork.cpp takes it around fork()

void handles_init() {
  const char* why = nullptr;
  if (handles_os::probe(&why) == 0) {
    g_why = nullptr;
    g_supported.store(true, std::memory_order_release);
  } else {
    g_why = why;
  }
}

const char* handles_what() { return handles_os::what(); }

int handles_acquire(Record* r) {
  ThreadHandles& h = r->handles;
  h.ticks.store(0, std::memory_order_relaxed);
  h.start_errno = 0;
  if (!g_supported.load(std::memory_order_acquire)) return TL_OK;
  const uint64_t period = g_period_ns.load(std::memory_order_acquire);
  int e = os::should_fail(TL_OS_THREAD_HANDLE) ? EAGAIN : handles_os::create(&h, period);
  if (e != 0) {
    h.start_errno = e;
    return fail(TL_EAGAIN, "thread %llu could not create its %s: %s", static_cast<unsigned long long>(r->id),
                handles_os::what(), strerror(e));
  }
  ledger().thread_handles.fetch_add(1, std::memory_order_relaxed);
  // Live under the registry lock, which tl_set_cpu_tick's walk holds: a
  // period stored after our load is either seen here or applied by it.
  registry().lock();
  h.live = true;
  const uint64_t now = g_period_ns.load(std::memory_order_acquire);
  if (now != period) handles_os::arm(&h, now);
  registry().unlock();
  return TL_OK;
}

void handles_release(Record* r) {
  ThreadHandles& h = r->handles;
  if (!h.live) return;
  h.live = false;
  // DEFECT per_thread_handle_leak: the exiting thread forgets its kernel
  // handle instead of destroying it (Linux: the CPU-time timer stays in the
  // process's timer list; Apple: the exception port's receive and send
  // rights stay in the task) — the record is reused with a new one.
  if (TL_INJECT(per_thread_handle_leak)) {
    h.timer = 0;
    h.port = 0;
    return;
  }
  handles_os::destroy(&h);
  ledger().thread_handles.fetch_sub(1, std::memory_order_relaxed);
}

void handles_after_fork(Record* r, bool survivor) {
  ThreadHandles& h = r->handles;
  if (!h.live) return;
  h.timer = 0;
  h.port = 0;
  if (survivor && handles_os::create(&h, g_period_ns.load(std::memory_order_acquire)) == 0) return;
  h.live = false;
  ledger().thread_handles.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace tl

using namespace tl;

extern "C" int tl_thread_handles_supported(const char** why) {
  const bool on = g_supported.load(std::memory_order_acquire);
  if (why) *why = on ? nullptr : g_why;
  return on ? 1 : 0;
}

extern "C" int tl_set_cpu_tick(unsigned period_us) {
  TL_REQUIRE_INIT();
  if (!g_supported.load(std::memory_order_acquire))
    return fail(TL_ENOTSUP, "tl_set_cpu_tick: per-thread %s are off: %s", handles_os::what(), g_why);
  pthread_mutex_lock(&g_tick_mu);
  if (period_us && !g_handler_installed) {
    if (!handles_os::install_tick_handler()) {
      const int e = errno;
      pthread_mutex_unlock(&g_tick_mu);
      return fail(TL_ENOTSUP, "tl_set_cpu_tick: the tick has no handler here (%s)", strerror(e));
    }
    g_handler_installed = true;
  }
  const uint64_t ns = uint64_t{period_us} * 1000;
  g_period_ns.store(ns, std::memory_order_release);
  registry().for_each([&](Record* r) {
    if (r->handles.live) handles_os::arm(&r->handles, ns);
  });
  pthread_mutex_unlock(&g_tick_mu);
  return TL_OK;
}

extern "C" uint64_t tl_thread_cpu_ticks(void) {
  Record* r = current_record();
  return r ? r->handles.ticks.load(std::memory_order_relaxed) : 0;
}
