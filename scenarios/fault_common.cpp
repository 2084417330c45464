// fault_common.cpp — see fault_common.h.
#include "fault_common.h"

#include <sched.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include "scenario_os.h"

namespace threadlab::scn {
namespace {

constexpr int kStormSignals[4] = {SIGCHLD, SIGURG, SIGPROF, SIGUSR2};
// Each sender pauses this long between signals. Without a pause a sender
// re-raises a storm signal faster than its target handles one, and since
// Linux delivers the lowest-numbered pending signal first, the runtime's
// suspend signal (SIGPWR, 30: above all four) is never delivered and every
// stop times out — starvation, seen at 1 s suspend timeouts on a loaded
// 2-core machine. The flood stays a flood (tens of thousands a second).
constexpr long kGapNs = 20 * 1000;
std::atomic<uint64_t> g_delivered{0};

void count_signal(int) { g_delivered.fetch_add(1, std::memory_order_relaxed); }

const char* kind_name(int kind) {
  switch (kind) {
    case TL_FAULT_STACK_OVERFLOW: return "value-stack overflow";
    case TL_FAULT_NATIVE_OVERFLOW: return "native-stack overflow";
    case TL_FAULT_WRITE_BARRIER: return "write-barrier fault";
    default: return "fault";
  }
}

}  // namespace

bool provoke(Context& ctx, int kind, const char* where) {
  const int rc = ctx.rt->provoke_fault(kind);
  if (rc == TL_ADAPTER_OK) return true;
  const char* err = ctx.rt->last_error ? ctx.rt->last_error() : "";
  ctx.finding(Verdict::Fail, fmt::format("{} {}: not recovered ({}): {}", kind_name(kind), where, rc, err),
              ctx.rt->self ? ctx.rt->self() : 0);
  return false;
}

bool set_fault_mode(Context& ctx, int mode, bool* unsupported) {
  if (unsupported) *unsupported = false;
  if (!ctx.rt->fault_mode) {
    if (unsupported) *unsupported = true;
    return false;
  }
  const int rc = ctx.rt->fault_mode(mode);
  if (rc == TL_ADAPTER_ENOTSUP && unsupported) {
    *unsupported = true;
    return false;
  }
  return ctx.ok(rc, "fault_mode");
}

OwnAltstack::OwnAltstack(size_t bytes) {
  mem_ = std::malloc(bytes);
  if (!mem_ || sigaltstack(nullptr, &prev_) != 0) return;
  stack_t ss{};
  ss.ss_sp = mem_;
  ss.ss_size = bytes;
  ok_ = sigaltstack(&ss, nullptr) == 0;
}

OwnAltstack::~OwnAltstack() {
  if (ok_) {
    stack_t prev = prev_;
    prev.ss_flags &= ~SS_ONSTACK;
    sigaltstack(&prev, nullptr);
  }
  std::free(mem_);
}

SignalStorm::SignalStorm(int senders) {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa{};
    sa.sa_handler = count_signal;
    sa.sa_flags = 0;  // no SA_RESTART: the runtime's waits see EINTR
    sigemptyset(&sa.sa_mask);
    for (int sig : kStormSignals) sigaction(sig, &sa, nullptr);
  });
  for (int i = 0; i < senders; ++i) senders_.emplace_back([this, i] { send_loop(i); });
}

SignalStorm::~SignalStorm() { stop(); }

void SignalStorm::add_target(pthread_t t, int64_t tid) {
  std::lock_guard<std::mutex> lock(mu_);
  targets_.push_back(t);
  tids_.push_back(tid);
}

void SignalStorm::start_process_sender() {
  std::vector<int64_t> tids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tids = tids_;
  }
  if (tids.empty() || tids[0] == 0) return;
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // Only system calls from here: the child of a threaded process.
    const timespec gap{0, kGapNs};
    for (uint64_t n = 0;; ++n) {
      send_to_tid(parent, static_cast<long>(tids[n % tids.size()]), kStormSignals[n % 4]);
      nanosleep(&gap, nullptr);
    }
  }
  child_ = pid;
}

void SignalStorm::send_loop(int i) {
  // The senders block the storm signals themselves: they send, never serve.
  sigset_t set;
  sigemptyset(&set);
  for (int s : kStormSignals) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  uint64_t n = static_cast<uint64_t>(i) * 7919;
  while (!stop_.load(std::memory_order_relaxed)) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!targets_.empty()) pthread_kill(targets_[n % targets_.size()], kStormSignals[n % 4]);
    }
    ++n;
    const timespec gap{0, kGapNs};
    nanosleep(&gap, nullptr);
  }
}

void SignalStorm::stop() {
  if (stop_.exchange(true)) return;
  for (auto& t : senders_) t.join();
  if (child_ > 0) {
    kill(child_, SIGKILL);
    waitpid(child_, nullptr, 0);
  }
}

uint64_t SignalStorm::delivered() const { return g_delivered.load(std::memory_order_relaxed); }

bool rearm_barrier(Context& ctx) {
  if (!(ctx.rt->caps & TL_CAP_COLLECT)) return true;  // nothing re-arms it: no steady state to restore
  return ctx.call.as("re-arming the write barrier at the cycle's end").collect();
}

}  // namespace threadlab::scn
