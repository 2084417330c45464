// tasks_darwin.cpp — no outside view of another process's threads on Apple.
//
// Invariant: says so in the note rather than pretending: another task's
// threads need its task port (task_for_pid), which an unprivileged, unsigned
// runner does not get.
#include "probes/tasks.h"

namespace threadlab {

std::vector<ThreadSnapshot> outside_view(long, std::string* note) {
  *note = "no view of another process's threads on this platform";
  return {};
}

std::vector<TaskCpu> task_cpu(long, std::string* note) {
  *note = "no view of another process's CPU time per thread on this platform";
  return {};
}

}  // namespace threadlab
