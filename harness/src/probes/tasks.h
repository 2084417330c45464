// tasks.h — the threads of a process as the kernel shows them from outside:
// id, name, run state, what each waits in. Shared by the hang dumps of the
// child (its own threads), of the runner (a child whose own dump never came)
// and of `exec` (any program, before gdb stops it).
//
// Invariants:
//   - Read-only and allocation-using: never call from a signal handler.
//   - A thread that exits while being read is left out, never half-filled.
//   - Where the OS offers no outside view, the result is empty and the note
//     says so; nothing is guessed.
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
  bool answered = false;     // backtrace captured by the thread itself
  std::vector<std::string> backtrace;
};

// Every thread of process `pid` from outside: state, what it waits in, the
// kernel stack where readable (privileged); no native backtraces
// (answered = false). Platform file (tasks_linux.cpp, tasks_darwin.cpp).
std::vector<ThreadSnapshot> outside_view(long pid, std::string* note);

// CPU time (user + system, seconds) each thread of `pid` has used so far;
// empty, with the note set, where the OS offers no outside view.
struct TaskCpu {
  int64_t tid = 0;
  double cpu_s = 0;
};
std::vector<TaskCpu> task_cpu(long pid, std::string* note);

}  // namespace threadlab
