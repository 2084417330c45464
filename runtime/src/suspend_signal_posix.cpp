// suspend_signal_posix.cpp — the preemptive stop by signal handshake
// (Linux and other POSIX systems; Apple uses suspend_darwin.cpp).
//
// SIG_SUSPEND's handler runs on the target. It allocates nothing and takes
// no lock (a stopped thread could hold any of them): it reads its record
// through initial-exec TLS, copies registers out of the ucontext, publishes
// acked_gen, bumps the ack word and wakes the stopper (a futex, a raw
// system call), and waits on the resume word (a futex too) until
// resume_gen reaches its generation. The wait compares the word it read
// before checking resume_gen, so a resume that lands before the wait
// changes the word and the wait returns at once: no resume is lost. The
// handler never changes its signal mask (every signal stays blocked while
// it runs).
//
// It calls nothing a sanitizer intercepts (only raw system calls and
// atomics). ThreadSanitizer delivers an asynchronous signal late, from the
// next intercepted call, with every signal blocked and the mask to restore
// kept per thread: an intercepted call made inside such a delivery (the
// ack was once sem_post) delivers again, nested, overwrites that saved
// mask, and the thread goes on with every signal blocked, SIGSEGV
// included, so its next write-barrier or guard-zone fault killed the
// process with no report (fault-signal-storm under tsan, ~1 run in 10).
//
// Stacks: the handler is installed without SA_ONSTACK, so it runs on the
// stack it interrupted — the thread's own (large) stack normally, and the
// user's altstack only when the thread was already running a handler there
// (the kernel then stays on the altstack whatever the flag says). There it
// must fit beside the user's frames: it uses about 0.5 KiB of frames plus
// the kernel's signal frame (1 to 3.5 KiB, the FPU state), and it never
// runs the dynamic linker's lazy resolver, which would add another 2.5 KiB:
// every C library function it reaches is bound at install
// (bind_handler_calls). The budget is in runtime.h (tl_register_altstack).
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <initializer_list>

#include "altstack.h"
#include "race_point.h"
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

// The ack channel: posts bump the word; the stopper remembers the last
// value it consumed. Several posts between two waits collapse into one
// wake, which is all the stopper needs: it re-reads every target's ack.
uint32_t g_ack_word = 0;   // futex word [atomic]
uint32_t g_ack_taken = 0;  // [stopper]

// What the collector scans for a thread stopped in this handler: the
// interrupted registers from the ucontext, and the stack it interrupted from
// that stack pointer less the red zone — the control stack, or the altstack
// when the signal landed in a handler running there (the collector then
// also finds the control stack's interrupted frames, altstack.h). Where
// delivery is deferred that is not enough: ThreadSanitizer runs the handler
// at a later intercepted call, with the ucontext of the moment the signal
// arrived, so the registers and frames that hold pointers now are not in
// it. There the handler also saves its own callee-saved registers and scans
// from its own frame, which covers every frame live when it stopped.
// [signal path]
void save_context(Record* r, void* uc) {
  unsigned n = os::context_regs(uc, r->saved_regs, kMaxSavedRegs);
  uintptr_t sp = os::context_sp(uc);
  if constexpr (kSignalsDeferredBySanitizer) {
    n += capture_callee_saved(r->saved_regs + n, kMaxSavedRegs - n);
    // Where the thread runs now (the handler runs on the current stack):
    // its own frame when that is lower on the same stack or on another one.
    const uintptr_t here = current_sp();
    const bool same_stack = (here >= r->control_lo && here < r->control_hi) == (sp >= r->control_lo && sp < r->control_hi);
    if (!same_stack || here < sp) sp = here;
  }
  altstack_note_sp(r, sp);
  // Less the red zone, without leaving the stack sp lies on.
  uintptr_t lo = 0;
  const uintptr_t alo = r->altstack.lo.load(std::memory_order_relaxed), ahi = r->altstack.hi.load(std::memory_order_relaxed);
  if (sp >= r->control_lo && sp < r->control_hi)
    lo = r->control_lo;
  else if (ahi && sp >= alo && sp < ahi)
    lo = alo;
  sp = sp - lo > kRedZoneBytes ? sp - kRedZoneBytes : lo;
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
  // DEFECT suspend_during_no_interrupt: the handler stops the thread inside
  // its no-interrupt window instead of deferring the stop to its end.
  if (r->no_interrupt_depth.load(std::memory_order_acquire) > 0 && !TL_INJECT(suspend_during_no_interrupt)) {
    // Defer: the window closes with a self-stop (safepoint.cpp).
    r->suspend_pending.store(true, std::memory_order_release);
    r->stopped_in_handler.store(false, std::memory_order_relaxed);
    world::stats().deferred.fetch_add(1, std::memory_order_relaxed);
    errno = saved_errno;
    return;
  }
  save_context(r, uc);
  TL_RACE_POINT();  // signal path: registers saved, not yet acknowledged
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

__attribute__((noinline)) void bind_siglongjmp() {
  sigjmp_buf env;
  if (sigsetjmp(env, 0) == 0) siglongjmp(env, 1);
}

// Bind, now and outside any handler, every C library function the handler
// can reach through the PLT: the first call of each would otherwise run the
// dynamic linker's lazy resolver inside the handler, which saves the whole
// vector register file on the stack (about 2.5 KiB on x86_64 with AVX-512)
// and overflowed an 8 KiB user altstack a callback was running on. Each call
// here is harmless: a wake of nobody, a post taken back, a query.
void bind_handler_calls() {
  const int saved_errno = errno;  // __errno_location
  errno = saved_errno;
  uint32_t nobody = 0;
  os::futex_wake(&nobody, 1);                            // syscall (every futex wait and wake)
  os::futex_wait(&nobody, 1);                            // returns at once: the word is not 1
  bool on_it;
  os::Bounds b;
  os::current_altstack(&b, &on_it);                      // sigaltstack
  sched_yield();                                         // the resume_without_generation defect
  bind_siglongjmp();                                     // the hard kill leaves by siglongjmp
}

}  // namespace

bool install() {
  bind_handler_calls();
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

void ack_post() {  // [signal path]
  __atomic_fetch_add(&g_ack_word, 1u, __ATOMIC_RELEASE);
  os::futex_wake(&g_ack_word, INT32_MAX);
}

void ack_wait(unsigned us) {
  const uint32_t taken = __atomic_load_n(&g_ack_taken, __ATOMIC_RELAXED);
  if (__atomic_load_n(&g_ack_word, __ATOMIC_ACQUIRE) == taken) os::futex_wait_for(&g_ack_word, taken, us);
  __atomic_store_n(&g_ack_taken, __atomic_load_n(&g_ack_word, __ATOMIC_ACQUIRE), __ATOMIC_RELAXED);
}

}  // namespace tl::mech
