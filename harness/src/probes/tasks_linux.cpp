// tasks_linux.cpp — /proc/PID/task parsing (see tasks_linux.h).
//
// Invariants:
//   - Each file is read once, first line only; a missing file reads as "".
//   - CPU times are read from stat fields 14 and 15 (utime, stime) in clock
//     ticks; a task whose stat cannot be parsed is left out, never zero.
//   - Syscall numbers are named for the waits that matter in hang dumps;
//     others are printed as numbers, never guessed.
#include <dirent.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "probes/tasks_linux.h"

namespace threadlab {
namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  return line;
}

std::string syscall_name(long nr) {
  struct { long nr; const char* name; } const known[] = {
      {SYS_futex, "futex"}, {SYS_read, "read"}, {SYS_write, "write"}, {SYS_nanosleep, "nanosleep"},
      {SYS_clock_nanosleep, "clock_nanosleep"}, {SYS_ppoll, "ppoll"}, {SYS_pselect6, "pselect6"},
      {SYS_epoll_pwait, "epoll_pwait"}, {SYS_wait4, "wait4"}, {SYS_waitid, "waitid"},
      {SYS_rt_sigtimedwait, "rt_sigtimedwait"}, {SYS_rt_sigsuspend, "rt_sigsuspend"},
      {SYS_accept4, "accept4"}, {SYS_recvfrom, "recvfrom"}, {SYS_sched_yield, "sched_yield"},
  };
  for (auto& k : known)
    if (k.nr == nr) return k.name;
  return fmt::format("syscall {}", nr);
}

std::string describe_wait(const std::string& task_dir) {
  std::string out;
  std::istringstream sc(read_first_line(task_dir + "/syscall"));
  std::string first;
  sc >> first;
  if (first == "running") {
    out = "running";
  } else if (!first.empty() && first != "-1") {
    std::string arg0;
    sc >> arg0;
    out = fmt::format("{}({})", syscall_name(std::atol(first.c_str())), arg0);
  }
  std::string wchan = read_first_line(task_dir + "/wchan");
  if (!wchan.empty() && wchan != "0") out = out.empty() ? fmt::format("in {}", wchan) : fmt::format("{} in {}", out, wchan);
  return out;
}

}  // namespace

std::string task_list_dir(long pid) { return fmt::format("/proc/{}/task", pid); }

bool list_tasks(const std::string& tasks, std::vector<long>* tids) {
  DIR* d = opendir(tasks.c_str());
  if (!d) return false;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') tids->push_back(std::atol(e->d_name));
  closedir(d);
  std::sort(tids->begin(), tids->end());
  return true;
}

bool read_task(const std::string& task_dir, ThreadSnapshot* t) {
  t->name = read_first_line(task_dir + "/comm");
  const std::string stat = read_first_line(task_dir + "/stat");
  if (stat.empty()) return false;
  auto rp = stat.rfind(')');
  if (rp != std::string::npos && rp + 2 < stat.size()) t->kernel_state = stat.substr(rp + 2, 1);
  t->waiting_on = describe_wait(task_dir);
  return true;
}

void append_kernel_stack(const std::string& task_dir, std::vector<std::string>* out) {
  std::ifstream ks(task_dir + "/stack");
  for (std::string line; std::getline(ks, line);) out->push_back(fmt::format("[kernel] {}", line));
}

std::vector<TaskCpu> task_cpu(long pid, std::string* note) {
  std::vector<TaskCpu> out;
  const std::string tasks = task_list_dir(pid);
  std::vector<long> tids;
  if (!list_tasks(tasks, &tids)) {
    *note = fmt::format("cannot list {}: {}", tasks, strerror(errno));
    return out;
  }
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (long tid : tids) {
    // Fields after "(comm) ": state ppid pgrp session tty tpgid flags
    // minflt cminflt majflt cmajflt utime stime (proc(5) fields 3..15).
    const std::string stat = read_first_line(fmt::format("{}/{}/stat", tasks, tid));
    auto rp = stat.rfind(')');
    if (rp == std::string::npos) continue;  // exited since the listing
    std::istringstream fields(stat.substr(rp + 1));
    std::string f;
    unsigned long long utime = 0, stime = 0;
    for (int i = 0; i < 11 && fields >> f; ++i) {
    }
    if (!(fields >> utime >> stime)) continue;
    out.push_back({tid, static_cast<double>(utime + stime) / ticks});
  }
  return out;
}

std::vector<ThreadSnapshot> outside_view(long pid, std::string* note) {
  std::vector<ThreadSnapshot> out;
  const std::string tasks = task_list_dir(pid);
  std::vector<long> tids;
  if (!list_tasks(tasks, &tids)) {
    *note = fmt::format("cannot list {}: {}", tasks, strerror(errno));
    return out;
  }
  for (long tid : tids) {
    ThreadSnapshot t;
    t.tid = tid;
    const std::string dir = fmt::format("{}/{}", tasks, tid);
    if (!read_task(dir, &t)) continue;
    append_kernel_stack(dir, &t.backtrace);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace threadlab
