// thread_dump_linux.cpp — dump every thread of this process (Linux).
//
// Mechanism: the dumping thread lists /proc/self/task, assigns each thread a
// static slot, and sends it kDumpSignal with tgkill. The handler (on the
// target thread) finds its slot by kernel tid, captures its own backtrace
// (addresses only) into the slot and publishes it with a release store; the
// dumper names the frames once they are in. The dumper waits a
// bounded time, then reads the slots and what /proc says of each thread
// (probes/tasks_linux.cpp, shared with the runner's and exec's dumps).
//
// Invariants:
//   - The handler allocates nothing, takes no lock, preserves errno, and
//     touches only its own slot: a thread stopped holding malloc's or the
//     runtime's lock cannot make it block.
//   - kDumpSignal is SIGRTMAX-2, documented for adapter authors as reserved
//     by the harness; it is installed with SA_RESTART so an interrupted
//     blocking call resumes.
//   - Slots are never reused within a process (a dump is the process's last
//     act), so a late answer cannot corrupt a later dump.
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cxxabi.h>

#include <fmt/format.h>

#include "child/backtrace_capture.h"
#include "child/thread_dump.h"
#include "probes/tasks_linux.h"

namespace threadlab {
namespace {

constexpr int kMaxSlots = 256;
struct Slot {
  std::atomic<long> tid{0};
  std::atomic<int> state{0};  // 0 free, 1 requested, 2 captured
  Frames frames;
};
Slot g_slots[kMaxSlots];

int dump_signal() { return SIGRTMAX - 2; }

void on_dump_signal(int, siginfo_t*, void*) {
  // Signal handler: no allocation, no locks (see file comment).
  const int saved = errno;
  const long me = syscall(SYS_gettid);
  for (auto& s : g_slots) {
    if (s.tid.load(std::memory_order_acquire) == me && s.state.load(std::memory_order_acquire) == 1) {
      capture_frames(&s.frames);
      s.state.store(2, std::memory_order_release);
      break;
    }
  }
  errno = saved;
}

}  // namespace

void thread_dump_install() {
  struct sigaction sa {};
  sa.sa_sigaction = on_dump_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(dump_signal(), &sa, nullptr);
}

std::vector<std::string> format_frames(const Frames& f, bool skip_to_signal_frame) {
  std::vector<std::string> out;
  int start = skip_to_signal_frame && f.signal_frame >= 0 ? f.signal_frame + 1 : 0;
  for (int i = start; i < f.n; ++i) {
    std::string name = f.name[i];
    if (!name.empty()) {
      int status = 0;
      if (char* d = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status)) {
        name = d;
        std::free(d);
      }
      out.push_back(fmt::format("#{} {:#x} {}+{:#x}", i - start, f.ip[i], name, f.off[i]));
    } else {
      out.push_back(fmt::format("#{} {:#x} ??", i - start, f.ip[i]));
    }
  }
  return out;
}

std::vector<ThreadSnapshot> dump_all_threads(int wait_ms, std::string* note) {
  std::vector<ThreadSnapshot> out;
  const long self = syscall(SYS_gettid);
  std::vector<long> tids;
  list_tasks(task_list_dir(getpid()), &tids);
  std::vector<int> slot_of(tids.size(), -1);
  int next = 0;
  for (size_t i = 0; i < tids.size(); ++i) {
    if (tids[i] == self) continue;
    while (next < kMaxSlots && g_slots[next].tid.load() != 0) ++next;
    if (next >= kMaxSlots) break;
    g_slots[next].state.store(1, std::memory_order_release);
    g_slots[next].tid.store(tids[i], std::memory_order_release);
    slot_of[i] = next++;
  }
  for (size_t i = 0; i < tids.size(); ++i)
    if (slot_of[i] >= 0) syscall(SYS_tgkill, getpid(), tids[i], dump_signal());

  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    bool all = true;
    for (int s : slot_of)
      if (s >= 0 && g_slots[s].state.load(std::memory_order_acquire) != 2) all = false;
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (all || ms >= wait_ms) break;
    timespec nap{0, 5 * 1000 * 1000};
    nanosleep(&nap, nullptr);
  }

  int silent = 0;
  for (size_t i = 0; i < tids.size(); ++i) {
    ThreadSnapshot t;
    t.tid = tids[i];
    const std::string dir = fmt::format("{}/{}", task_list_dir(getpid()), tids[i]);
    if (!read_task(dir, &t)) continue;  // exited since the listing (e.g. a helper thread)
    if (tids[i] == self) {
      t.waiting_on = "dumping the other threads (harness watchdog)";
      out.push_back(std::move(t));
      continue;
    }
    int s = slot_of[i];
    if (s >= 0 && g_slots[s].state.load(std::memory_order_acquire) == 2) {
      t.answered = true;
      name_frames(&g_slots[s].frames);  // here, not in the target's handler (backtrace_capture.h)
      t.backtrace = format_frames(g_slots[s].frames, true);
    } else {
      ++silent;
      const char* why = s < 0 ? "(no dump slot left)" : "(no answer to the dump signal: signals blocked or thread stopped)";
      t.backtrace.emplace_back(why);
      append_kernel_stack(dir, &t.backtrace);
    }
    out.push_back(std::move(t));
  }
  if (silent) *note = fmt::format("{} thread(s) did not answer the dump signal within {} ms", silent, wait_ms);
  return out;
}

}  // namespace threadlab
