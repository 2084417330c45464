// kernel_handles.h — what the OS shows of the runtime's per-thread kernel
// handles (thread_handles_test only), so the test checks the runtime's
// ledger against the kernel, not against itself.
//   Linux: POSIX timers in /proc/self/timers.
//   Apple: receive rights in the task (mach_port_names), and the calling
//          thread's EXC_BAD_ACCESS exception port.
#pragma once

namespace tltest {

// How many handle objects of the runtime's kind the process holds now
// (Linux: POSIX timers; Apple: receive rights). -1 when it cannot be read.
long os_handle_count();
// The calling thread has its own handle as the OS sees it (Linux: a timer
// that notifies this thread; Apple: an exception port for EXC_BAD_ACCESS
// that is a receive right of this task with the runtime's behaviour).
bool os_thread_has_handle();

// Apple: give the calling thread an exception port of the test's own for
// EXC_BAD_ACCESS (as a foreign library might), check it is the one
// installed, and take it away again. Linux: false (no such thing).
bool install_own_exception_port();
bool own_exception_port_installed();
void remove_own_exception_port();

}  // namespace tltest
