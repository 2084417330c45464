// fatal.cpp — the fatal-error path (see fatal.h for its invariants).
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "fatal.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

#include "current.h"
#include "inject.h"
#include "os.h"
#include "sigsafe_buf.h"
#include "threadlab/runtime.h"

namespace tl {
namespace {
std::atomic<int64_t> g_owner{0};  // kernel tid of the thread reporting
}

[[noreturn]] void fatal_error(const char* message) {
  if (TL_INJECT(fatal_path_needs_record)) {
    // DEFECT fatal_path_needs_record: look the record up first and treat its
    // absence as another fatal error, before any re-entry guard. Without a
    // record this recurses until the stack overflows (seed 000).
    if (current_record() == nullptr) fatal_error("no record for the current thread");
  }
  const int64_t me = os::kernel_tid();
  int64_t expected = 0;
  if (!g_owner.compare_exchange_strong(expected, me)) {
    if (expected == me) {
      static const char kRecursive[] = "threadlab: fatal error while reporting a fatal error\n";
      os::write_all(2, kRecursive, sizeof kRecursive - 1);
      _exit(134);
    }
    // Another thread is reporting; it will end the process.
    for (;;) pause();
  }
  SigsafeBuf<512> m;
  m.str("threadlab: fatal: ").str(message).str(" [tid ").dec(me).str("]\n");
  os::write_all(2, m.c_str(), m.size());
  // Default action for SIGABRT, unblocked, so abort() cannot be caught and
  // turned into another trip through here.
  struct sigaction sa = {};
  sa.sa_handler = SIG_DFL;
  sigaction(SIGABRT, &sa, nullptr);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGABRT);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  raise(SIGABRT);
  _exit(134);
}

}  // namespace tl

extern "C" void tl_fatal(const char* message) { tl::fatal_error(message ? message : "(null)"); }
