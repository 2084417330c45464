// baseline_linux.cpp — the process's threads and open fds, from /proc.
//
// Invariants:
//   - take_baseline() counts /proc/self/task entries and lists
//     /proc/self/fd, leaving out the fd it reads the directory through.
//   - baseline_diff() names each extra or missing fd with what it points to,
//     so an "invariant" finding says what a program's teardown left open.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "exec.h"

namespace threadlab::fuzz::detail {

namespace {
std::vector<int> list_dir_numbers(const char* path) {
  std::vector<int> out;
  DIR* d = opendir(path);
  if (!d) return out;
  const int self = dirfd(d);
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const int n = std::atoi(e->d_name);
    if (n != self) out.push_back(n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string fd_target(int fd) {
  char link[64], buf[256];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, buf, sizeof buf - 1);
  if (n <= 0) return "?";
  buf[n] = 0;
  return buf;
}
}  // namespace

Baseline take_baseline() {
  Baseline b;
  b.threads = static_cast<unsigned>(list_dir_numbers("/proc/self/task").size());
  b.fds = list_dir_numbers("/proc/self/fd");
  return b;
}

std::string baseline_diff(const Baseline& base, const Baseline& now) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : "; ") + s; };
  // More threads than the baseline is what a program left behind; fewer is
  // no leak: one still listed when the baseline was taken (a joined thread
  // the kernel had not reaped yet, a sanitizer's or emulator's helper) has
  // gone since (seen under qemu-user: 2 where the baseline had 3).
  if (now.threads > base.threads)
    add(std::to_string(now.threads) + " threads where the baseline had " + std::to_string(base.threads));
  for (int fd : now.fds)
    if (!std::binary_search(base.fds.begin(), base.fds.end(), fd))
      add("fd " + std::to_string(fd) + " (" + fd_target(fd) + ") left open");
  for (int fd : base.fds)
    if (!std::binary_search(now.fds.begin(), now.fds.end(), fd))
      add("fd " + std::to_string(fd) + " of the baseline closed");
  return out;
}

}  // namespace threadlab::fuzz::detail
