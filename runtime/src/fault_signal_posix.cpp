// fault_signal_posix.cpp — the SIGSEGV/SIGBUS handlers: classify, then
// recover, resume, report or chain.
//
//   barrier page            mark the card, unprotect, resume (gc/barrier.h)
//   own yellow zone/guard   open the zone, unwind to the catch frame with
//                           TL_EOVERFLOW (catch.h); none: crash report
//   own red zone, yellow open   crash report: overflow during recovery
//   another thread's zone   scribble report naming both; unwind with
//                           TL_ESCRIBBLE, or crash report without a frame
//   anything else           the handler installed before the runtime; with
//                           SIG_DFL or SIG_IGN a crash report, then the
//                           kernel's default action
//
// Invariants:
//   - Installed with SA_SIGINFO|SA_ONSTACK, every async signal blocked while
//     it runs (a stop, an interrupt, a storm of SIGCHLD or SIGPROF cannot
//     land on a half-handled fault; they are delivered after it), SIGSEGV
//     and SIGBUS blocked too, so a fault inside the handler is the kernel's
//     to end, never a recursion.
//   - Needs no record: a thread without one (never adopted, or torn down)
//     is classified with self = nullptr and chains or gets a crash report
//     that reads nothing from a record of its own.
//   - Allocates nothing, takes no lock; every C library function it reaches
//     is bound at install (bind_calls), so the dynamic linker never runs on
//     the altstack.
//   - The saved dispositions are put back by restore_handlers.
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <initializer_list>

#include "catch.h"
#include "current.h"
#include "fatal.h"
#include "fault.h"
#include "fault_classify.h"
#include "fault_forward.h"
#include "fault_report.h"
#include "gc/barrier.h"
#include "globals.h"
#include "inject.h"
#include "os.h"
#include "record.h"
#include "sigsafe_buf.h"
#include "status.h"

namespace tl::fault {
namespace {

constexpr int kSignals[2] = {SIGSEGV, SIGBUS};
struct sigaction g_prev[2];
std::atomic<bool> g_installed{false};

int index_of(int sig) { return sig == SIGBUS ? 1 : 0; }

[[noreturn]] void crash(const char* what, int sig, uintptr_t addr, const Record* self, const Record* owner) {
  SigsafeBuf<400> m;
  m.str(sig == SIGBUS ? "SIGBUS" : "SIGSEGV").str(" at ").hex(addr).str(": ").str(what);
  if (self) m.str(" (thread ").dec(static_cast<int64_t>(self->id)).str(")");
  else m.str(" (a thread without a record)");
  if (owner && owner != self) m.str(" in a zone of thread ").dec(static_cast<int64_t>(owner->id));
  fatal_error(m.c_str());
}

void chain(int sig, siginfo_t* si, void* uc, const Record* self) {
  fault_counters().chained.fetch_add(1, std::memory_order_relaxed);
  const struct sigaction& p = g_prev[index_of(sig)];
  if (p.sa_flags & SA_RESETHAND) {
    // What the kernel would have done delivering to it: the default action
    // from now on (a handler that relies on it returns to re-fault and die).
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, nullptr);
  }
  if ((p.sa_flags & SA_SIGINFO) && p.sa_sigaction) {
    p.sa_sigaction(sig, si, uc);
    return;
  }
  if (!(p.sa_flags & SA_SIGINFO) && p.sa_handler != SIG_DFL && p.sa_handler != SIG_IGN) {
    p.sa_handler(sig);
    return;
  }
  const bool sent = si->si_code <= 0;  // kill(2), tgkill(2), sigqueue(3): nothing to re-execute
  if (sent && p.sa_handler == SIG_IGN) return;
  SigsafeBuf<300> m;
  m.str("threadlab: fault: ").str(sig == SIGBUS ? "SIGBUS" : "SIGSEGV").str(" at ").hex(reinterpret_cast<uintptr_t>(si->si_addr));
  m.str(" is not the runtime's (tid ").dec(os::kernel_tid());
  if (self) m.str(", thread ").dec(static_cast<int64_t>(self->id));
  else m.str(", no record");
  m.str("); default action\n");
  os::write_all(2, m.c_str(), m.size());
  // The disposition before the runtime's, then the fault again: the kernel
  // ends the process as it would have without the runtime (an ignored
  // synchronous fault cannot be ignored: the kernel kills for it too).
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, nullptr);
  if (sent) raise(sig);
}

void on_fault(int sig, siginfo_t* si, void* uc) {
  const int saved_errno = errno;
  Record* self = current_record();  // the faulting thread's own: it is the one running
  if (si->si_code <= 0) {
    chain(sig, si, uc, self);
    errno = saved_errno;
    return;
  }
  const auto addr = reinterpret_cast<uintptr_t>(si->si_addr);
  const int64_t tid = os::kernel_tid();
  Decision d;
  if (os::failed_signal_delivery(si)) {
    d = classify_failed_delivery(self, os::context_sp(uc));
  } else if (!forward_ask(tid, addr, &d)) {
    d = classify(self, addr);
    if (d.kind == FaultKind::Overflow) prepare(&d);
  }
  switch (d.kind) {
    case FaultKind::Barrier:
      if (!gc::barrier_on_fault(addr)) crash("write-barrier page could not be unprotected", sig, addr, self, nullptr);
      break;
    case FaultKind::Overflow: {
      CatchFrame* f = self ? catch_frame_for_unwind(self) : nullptr;
      if (!f) crash(d.stack == Recovering::Control ? "control stack overflow with no catch frame at this callback depth"
                                                   : "stack overflow with no catch frame at this callback depth",
                    sig, addr, self, d.owner);
      fault_counters().overflows_recovered.fetch_add(1, std::memory_order_relaxed);
      // A stop's signal dropped for want of room, or its handler (no
      // SA_ONSTACK) abandoned by this unwind: the landing asks again.
      self->fault.redeliver_suspend = d.stack == Recovering::Control;
      unwind_to(self, f, TL_EOVERFLOW, uc);
    }
    case FaultKind::OverflowInRecovery:
      crash(d.stack == Recovering::Control ? "control stack overflow while recovering from an overflow"
                                           : "stack overflow into the red zone while recovering from an overflow",
            sig, addr, self, d.owner);
    case FaultKind::Scribble: {
      // As the decider saw it: writer is who it classified for (on the
      // handler thread, the record it found for this thread).
      const char* what = d.owner == d.writer ? "ran through its open yellow zone into the red zone"
                         : d.stack == Recovering::Value ? "hit the value-stack guard zone"
                         : d.stack == Recovering::Temp  ? "hit the temp-stack guard zone"
                                                        : "hit the control-stack guard page";
      note_scribble(d.writer ? d.writer->id : 0, tid, d.owner, addr, what);
      CatchFrame* f = self ? catch_frame_for_unwind(self) : nullptr;
      if (!f) crash(what, sig, addr, self, d.owner);
      unwind_to(self, f, TL_ESCRIBBLE, uc);
    }
    case FaultKind::Chain:
      chain(sig, si, uc, self);
      break;
  }
  errno = saved_errno;
}

__attribute__((noinline)) void bind_siglongjmp() {
  sigjmp_buf env;
  if (sigsetjmp(env, 0) == 0) siglongjmp(env, 1);
}

// Bind every C library function the handler reaches, now, outside any
// handler (see the invariants; suspend_signal_posix.cpp does the same).
void bind_calls() {
  const int saved_errno = errno;
  errno = saved_errno;
  uint32_t nobody = 0;
  os::futex_wake(&nobody, 1);
  os::futex_wait(&nobody, 1);
  (void)os::kernel_tid();
  (void)os::min_signal_stack();  // getauxval
  os::write_all(2, "", 0);
  struct sigaction q;
  sigaction(SIGSEGV, nullptr, &q);
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_BLOCK, &none, nullptr);
  void* page = os::map(os::page_size(), os::Prot::ReadWrite);  // mprotect
  if (page) {
    os::protect(page, os::page_size(), os::Prot::Read);
    os::unmap(page, os::page_size());
  }
  bind_siglongjmp();
  raise(0);  // signal 0: nothing is sent
}

}  // namespace

int install() {
  bind_calls();
  struct sigaction sa = {};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | (altstacks_enabled() ? SA_ONSTACK : 0);
  sigfillset(&sa.sa_mask);
  for (int sig : {SIGILL, SIGFPE, SIGTRAP, SIGABRT}) sigdelset(&sa.sa_mask, sig);
  for (int i = 0; i < 2; ++i) {
    if (sigaction(kSignals[i], &sa, &g_prev[i]) != 0) {
      const int e = errno;
      if (i == 1) sigaction(kSignals[0], &g_prev[0], nullptr);
      return fail(TL_ENOTSUP, "tl_init: sigaction(%s) failed: %s", i ? "SIGBUS" : "SIGSEGV", strerror(e));
    }
  }
  g_installed.store(true, std::memory_order_release);
  return TL_OK;
}

void restore_handlers() {
  if (!g_installed.exchange(false)) return;
  for (int i = 0; i < 2; ++i) sigaction(kSignals[i], &g_prev[i], nullptr);
}

}  // namespace tl::fault

using namespace tl;

extern "C" int tl_set_fault_mode(int mode) {
  TL_REQUIRE_INIT();
  if (mode == TL_FAULT_DIRECT) {
    fault::forward_stop();
    return TL_OK;
  }
  if (mode == TL_FAULT_FORWARDED) return fault::forward_start();
  return fail(TL_EINVAL, "tl_set_fault_mode: unknown mode %d", mode);
}

extern "C" int tl_fault_restore_handlers(void) {
  TL_REQUIRE_INIT();
  fault::restore_handlers();
  return TL_OK;
}
