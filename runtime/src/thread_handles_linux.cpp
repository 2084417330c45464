// thread_handles_linux.cpp — Linux per-thread handle: a POSIX timer on the
// thread's own CPU-time clock whose signal goes to that thread alone
// (SIGEV_THREAD_ID), and the tick handler it drives.
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
//
// Invariants:
//   - A timer is created by the thread it measures, so the tid it targets
//     and the CPU clock it reads are that thread's; it is deleted by that
//     thread's teardown or, once the thread is dead, by the reaper. A timer
//     is a process resource: it outlives its thread unless deleted
//     (/proc/self/timers lists it), which is the leak the probes count.
//   - The tick counts only timer expiries (si_code SI_TIMER), so the same
//     signal sent by kill or a signal storm is never counted as CPU time.
//   - The handler touches the record through the thread-local lookup and
//     two relaxed atomics, and keeps errno.
#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "current.h"
#include "os.h"
#include "record.h"
#include "thread_handles.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

namespace tl {

namespace handles_os {
namespace {

int tick_signal() { return SIGRTMIN + 4; }

void on_tick(int, siginfo_t* si, void*) {
  if (si->si_code != SI_TIMER) return;
  const int saved = errno;
  if (Record* r = current_record()) r->handles.ticks.fetch_add(1, std::memory_order_relaxed);
  g_cpu_ticks_total.fetch_add(1, std::memory_order_relaxed);
  errno = saved;
}

int make_timer(timer_t* out) {
  struct sigevent ev = {};
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = tick_signal();
  ev.sigev_notify_thread_id = static_cast<pid_t>(os::kernel_tid());
  return timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, out) == 0 ? 0 : errno;
}

}  // namespace

const char* what() { return "CPU-time timer (timer_create, SIGEV_THREAD_ID)"; }

int probe(const char** why) {
  // As many timers as a process with this many threads needs at once: a
  // platform that gives fewer (qemu-user keeps a table of 32) would refuse
  // threads for want of a timer, so handles are off there, said once.
  constexpr int kWanted = 128;
  static char reason[160];
  timer_t made[kWanted];
  int n = 0, e = 0;
  while (n < kWanted && (e = make_timer(&made[n])) == 0) ++n;
  for (int i = 0; i < n; ++i) timer_delete(made[i]);
  if (n == kWanted) return 0;
  if (n == 0 && (e == ENOSYS || e == EINVAL || e == EOPNOTSUPP)) {
    // qemu-user, and kernels without POSIX CPU timers, refuse the request
    // itself; nothing per thread would do better.
    *why = e == ENOSYS ? "timer_create is not implemented here (ENOSYS; qemu-user?)"
                       : "timer_create refuses CLOCK_THREAD_CPUTIME_ID with SIGEV_THREAD_ID here (EINVAL; qemu-user?)";
    return e;
  }
  if (e == EAGAIN && n > 0) {
    snprintf(reason, sizeof reason,
             "timer_create gives this process only %d timers (qemu-user keeps 32); a thread each would refuse threads", n);
    *why = reason;
    return e;
  }
  return 0;  // a transient refusal (ENOMEM): each thread asks again and reports it
}

int create(ThreadHandles* h, uint64_t period_ns) {
  timer_t t;
  if (int e = make_timer(&t)) return e;
  h->timer = reinterpret_cast<uintptr_t>(t);
  if (period_ns) arm(h, period_ns);
  return 0;
}

void destroy(ThreadHandles* h) {
  timer_delete(reinterpret_cast<timer_t>(h->timer));
  h->timer = 0;
}

void arm(ThreadHandles* h, uint64_t period_ns) {
  struct itimerspec its = {};
  its.it_interval.tv_sec = static_cast<time_t>(period_ns / 1000000000u);
  its.it_interval.tv_nsec = static_cast<long>(period_ns % 1000000000u);
  its.it_value = its.it_interval;
  timer_settime(reinterpret_cast<timer_t>(h->timer), 0, &its, nullptr);
}

bool install_tick_handler() {
  struct sigaction sa = {};
  sa.sa_sigaction = on_tick;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  return sigaction(tick_signal(), &sa, nullptr) == 0;
}

}  // namespace handles_os
}  // namespace tl
