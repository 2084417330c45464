// scenario_os.h — the few OS calls scenarios make outside the adapter,
// behind one interface (scenario_os_linux.cpp, scenario_os_darwin.cpp).
#pragma once
#include <cstdint>
#include <string>
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

// What the address space allows over [lo, hi): every page readable and
// writable, every page inaccessible, a mixture (or pages not mapped at
// all), or not known on this system. Not signal-safe (reads the maps).
enum class Access { ReadWrite, None, Mixed, Unknown };
Access region_access(uintptr_t lo, uintptr_t hi);
inline const char* access_name(Access a) {
  switch (a) {
    case Access::ReadWrite: return "read-write";
    case Access::None: return "inaccessible";
    case Access::Mixed: return "partly inaccessible or unmapped";
    case Access::Unknown: return "unknown";
  }
  return "?";
}
// The calling thread's stack as the C library reports it: [*lo, *hi).
bool own_stack_bounds(uintptr_t* lo, uintptr_t* hi);
// Every thread of process pid, one line each: tid, name, scheduler state,
// the kernel function it sleeps in and its system call (for a child that
// hangs: fork_common.h). Empty where the system does not show them.
std::string describe_threads(int pid);
}  // namespace threadlab::scn
