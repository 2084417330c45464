// scenario_os.h — the few OS calls scenarios make outside the adapter,
// behind one interface (scenario_os_linux.cpp, scenario_os_darwin.cpp).
#pragma once
namespace threadlab::scn {
// Open a per-thread kernel handle the way runtimes do (eventfd on Linux, a
// kqueue elsewhere) and return its fd; the caller decides whether to close.
int open_thread_handle();
// Make every thread of this process share one malloc lock (glibc: a single
// arena), so a thread stopped inside malloc blocks any other thread's
// malloc or free — the hazard a stopper that allocates runs into. Where the
// allocator has no such setting, nothing changes.
void share_one_malloc_lock();
// The calling thread's kernel id (Linux tid), or 0 where a thread cannot be
// signalled by it from another process.
long current_tid();
// Send sig to thread `tid` of process `pid` (tgkill); async-signal-safe, for
// a forked child. Does nothing where current_tid() is 0.
void send_to_tid(int pid, long tid, int sig);
// True where the C library keeps a thread's start argument inside the stack
// range it reports for the thread (glibc: in the thread descriptor at the
// top of the stack mapping), so a collector that scans a thread's whole
// stack sees it.
bool start_argument_on_stack();
}  // namespace threadlab::scn
