// process.h — child processes for the runner: started in their own process
// group with captured output and a result channel, reaped without losing
// what they wrote, and killed as a group.
//
// Invariants:
//   - Every child leads its own process group (setpgid in both parent and
//     child, so there is no window); killing the group takes stray
//     grandchildren with it.
//   - Exit is detected with waitid(WNOWAIT) first, so the group is killed
//     while the child is still a zombie and its pgid cannot be reused.
//   - Output is captured into a bounded head+tail buffer: a child printing
//     megabytes costs the runner 64 KiB.
//   - A program that cannot be executed is reported through a close-on-exec
//     error pipe before proc_spawn returns, never as a run.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace threadlab {

struct OutputCapture {
  static constexpr size_t kHead = 32 * 1024, kTail = 32 * 1024;
  std::string head, tail;
  uint64_t total = 0;
  void append(const char* p, size_t n);
  std::string text() const;  // head, an elision marker, tail
};

struct SpawnSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env_extra;  // "NAME=value"; replaces a variable of that name the parent has
  bool result_channel = false;         // a pipe on fd 3 of the child
  bool cycle_socket = false;           // a socketpair end, named by THREADLAB_CYCLE_FD
  bool search_path = false;            // execvp
};

struct Proc {
  pid_t pid = -1;
  int out_fd = -1, result_fd = -1, cycle_fd = -1;
  OutputCapture out;
  std::string result_buf;
  bool exited = false;
  int status = 0;
  bool stray = false;  // other processes were left in its group
};

bool proc_spawn(const SpawnSpec& spec, Proc* p, std::string* err);
// Read whatever is available on the output and result fds (non-blocking).
void proc_drain(Proc* p);
// If the child has exited: kill its group (noting strays), reap it, drain
// and close its fds. Returns true once exited.
bool proc_try_reap(Proc* p);
void proc_kill_group(Proc* p, int sig);
// Kill the group and wait for the child (for Ctrl-C and hard timeouts).
void proc_kill_and_reap(Proc* p);

// Self-pipe woken by SIGCHLD and SIGINT/SIGTERM; install once in the runner.
void runner_signals_install();
int runner_signal_fd();
bool runner_interrupted();
void runner_signal_drain();

// Processes in group `pgid` other than `except` (platform file).
int count_group_members(pid_t pgid, pid_t except);

// Full path of this executable, resolved ("threadlab" if unknown; platform
// files: /proc/self/exe on Linux, _NSGetExecutablePath on Apple).
std::string self_exe();
// Signal name ("SIGSEGV"), or "signal N".
std::string signal_name(int sig);

// Run a program to completion with a deadline, capturing stdout+stderr.
// Returns false (with *err) if it could not be run; *timed_out when killed.
bool run_capture(const std::vector<std::string>& argv, int timeout_ms, std::string* out, bool* timed_out,
                 std::string* err);

// Kernel id of the calling thread (Linux tid; Apple thread id).
int64_t current_kernel_tid();

}  // namespace threadlab
