// workers.cpp — see workers.h.
#include "workers.h"

#include <signal.h>
#include <unistd.h>

#include <thread>

namespace tltest {
namespace {
struct Arg {
  Workers* ws;
  Worker* w;
};
Arg g_args[1024];

void spin_body(Workers* ws, Worker* w) {
  switch (ws->mode()) {
    case Mode::ManagedPolling:
      while (!ws->stop.load(std::memory_order_relaxed)) {
        w->progress.fetch_add(1, std::memory_order_relaxed);
        tl_safepoint();
      }
      break;
    case Mode::ManagedPure:
      while (!ws->stop.load(std::memory_order_relaxed)) {
        w->progress.fetch_add(1, std::memory_order_relaxed);
#if defined(TL_UNDER_TSAN)
        // ThreadSanitizer delivers a signal only at an intercepted call;
        // this one stands for "some libc call in the loop".
        sigset_t unused;
        pthread_sigmask(SIG_BLOCK, nullptr, &unused);
#endif
      }
      break;
    case Mode::BlockedSyscall: {
      w->progress.fetch_add(1, std::memory_order_relaxed);
      tl_blocking_begin();
      char c;
      while (read(ws->pipe_fds[0], &c, 1) < 0) {
      }
      tl_blocking_end();
      break;
    }
    case Mode::ForeignCall:
      tl_foreign_begin();
      while (!ws->stop.load(std::memory_order_relaxed)) w->progress.fetch_add(1, std::memory_order_relaxed);
      tl_foreign_end();
      break;
    case Mode::LockWait:
      w->progress.fetch_add(1, std::memory_order_relaxed);
      tl_lock_acquire(&ws->lock);
      tl_lock_release(&ws->lock);
      break;
  }
}
}  // namespace

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::ManagedPolling: return "managed-polling";
    case Mode::ManagedPure: return "managed-pure";
    case Mode::BlockedSyscall: return "blocked-syscall";
    case Mode::ForeignCall: return "foreign-call";
    case Mode::LockWait: return "lock-wait";
  }
  return "?";
}

Workers::Workers(Mode mode, int count) : mode_(mode), workers_(count) {
  if (mode == Mode::BlockedSyscall && pipe(pipe_fds) != 0) std::abort();
  if (mode == Mode::LockWait) tl_lock_acquire(&lock);
  static std::atomic<int> next_arg{0};
  for (auto& w : workers_) {
    Arg* a = &g_args[next_arg.fetch_add(1) % 1024];
    a->ws = this;
    a->w = &w;
    if (tl_spawn("worker", [](void* p) {
          auto* arg = static_cast<Arg*>(p);
          spin_body(arg->ws, arg->w);
        }, a, &w.id) != TL_OK)
      std::abort();
  }
}

Workers::~Workers() {
  stop = true;
  if (mode_ == Mode::BlockedSyscall) {
    close(pipe_fds[1]);  // every blocked read() returns 0
  }
  if (mode_ == Mode::LockWait) tl_lock_release(&lock);
  for (auto& w : workers_) tl_join(w.id);
  if (mode_ == Mode::BlockedSyscall) close(pipe_fds[0]);
}

void Workers::wait_running() {
  for (auto& w : workers_)
    while (w.progress.load(std::memory_order_relaxed) == 0) std::this_thread::yield();
  if (mode_ == Mode::BlockedSyscall || mode_ == Mode::LockWait) {
    // Progress was counted just before blocking; wait until each is blocked.
    for (;;) {
      std::vector<tl_thread_info> buf(workers_.size() + 64);
      size_t n = 0;
      tl_thread_list(buf.data(), buf.size(), &n);
      int blocked = 0;
      for (size_t i = 0; i < n && i < buf.size(); ++i)
        for (auto& w : workers_)
          if (buf[i].id == w.id && buf[i].state == TL_STATE_BLOCKED) ++blocked;
      if (blocked == static_cast<int>(workers_.size())) break;
      std::this_thread::yield();
    }
  }
}

uint64_t Workers::progress() const {
  uint64_t s = 0;
  for (auto& w : workers_) s += w.progress.load(std::memory_order_relaxed);
  return s;
}

std::vector<tl_thread_id> Workers::ids() const {
  std::vector<tl_thread_id> v;
  for (auto& w : workers_) v.push_back(w.id);
  return v;
}

}  // namespace tltest
