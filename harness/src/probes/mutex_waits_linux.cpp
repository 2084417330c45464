// mutex_waits_linux.cpp — see mutex_waits.h.
#include "probes/mutex_waits.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace threadlab {

std::vector<MutexWait> pthread_mutex_waits(long pid, std::string* note) {
  std::vector<MutexWait> out;
  std::set<int64_t> tids;
  const std::string task = fmt::format("/proc/{}/task", pid);
  if (DIR* d = opendir(task.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') tids.insert(std::atoll(e->d_name));
    closedir(d);
  }
  const int mem = open(fmt::format("/proc/{}/mem", pid).c_str(), O_RDONLY | O_CLOEXEC);
  if (mem < 0) {
    if (note) *note = "cannot read the program's memory (/proc/PID/mem): no pthread mutex owners";
    return out;
  }
  for (int64_t tid : tids) {
    std::ifstream f(fmt::format("{}/{}/syscall", task, tid));
    long nr = -1;
    std::string addr;
    if (!(f >> nr >> addr) || nr != SYS_futex) continue;
    const uintptr_t a = std::strtoull(addr.c_str(), nullptr, 16);
    int32_t words[3] = {0, 0, 0};  // __lock, __count, __owner
    if (a == 0 || pread(mem, words, sizeof words, static_cast<off_t>(a)) != static_cast<ssize_t>(sizeof words)) continue;
    const int64_t owner = words[2];
    if (words[0] == 0 || owner <= 0 || owner == tid || !tids.count(owner)) continue;
    out.push_back({tid, owner, a});
  }
  close(mem);
  return out;
}

}  // namespace threadlab
