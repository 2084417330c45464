// suspend_signal_posix.cpp — the preemptive stop by signal handshake
// (Linux and other POSIX systems; Apple uses suspend_darwin.cpp).
//
// SIG_SUSPEND's handler runs on the target. It allocates nothing and takes
// no lock (a stopped thread could hold any of them): it reads its record
// through initial-exec TLS, copies registers out of the ucontext, publishes
// acked_gen, posts the ack semaphore (sem_post is async-signal-safe), and
// waits on the resume word (a futex, a raw syscall) until resume_gen
// reaches its generation. The wait compares the word it read before
// checking resume_gen, so a resume that lands before the wait changes the
// word and the wait returns at once: no resume is lost. The handler never
// changes its signal mask (every signal stays blocked while it runs), which
// also keeps ThreadSanitizer's deferred delivery from nesting inside it.
#include <errno.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <initializer_list>

#include "current.h"
#include "inject.h"
#include "kill.h"
#include "os.h"
#include "regs.h"
#include "sanitizer_policy.h"
#include "suspend_mech.h"
#include "world.h"

namespace tl::mech {
namespace {

#if defined(SIGPWR)
constexpr int kSuspendSignal = SIGPWR;
#else
constexpr int kSuspendSignal = SIGUSR1;
#endif

sem_t g_ack;

// What the collector scans for a thread stopped in this handler: the
// interrupted registers from the ucontext, and the control stack from the
// interrupted stack pointer less the red zone. Where delivery is deferred
// that is not enough: ThreadSanitizer runs the handler at a later
// intercepted call, with the ucontext of the moment the signal arrived, so
// the registers and frames that hold pointers now are not in it. There the
// handler also saves its own callee-saved registers and scans from its own
// frame, which covers every frame live when it stopped.
void save_context(Record* r, void* uc) {
  unsigned n = os::context_regs(uc, r->saved_regs, kMaxSavedRegs);
  uintptr_t sp = os::context_sp(uc);
  sp = sp - r->control_lo > kRedZoneBytes ? sp - kRedZoneBytes : r->control_lo;
  if constexpr (kSignalsDeferredBySanitizer) {
    n += capture_callee_saved(r->saved_regs + n, kMaxSavedRegs - n);
    const uintptr_t here = current_sp();
    if (here >= r->control_lo && here < r->control_hi && here < sp) sp = here;  // not on a sigaltstack
  }
  r->saved_reg_count = n;
  r->saved_sp.store(sp, std::memory_order_release);
}

void on_suspend(int, siginfo_t*, void* uc) {
  const int saved_errno = errno;
  Record* r = current_record();
  if (!r) {
    errno = saved_errno;
    return;
  }
  if (r->kill_hard.load(std::memory_order_acquire)) hard_kill_from_handler(r);  // does not return
  const uint64_t gen = world::stop_gen();
  r->stopped_in_handler.store(true, std::memory_order_seq_cst);
  if (world::resume_gen() >= gen || r->acked_gen.load(std::memory_order_acquire) >= gen) {
    // Stale (the stop ended) or repeated (a resend after our ack).
    r->stopped_in_handler.store(false, std::memory_order_relaxed);
    errno = saved_errno;
    return;
  }
  if (r->no_interrupt_depth.load(std::memory_order_acquire) > 0 && !TL_INJECT(suspend_during_no_interrupt)) {
    // Defer: the window closes with a self-stop (safepoint.cpp).
    r->suspend_pending.store(true, std::memory_order_release);
    r->stopped_in_handler.store(false, std::memory_order_relaxed);
    world::stats().deferred.fetch_add(1, std::memory_order_relaxed);
    errno = saved_errno;
    return;
  }
  save_context(r, uc);
  world::stats().by_signal.fetch_add(1, std::memory_order_relaxed);
  world::acknowledge(r, gen);

  if (TL_INJECT(resume_without_generation)) {
    // DEFECT resume_without_generation: wait for "the next" resume without
    // checking whether this stop's resume already came.
    uint32_t* word = world::resume_word();
    sched_yield();
    os::futex_wait(word, __atomic_load_n(word, __ATOMIC_ACQUIRE));
  } else {
    world::wait_for_resume(gen);
  }
  r->stopped_in_handler.store(false, std::memory_order_release);
  errno = saved_errno;
}

Sent send(Record* r) {
  if (world::drop_this_signal()) return Sent::Pending;  // simulated loss
  int e = pthread_kill(r->pthread, kSuspendSignal);
  return e == ESRCH ? Sent::Gone : Sent::Pending;
}

}  // namespace

bool install() {
  if (sem_init(&g_ack, 0, 0) != 0) return false;
  struct sigaction sa = {};
  sa.sa_sigaction = on_suspend;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);  // nothing else runs on top of a stopped thread
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE}) sigdelset(&sa.sa_mask, sig);
  return sigaction(kSuspendSignal, &sa, nullptr) == 0;
}

Sent request_stop(Record* r, uint64_t) { return send(r); }
Sent resend(Record* r, uint64_t) { return send(r); }

void release(Record*) {
  // Nothing per thread: world::restart wakes every handler through the
  // resume word.
}

void signal_maybe_gone(Record* r) {
  syscall(SYS_tgkill, getpid(), static_cast<pid_t>(r->kernel_tid.load(std::memory_order_acquire)), kSuspendSignal);
}

bool request_hard_kill(Record* r) {
  r->kill_hard.store(true, std::memory_order_release);
  return pthread_kill(r->pthread, kSuspendSignal) == 0;
}

void ack_post() { sem_post(&g_ack); }

void ack_wait(unsigned us) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += static_cast<long>(us) * 1000;
  while (ts.tv_nsec >= 1000000000L) {
    ts.tv_nsec -= 1000000000L;
    ++ts.tv_sec;
  }
  sem_timedwait(&g_ack, &ts);
}

}  // namespace tl::mech
