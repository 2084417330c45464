// process_darwin.cpp — process-group membership via libproc, and this
// executable's path via _NSGetExecutablePath, resolved (Apple).
// Invariant: reads only; a process that vanishes mid-scan is skipped.
#include <pthread.h>
#include <libproc.h>
#include <mach-o/dyld.h>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <vector>

#include "runner/process.h"

namespace threadlab {

std::string self_exe() {
  uint32_t size = 0;
  _NSGetExecutablePath(nullptr, &size);  // asks for the size
  std::vector<char> buf(size + 1);
  char resolved[PATH_MAX];
  if (_NSGetExecutablePath(buf.data(), &size) != 0 || !realpath(buf.data(), resolved)) return "threadlab";
  return resolved;
}

int count_group_members(pid_t pgid, pid_t except) {
  int bytes = proc_listpids(PROC_PGRP_ONLY, static_cast<uint32_t>(pgid), nullptr, 0);
  if (bytes <= 0) return 0;
  std::vector<pid_t> pids(static_cast<size_t>(bytes) / sizeof(pid_t) + 16);
  bytes = proc_listpids(PROC_PGRP_ONLY, static_cast<uint32_t>(pgid), pids.data(),
                        static_cast<int>(pids.size() * sizeof(pid_t)));
  int n = 0;
  for (int i = 0; i < bytes / static_cast<int>(sizeof(pid_t)); ++i)
    if (pids[i] > 0 && pids[i] != except) ++n;
  return n;
}

int64_t current_kernel_tid() {
  uint64_t id = 0;
  pthread_threadid_np(nullptr, &id);
  return static_cast<int64_t>(id);
}

}  // namespace threadlab
