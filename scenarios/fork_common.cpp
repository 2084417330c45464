// fork_common.cpp — see fork_common.h.
#include "fork_common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include "scenario_os.h"

namespace threadlab::scn {
namespace {

uint64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

[[noreturn]] void leave(int fd, int status, const std::string& why) {
  if (!why.empty()) {
    const ssize_t n = write(fd, why.data(), why.size());
    (void)n;
  }
  _exit(status);
}

}  // namespace

bool fork_child_checked(Context& ctx, const char* what, const std::function<int(std::string& why)>& body,
                        unsigned timeout_ms) {
  const tl_adapter* rt = ctx.rt;
  int fds[2];
  if (pipe(fds) != 0 || fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0 || fcntl(fds[1], F_SETFD, FD_CLOEXEC) != 0) {
    ctx.finding(Verdict::Fail, fmt::format("{}: pipe: {}", what, strerror(errno)));
    return false;
  }
  if (!ctx.ok(rt->fork_prepare(), "fork_prepare")) {
    close(fds[0]);
    close(fds[1]);
    return false;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string why;
    if (rt->fork_child() != TL_ADAPTER_OK) leave(fds[1], 3, std::string("fork_child: ") + rt->last_error());
    const int status = body(why);
    leave(fds[1], status, why);
  }
  const int fork_errno = errno;
  const int parent_rc = rt->fork_parent();
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    ctx.finding(Verdict::Fail, fmt::format("{}: fork: {}", what, strerror(fork_errno)));
    return false;
  }
  std::string why;
  int status = 0;
  bool exited = false;
  const uint64_t deadline = now_ms() + timeout_ms;
  while (!exited) {
    const pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid) {
      exited = true;
      break;
    }
    const uint64_t t = now_ms();
    if (t >= deadline) break;
    // Wait on the pipe: the child's line, its exit (EOF), or 10 ms.
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(std::min<uint64_t>(deadline - t, 10))) > 0) {
      char buf[256];
      const ssize_t n = read(fds[0], buf, sizeof buf);
      if (n > 0) why.append(buf, static_cast<size_t>(n));
    }
  }
  if (!exited) {
    const std::string dump = describe_threads(pid);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    close(fds[0]);
    ctx.finding(Verdict::Deadlock, fmt::format("{}: the fork child (pid {}) still ran after {} ms and was killed; its "
                                               "threads:\n{}",
                                               what, pid, timeout_ms, dump.empty() ? "  (not shown here)\n" : dump));
    return false;
  }
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) why.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  if (!ctx.ok(parent_rc, "fork_parent")) return false;
  if (WIFSIGNALED(status)) {
    ctx.finding(Verdict::Crash, fmt::format("{}: the fork child (pid {}) was ended by signal {} ({}){}{}", what, pid,
                                            WTERMSIG(status), strsignal(WTERMSIG(status)), why.empty() ? "" : ": ", why));
    return false;
  }
  if (WEXITSTATUS(status) != 0) {
    ctx.finding(Verdict::Invariant, fmt::format("{}: the fork child (pid {}) exited {}: {}", what, pid,
                                                WEXITSTATUS(status), why.empty() ? "(no reason given)" : why));
    return false;
  }
  return true;
}

}  // namespace threadlab::scn
