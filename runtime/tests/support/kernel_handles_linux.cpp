// kernel_handles_linux.cpp — kernel_handles.h from /proc/self/timers.
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "kernel_handles.h"

namespace tltest {

long os_handle_count() {
  std::ifstream f("/proc/self/timers");
  if (!f) return -1;
  long n = 0;
  for (std::string line; std::getline(f, line);)
    if (line.rfind("ID:", 0) == 0) ++n;
  return n;
}

bool os_thread_has_handle() {
  // "notify: thread/tid.N" or "notify: signal/tid.N" depending on the kernel.
  const std::string mine = "tid." + std::to_string(static_cast<long>(syscall(SYS_gettid)));
  std::ifstream f("/proc/self/timers");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("notify:", 0) == 0 && line.size() >= mine.size() &&
        line.compare(line.size() - mine.size(), mine.size(), mine) == 0)
      return true;
  return false;
}

bool install_own_exception_port() { return false; }
bool own_exception_port_installed() { return false; }
void remove_own_exception_port() {}

}  // namespace tltest
