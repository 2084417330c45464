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

#include <string>
#include <vector>

#include "probes/tasks.h"

namespace threadlab {

void thread_dump_install();
std::vector<ThreadSnapshot> dump_all_threads(int wait_ms, std::string* note);
// Demangled "name+0xoff (0xip)" lines for frames after the signal frame.
struct Frames;
std::vector<std::string> format_frames(const Frames& f, bool skip_to_signal_frame);

}  // namespace threadlab
