// process_posix.cpp — see process.h.
#include "runner/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>

#include <fmt/format.h>

extern char** environ;

namespace threadlab {

void OutputCapture::append(const char* p, size_t n) {
  total += n;
  if (head.size() < kHead) {
    size_t take = std::min(n, kHead - head.size());
    head.append(p, take);
    p += take;
    n -= take;
  }
  if (n == 0) return;
  tail.append(p, n);
  if (tail.size() > kTail) tail.erase(0, tail.size() - kTail);
}

std::string OutputCapture::text() const {
  uint64_t kept = head.size() + tail.size();
  if (kept >= total) return head + tail;
  return head + fmt::format("\n[... {} bytes elided ...]\n", total - kept) + tail;
}

namespace {
void set_nonblock_cloexec(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
}
void close_fd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}
}  // namespace

bool proc_spawn(const SpawnSpec& spec, Proc* p, std::string* err) {
  int out[2], res[2] = {-1, -1}, errp[2], sock[2] = {-1, -1};
  if (pipe(out) != 0 || pipe(errp) != 0) {
    *err = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  if (spec.result_channel && pipe(res) != 0) {
    *err = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  if (spec.cycle_socket && socketpair(AF_UNIX, SOCK_STREAM, 0, sock) != 0) {
    *err = std::string("socketpair: ") + std::strerror(errno);
    return false;
  }
  fcntl(errp[1], F_SETFD, FD_CLOEXEC);
  std::vector<std::string> env;
  auto overridden = [&](const char* e) {
    for (auto& x : spec.env_extra) {
      const size_t eq = x.find('=');
      if (eq != std::string::npos && std::strncmp(e, x.c_str(), eq + 1) == 0) return true;
    }
    return false;
  };
  for (char** e = environ; *e; ++e)
    if (!overridden(*e)) env.push_back(*e);
  for (auto& e : spec.env_extra) env.push_back(e);
  if (spec.cycle_socket) env.push_back(fmt::format("THREADLAB_CYCLE_FD={}", 4));
  std::vector<char*> argv, envp;
  for (auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) {
    *err = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only until exec.
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    if (spec.result_channel) dup2(res[1], 3);
    if (spec.cycle_socket) dup2(sock[1], 4);
    for (int fd = 5; fd < 1024; ++fd)
      if (fd != errp[1]) close(fd);
    if (spec.search_path) {
      environ = envp.data();  // the child's own copy: execvp searches PATH with it
      execvp(argv[0], argv.data());
    } else
      execve(argv[0], argv.data(), envp.data());
    int e = errno;
    (void)!write(errp[1], &e, sizeof e);
    _exit(127);
  }
  setpgid(pid, pid);
  close(out[1]);
  close(errp[1]);
  if (spec.result_channel) close(res[1]);
  if (spec.cycle_socket) close(sock[1]);
  int child_errno = 0;
  ssize_t n;
  while ((n = read(errp[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
  }
  close(errp[0]);
  p->pid = pid;
  p->out_fd = out[0];
  p->result_fd = spec.result_channel ? res[0] : -1;
  p->cycle_fd = spec.cycle_socket ? sock[0] : -1;
  for (int fd : {p->out_fd, p->result_fd, p->cycle_fd})
    if (fd >= 0) set_nonblock_cloexec(fd);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    *err = fmt::format("cannot execute '{}': {}", spec.argv[0], std::strerror(child_errno));
    waitpid(pid, nullptr, 0);
    close_fd(&p->out_fd);
    close_fd(&p->result_fd);
    close_fd(&p->cycle_fd);
    p->pid = -1;
    return false;
  }
  return true;
}

void proc_drain(Proc* p) {
  char buf[65536];
  for (int* fd : {&p->out_fd, &p->result_fd}) {
    while (*fd >= 0) {
      ssize_t n = read(*fd, buf, sizeof buf);
      if (n > 0) {
        if (fd == &p->out_fd)
          p->out.append(buf, static_cast<size_t>(n));
        else if (p->result_buf.size() < (64u << 20))
          p->result_buf.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) close_fd(fd);  // EOF
      break;
    }
  }
}

void proc_kill_group(Proc* p, int sig) {
  if (p->pid > 0) kill(-p->pid, sig);
}

// Reap the (already killed) child, collect the last of its output and
// close every pipe to it.
static void reap_and_close(Proc* p) {
  int status = 0;
  while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR) {
  }
  p->exited = true;
  p->status = status;
  proc_drain(p);
  close_fd(&p->out_fd);
  close_fd(&p->result_fd);
  close_fd(&p->cycle_fd);
}

bool proc_try_reap(Proc* p) {
  if (p->exited) return true;
  siginfo_t si{};
  if (waitid(P_PID, p->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0) return false;
  // The child is a zombie, so its pgid is still reserved: count and kill
  // the rest of its group (stray grandchildren) before reaping it.
  p->stray = count_group_members(p->pid, p->pid) > 0;
  kill(-p->pid, SIGKILL);
  proc_drain(p);
  reap_and_close(p);
  return true;
}

void proc_kill_and_reap(Proc* p) {
  if (p->exited || p->pid <= 0) return;
  proc_kill_group(p, SIGKILL);
  reap_and_close(p);
}

namespace {
int g_sigpipe[2] = {-1, -1};
std::atomic<bool> g_interrupted{false};

void on_signal(int sig) {
  // Signal handler: sets a flag and writes one byte; nothing else.
  int saved = errno;
  if (sig == SIGINT || sig == SIGTERM) g_interrupted.store(true);
  char c = static_cast<char>(sig);
  (void)!write(g_sigpipe[1], &c, 1);
  errno = saved;
}
}  // namespace

void runner_signals_install() {
  if (g_sigpipe[0] >= 0) return;
  if (pipe(g_sigpipe) != 0) return;
  set_nonblock_cloexec(g_sigpipe[0]);
  set_nonblock_cloexec(g_sigpipe[1]);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGCHLD, SIGINT, SIGTERM}) sigaction(sig, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}
int runner_signal_fd() { return g_sigpipe[0]; }
bool runner_interrupted() { return g_interrupted.load(); }
void runner_signal_drain() {
  char buf[256];
  while (read(g_sigpipe[0], buf, sizeof buf) > 0) {
  }
}

std::string signal_name(int sig) {
  // Portable names for the signals a scenario dies of (no sigabbrev_np off glibc).
  static const struct {
    int sig;
    const char* name;
  } kNames[] = {{SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"},   {SIGABRT, "SIGABRT"}, {SIGILL, "SIGILL"},
                {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"}, {SIGTERM, "SIGTERM"}, {SIGINT, "SIGINT"},
                {SIGTRAP, "SIGTRAP"}, {SIGPIPE, "SIGPIPE"}, {SIGQUIT, "SIGQUIT"}, {SIGHUP, "SIGHUP"},
                {SIGALRM, "SIGALRM"}, {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"}, {SIGSYS, "SIGSYS"},
                {SIGXCPU, "SIGXCPU"}, {SIGCHLD, "SIGCHLD"}};
  for (const auto& n : kNames)
    if (n.sig == sig) return n.name;
  return fmt::format("signal {}", sig);
}

bool run_capture(const std::vector<std::string>& argv, int timeout_ms, std::string* out, bool* timed_out,
                 std::string* err) {
  SpawnSpec spec;
  spec.argv = argv;
  spec.search_path = true;
  Proc p;
  if (!proc_spawn(spec, &p, err)) return false;
  *timed_out = false;
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (!proc_try_reap(&p)) {
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (ms >= timeout_ms) {
      *timed_out = true;
      proc_kill_and_reap(&p);
      break;
    }
    pollfd pf{p.out_fd, POLLIN, 0};
    poll(&pf, p.out_fd >= 0 ? 1 : 0, 50);
    proc_drain(&p);
  }
  *out = p.out.text();
  return true;
}

}  // namespace threadlab
