// thread_dump.h — a snapshot of every thread of this process, for hang
// dumps: kernel state, what the kernel says it waits in, and a native
// backtrace captured by the thread itself in a signal handler.
//
// Invariants:
//   - thread_dump_install() runs once, early, before the threads to dump
//     exist; dump_all_threads() runs on an ordinary thread (the watchdog),
//     never in a handler, and may allocate.
//   - The dump handler allocates nothing and takes no lock (see
//     backtrace_capture.h); it writes only into a preassigned static slot.
//   - A thread that does not answer within the wait (signals blocked, or
//     stopped) is reported as such, with what /proc still knows about it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace threadlab {

struct ThreadSnapshot {
  int64_t tid = 0;
  std::string name;          // kernel comm
  std::string kernel_state;  // R, S, D, T, ...
  std::string waiting_on;    // syscall and first argument, wchan
  bool answered = false;     // backtrace captured
  std::vector<std::string> backtrace;
};

void thread_dump_install();
std::vector<ThreadSnapshot> dump_all_threads(int wait_ms, std::string* note);
// Every thread of another process as the kernel shows it from outside:
// state, what it waits in, the kernel stack where readable; no native
// backtraces (answered = false). For the runner, when a child's own dump
// never comes (its watchdog blocked on a lock a stopped thread holds, such
// as malloc's). Empty, with a note, where the OS offers no such view.
std::vector<ThreadSnapshot> outside_view(long pid, std::string* note);
// Demangled "name+0xoff (0xip)" lines for frames after the signal frame.
struct Frames;
std::vector<std::string> format_frames(const Frames& f, bool skip_to_signal_frame);

}  // namespace threadlab
