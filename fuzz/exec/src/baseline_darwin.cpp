// baseline_darwin.cpp — the process's threads and open fds, from Mach and
// libproc: task_threads for the thread count, proc_pidinfo(PROC_PIDLISTFDS)
// for the fd set.
//
// Invariants:
//   - Every port right task_threads hands out is given back, and the thread
//     array deallocated, before take_baseline() returns.
//   - baseline_diff() names each extra or missing fd.
#include <libproc.h>
#include <mach/mach.h>
#include <sys/proc_info.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "exec.h"

namespace threadlab::fuzz::detail {

Baseline take_baseline() {
  Baseline b;
  thread_act_array_t threads = nullptr;
  mach_msg_type_number_t count = 0;
  if (task_threads(mach_task_self(), &threads, &count) == KERN_SUCCESS) {
    b.threads = count;
    for (mach_msg_type_number_t i = 0; i < count; ++i) mach_port_deallocate(mach_task_self(), threads[i]);
    vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(threads), sizeof(thread_t) * count);
  }
  const int bytes = proc_pidinfo(getpid(), PROC_PIDLISTFDS, 0, nullptr, 0);
  if (bytes > 0) {
    std::vector<proc_fdinfo> fds(static_cast<size_t>(bytes) / sizeof(proc_fdinfo) + 16);
    const int got = proc_pidinfo(getpid(), PROC_PIDLISTFDS, 0, fds.data(),
                                 static_cast<int>(fds.size() * sizeof(proc_fdinfo)));
    for (int i = 0; got > 0 && i < got / static_cast<int>(sizeof(proc_fdinfo)); ++i)
      b.fds.push_back(fds[static_cast<size_t>(i)].proc_fd);
  }
  std::sort(b.fds.begin(), b.fds.end());
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
    if (!std::binary_search(base.fds.begin(), base.fds.end(), fd)) add("fd " + std::to_string(fd) + " left open");
  for (int fd : base.fds)
    if (!std::binary_search(now.fds.begin(), now.fds.end(), fd))
      add("fd " + std::to_string(fd) + " of the baseline closed");
  return out;
}

}  // namespace threadlab::fuzz::detail
