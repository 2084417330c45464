// tasks_linux.h — the /proc/PID/task parsing behind outside_view(), also used
// by the child's own hang dump (thread_dump_linux.cpp), so it exists once.
//
// Invariants:
//   - Paths are /proc/PID/task[/TID]; nothing here signals or stops a thread.
//   - read_task() returns false for a task that has exited since the listing.
#pragma once

#include <string>
#include <vector>

#include "probes/tasks.h"

namespace threadlab {

// "/proc/PID/task".
std::string task_list_dir(long pid);
// The thread ids in a /proc/PID/task directory, ascending; false if it
// cannot be listed (errno is left set).
bool list_tasks(const std::string& tasks, std::vector<long>* tids);
// A task's name, kernel state (R, S, D, ...) and what it waits in
// ("futex(0x7f..) in futex_wait_queue"); false if it has exited.
bool read_task(const std::string& task_dir, ThreadSnapshot* t);
// The kernel's stack of a task as "[kernel] ..." lines, readable only with
// privileges (nothing is appended otherwise).
void append_kernel_stack(const std::string& task_dir, std::vector<std::string>* out);

}  // namespace threadlab
