// suspend_darwin.cpp — the preemptive stop on Apple: Mach thread_suspend,
// thread_abort_safely, thread_get_state. Compiled only for Apple targets
// (ci/check-macos links it for aarch64-macos and x86_64-macos); it runs in
// the macOS CI jobs and is never executed on Linux.
//
// Invariants:
//   - request_stop() is synchronous: when it returns Stopped, the target is
//     suspended and its registers and sp are in its record.
//   - KERN_ABORTED from thread_get_state is retried; KERN_TERMINATED (or an
//     invalid port) means the thread exited: Gone, and nothing to resume.
//   - The port comes from pthread_mach_thread_np, which adds no user
//     reference: nothing here deallocates it.
//   - Hard kill still uses a signal (the handler must run on the target).
#include <mach/mach.h>
#include <signal.h>

#include <dispatch/dispatch.h>

#include "current.h"
#include "kill.h"
#include "os.h"
#include "suspend_mech.h"
#include "world.h"

namespace tl::mech {
namespace {

dispatch_semaphore_t g_ack;
constexpr int kKillSignal = SIGUSR1;

void on_kill(int) {
  Record* r = current_record();
  if (r && r->kill_hard.load(std::memory_order_acquire)) hard_kill_from_handler(r);
}

bool read_state(Record* r) {
#if defined(__aarch64__) || defined(__arm64__)
  arm_thread_state64_t st;
  mach_msg_type_number_t count = ARM_THREAD_STATE64_COUNT;
  const thread_state_flavor_t flavor = ARM_THREAD_STATE64;
#else
  x86_thread_state64_t st;
  mach_msg_type_number_t count = x86_THREAD_STATE64_COUNT;
  const thread_state_flavor_t flavor = x86_THREAD_STATE64;
#endif
  kern_return_t kr;
  do {
    count = sizeof st / sizeof(natural_t);
    kr = thread_get_state(r->mach_port, flavor, reinterpret_cast<thread_state_t>(&st), &count);
  } while (kr == KERN_ABORTED);
  if (kr != KERN_SUCCESS) return false;
  const auto* words = reinterpret_cast<const uint64_t*>(&st);
  unsigned n = sizeof st / sizeof(uint64_t);
  if (n > kMaxSavedRegs) n = kMaxSavedRegs;
  for (unsigned i = 0; i < n; ++i) r->saved_regs[i] = static_cast<uintptr_t>(words[i]);
  r->saved_reg_count = n;
#if defined(__aarch64__) || defined(__arm64__)
  r->saved_sp.store(static_cast<uintptr_t>(arm_thread_state64_get_sp(st)), std::memory_order_release);
#else
  r->saved_sp.store(static_cast<uintptr_t>(st.__rsp), std::memory_order_release);
#endif
  return true;
}

}  // namespace

bool install() {
  g_ack = dispatch_semaphore_create(0);
  struct sigaction sa = {};
  sa.sa_handler = on_kill;
  sigemptyset(&sa.sa_mask);
  return sigaction(kKillSignal, &sa, nullptr) == 0;
}

Sent request_stop(Record* r, uint64_t gen) {
  if (world::drop_this_signal()) return Sent::Pending;  // simulated loss
  kern_return_t kr = thread_suspend(r->mach_port);
  if (kr == KERN_TERMINATED || kr == MACH_SEND_INVALID_DEST || kr == KERN_INVALID_ARGUMENT) return Sent::Gone;
  if (kr != KERN_SUCCESS) return Sent::Pending;
  r->stopped_in_handler.store(true, std::memory_order_release);  // "stopped by the mechanism"
  thread_abort_safely(r->mach_port);
  if (!read_state(r)) {
    thread_resume(r->mach_port);
    r->stopped_in_handler.store(false, std::memory_order_release);
    return Sent::Gone;
  }
  world::stats().by_signal.fetch_add(1, std::memory_order_relaxed);
  r->ack(gen);
  return Sent::Stopped;
}

Sent resend(Record* r, uint64_t gen) { return request_stop(r, gen); }

void release(Record* r) {
  if (r->stopped_in_handler.exchange(false, std::memory_order_acq_rel)) thread_resume(r->mach_port);
}

void signal_maybe_gone(Record* r) { request_stop(r, 0); }

bool request_hard_kill(Record* r) {
  r->kill_hard.store(true, std::memory_order_release);
  return pthread_kill(r->pthread, kKillSignal) == 0;
}

void ack_post() { dispatch_semaphore_signal(g_ack); }

void ack_wait(unsigned us) {
  dispatch_semaphore_wait(g_ack, dispatch_time(DISPATCH_TIME_NOW, static_cast<int64_t>(us) * 1000));
}

}  // namespace tl::mech
