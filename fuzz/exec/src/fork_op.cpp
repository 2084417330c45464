// fork_op.cpp — `fork { body }`: the body runs in a child process, on the
// forking thread, through the adapter's fork hooks (TL_CAP_FORK).
//
// Invariants:
//   - fork_prepare before fork(), fork_parent in the parent, fork_child in
//     the child; a refused fork_prepare is an error (nothing forked).
//   - The child runs the body as a program of its own (a fresh interpreter
//     with its own watchdog, no baseline: the child's process is not the
//     parent's). Locks and mailboxes the body names are made afresh in the
//     child: program.h has the child see the parent's, which this does not
//     do yet (a lock a vanished parent thread held needs the runtime's
//     fork semantics for adapter locks settled first). It leaves with _exit: 0 clean, kChildFinding + the index of
//     its first finding's verdict, kChildSetup when fork_child failed. It
//     prints its findings to stderr first.
//   - Under ASan or TSan (clang 14's runtimes) the child runs fork_child and
//     leaves at once: the body is not run, and its ops count as skipped
//     ("fork body (sanitizer build)"). Those runtimes take none of their own
//     locks across fork(), and the body's fresh interpreter allocates and
//     starts a watchdog thread, so a child of a multi-threaded fork could
//     wait for good on a sanitizer lock a vanished thread held: `fork child
//     hung` on fuzz/corpus/fail-nth.txt (pthread adapter) in the asan gate,
//     and on a libFuzzer+ASan input in ci/cflite-check. The scenarios'
//     fork children follow the same rule (scenarios/fork_busy.cpp).
//   - The parent waits up to 2 x op_timeout_ms + 1 s (the child's watchdog
//     fires first if the body hangs); a child still running then is killed
//     (SIGKILL) and reaped: finding "deadlock", "fork child hung". A child
//     ended by a signal is a "crash" finding naming it; a child's finding is
//     reported in the parent with the child's verdict and the text of its
//     first finding (written to a pipe before _exit, at most kReportMax
//     bytes: within the pipe's buffer, so the child never blocks on it).
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "exec.h"

namespace threadlab::fuzz::detail {

namespace {
constexpr int kChildFinding = 10;
constexpr int kChildSetup = 3;
const char* const kVerdicts[] = {"scribble", "invariant", "deadlock", "crash", "error"};
constexpr int kNVerdicts = 5;
constexpr size_t kReportMax = 1024;  // the child's first finding, through a pipe (fits its buffer)
#if defined(TL_UNDER_ASAN) || defined(TL_UNDER_TSAN)
constexpr bool kChildRunsBody = false;
#else
constexpr bool kChildRunsBody = true;
#endif

int verdict_index(const std::string& v) {
  for (int i = 0; i < kNVerdicts; ++i)
    if (v == kVerdicts[i]) return i;
  return kNVerdicts - 1;
}

size_t ops_in(const std::vector<Op>& body) {
  size_t n = body.size();
  for (const Op& b : body) n += ops_in(b.body);
  return n;
}

[[noreturn]] void child(Exec& ex, const Op& op, int report_fd) {
  if (ex.a->fork_child() != TL_ADAPTER_OK) {
    std::fprintf(stderr, "threadlab fuzz: fork_child: %s\n", ex.last_error());
    _exit(kChildSetup);
  }
  if (!kChildRunsBody) _exit(0);
  ExecOptions o = ex.o;
  o.abort_on_finding = false;
  Program body;
  body.ops = op.body;
  const ExecResult r = execute_in(ex.a, body, o, true);
  for (const Finding& f : r.findings)
    std::fprintf(stderr, "threadlab fuzz: fork child: %s at op %zu: %s\n", f.verdict.c_str(), f.op_index,
                 f.text.c_str());
  std::fflush(stderr);
  if (!r.findings.empty()) {
    const std::string first = r.findings.front().text.substr(0, kReportMax - 1);
    (void)!write(report_fd, first.data(), first.size());
  }
  _exit(r.findings.empty() ? 0 : kChildFinding + verdict_index(r.findings.front().verdict));
}
}  // namespace

void run_fork(Actor& me, const Op& op, size_t idx) {
  Exec& ex = *me.ex;
  const tl_adapter* a = ex.a;
  int report[2] = {-1, -1};
  if (pipe(report) != 0) {
    ex.error(idx, std::string("fork: pipe: ") + strerror(errno));
    return;
  }
  fcntl(report[0], F_SETFD, FD_CLOEXEC);
  fcntl(report[1], F_SETFD, FD_CLOEXEC);
  if (!kChildRunsBody)
    for (size_t i = 0, n = ops_in(op.body); i < n; ++i) ex.skip("fork body (sanitizer build)", true);
  if (a->fork_prepare() != TL_ADAPTER_OK) {
    ex.error(idx, std::string("fork on ") + me.name + ": fork_prepare: " + ex.last_error());
    close(report[0]);
    close(report[1]);
    return;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    close(report[0]);
    child(ex, op, report[1]);
  }
  const int fork_errno = errno;
  close(report[1]);
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{report[0]};
  if (a->fork_parent() != TL_ADAPTER_OK) ex.error(idx, std::string("fork_parent: ") + ex.last_error());
  if (pid < 0) {
    ex.error(idx, std::string("fork: ") + strerror(fork_errno));
    return;
  }
  const long limit_ms = 2L * ex.o.op_timeout_ms + 1000;
  int status = 0;
  pid_t got = 0;
  for (long waited_us = 0; (got = waitpid(pid, &status, WNOHANG)) == 0; waited_us += 500) {
    if (waited_us / 1000 >= limit_ms) break;
    const timespec ts{0, 500000};
    nanosleep(&ts, nullptr);
    ex.progress.fetch_add(1);  // the parent is waiting, not stuck; the child has its own watchdog
  }
  if (got == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ex.finding("deadlock", idx, "fork child hung: still running " + std::to_string(limit_ms) + " ms after fork on " +
                                    me.name + "; killed");
    return;
  }
  if (got < 0) {
    ex.error(idx, std::string("waitpid: ") + strerror(errno));
    return;
  }
  if (WIFSIGNALED(status)) {
    ex.finding("crash", idx, std::string("fork child killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
                                 strsignal(WTERMSIG(status)) + ")");
  } else if (WIFEXITED(status) && WEXITSTATUS(status) >= kChildFinding &&
             WEXITSTATUS(status) < kChildFinding + kNVerdicts) {
    char buf[kReportMax];
    const ssize_t n = read(report[0], buf, sizeof buf - 1);
    ex.finding(kVerdicts[WEXITSTATUS(status) - kChildFinding], idx,
               "in the fork child: " + (n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("(see its stderr)")));
  } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    ex.error(idx, "fork child exited with status " + std::to_string(WEXITSTATUS(status)));
  }
}

}  // namespace threadlab::fuzz::detail
