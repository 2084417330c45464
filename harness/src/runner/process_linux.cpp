// process_linux.cpp — process-group membership and this executable's path,
// from /proc (Linux).
// Invariant: reads only; a process that vanishes mid-scan is skipped.
#include <sys/syscall.h>
#include <unistd.h>
#include <dirent.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <string>

#include "runner/process.h"

namespace threadlab {

std::string self_exe() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("threadlab");
}

int count_group_members(pid_t pgid, pid_t except) {
  int n = 0;
  DIR* d = opendir("/proc");
  if (!d) return 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid == except) continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
    std::string stat;
    std::getline(f, stat);
    auto rp = stat.rfind(')');
    if (rp == std::string::npos) continue;
    // After ") ": state ppid pgrp
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (std::sscanf(stat.c_str() + rp + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3 && pgrp == pgid &&
        state != 'Z')
      ++n;
  }
  closedir(d);
  return n;
}

int64_t current_kernel_tid() { return static_cast<int64_t>(syscall(SYS_gettid)); }

}  // namespace threadlab
