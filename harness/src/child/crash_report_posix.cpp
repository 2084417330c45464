// crash_report_posix.cpp — in the scenario child: on a fatal signal, write
// the crashing thread's backtrace to the result channel, then die by the
// same signal so the runner sees the real cause.
//
// Line protocol (parsed by the runner, runner/run_record.cpp):
//   "crash signal=N tid=T addr=0xA\n" for a fault the kernel raised
//   (si_code > 0), "crash signal=N tid=T sent_by_pid=P\n" for a signal that
//   was sent (si_code <= 0: SI_USER, SI_TKILL, SI_QUEUE; si_addr then
//   overlays the sender's pid, so no address is printed), then
//   "frame 0xIP NAME+0xOFF\n" per frame after the signal frame, then
//   "crash end\n".
//
// Invariants:
//   - The handler formats into a static buffer and write()s it. It captures
//     the backtrace without allocating (backtrace_capture.h), then names
//     the frames in the handler: the process is ending and has no other
//     context to do it in. Naming can allocate inside libunwind, so a crash
//     inside malloc may hang here; the header line is written first, and
//     the runner's timeout ends such a child (known limit: a symbolizer
//     outside the dying process would lift it).
//   - Only the first crashing thread reports (an atomic flag); the others go
//     straight to the default action.
//   - The handler runs on an alternate stack (SA_ONSTACK) on every thread
//     (altstack.h), so a stack overflow is reported too.
//   - Handlers are installed before the adapter initialises its runtime, so
//     a runtime that installs its own fault handler and chains to the
//     previous one reaches this one last.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "runner/process.h"
#include "child/backtrace_capture.h"
#include "child/altstack.h"
#include "child/crash_report.h"

namespace threadlab {
namespace {

int g_fd = -1;
std::atomic<bool> g_reported{false};
Frames g_frames;
char g_line[256];

void put(size_t n) {
  size_t off = 0;
  while (off < n) {
    ssize_t w = write(g_fd, g_line + off, n - off);
    if (w <= 0 && errno != EINTR) return;
    if (w > 0) off += static_cast<size_t>(w);
  }
}

void on_crash(int sig, siginfo_t* info, void*) {
  // Signal handler: no allocation, no locks (see file comment).
  if (!g_reported.exchange(true)) {
    constexpr size_t cap = sizeof g_line;
    size_t n = sig_append(g_line, 0, cap, "crash signal=");
    n = sig_append_dec(g_line, n, cap, sig);
    n = sig_append(g_line, n, cap, " tid=");
    n = sig_append_dec(g_line, n, cap, current_kernel_tid());
    if (info && info->si_code > 0) {  // a fault the kernel raised: si_addr is the faulting address
      n = sig_append(g_line, n, cap, " addr=");
      n = sig_append_hex(g_line, n, cap, reinterpret_cast<uintptr_t>(info->si_addr));
    } else if (info) {  // sent (kill, tgkill, sigqueue, raise, abort): si_addr holds the sender, not an address
      n = sig_append(g_line, n, cap, " sent_by_pid=");
      n = sig_append_dec(g_line, n, cap, info->si_pid);
    }
    n = sig_append(g_line, n, cap, "\n");
    put(n);
    capture_frames(&g_frames);
    name_frames(&g_frames);  // the one non-signal-safe step (file comment)
    int start = g_frames.signal_frame >= 0 ? g_frames.signal_frame + 1 : 0;
    for (int i = start; i < g_frames.n; ++i) {
      n = sig_append(g_line, 0, cap, "frame ");
      n = sig_append_hex(g_line, n, cap, g_frames.ip[i]);
      n = sig_append(g_line, n, cap, " ");
      n = sig_append(g_line, n, cap, g_frames.name[i][0] ? g_frames.name[i] : "??");
      n = sig_append(g_line, n, cap, "+");
      n = sig_append_hex(g_line, n, cap, g_frames.off[i]);
      n = sig_append(g_line, n, cap, "\n");
      put(n);
    }
    put(sig_append(g_line, 0, cap, "crash end\n"));
  }
  // SA_RESETHAND restored the default action: a faulting instruction faults
  // again on return; a sent signal (abort, kill) is raised again here.
  if (sig == SIGABRT || (info && info->si_code <= 0)) raise(sig);
}

}  // namespace

void crash_report_install(int fd) {
  g_fd = fd;
  ensure_altstack();  // this (main) thread; other threads get theirs where they start (altstack.h)
  struct sigaction sa {};
  sa.sa_sigaction = on_crash;
  sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) sigaction(sig, &sa, nullptr);
}

}  // namespace threadlab
