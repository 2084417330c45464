// watchdog.cpp — the in-process watchdog: below the engine's timeout, so a
// hung program becomes a "deadlock" finding with every thread's state.
//
// Invariants:
//   - A plain thread (not the runtime's), one per execute(), joined before
//     execute() returns. It samples Exec::progress (bumped whenever any op
//     finishes, anywhere) and fires when it stood still op_timeout_ms.
//   - Firing: print every thread (adapter thread_list) and the wait-for
//     graph (wait_edges) to stderr, record the finding "deadlock" with that
//     dump; with abort_on_finding, abort() there (the engine's crash).
//     thread_list may take a lock a stuck thread holds: it is asked on a
//     helper thread and given kDumpWaitMs; a dump that does not answer is
//     reported as such and the helper is left to finish on its own.
//   - Without abort_on_finding it recovers: no more ops are issued
//     (Exec::stopping), every mailbox is closed (waiting receivers wake) and
//     every spawned actor still running is killed (the runtime releases its
//     locks; its pending tasks are abandoned), from inside a callback when
//     the adapter needs one to kill. Deadlocks only foreign threads or the
//     driver can untie (nothing to kill) cannot be recovered in-process
//     (the teardown joins only once the recovery's kills are done: a join
//     racing a kill of the same thread fails and would leave it unjoined):
//     a second op_timeout_ms without progress prints so and aborts.
#include <threadlab/adapter.h>

#include <condition_variable>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "exec.h"

namespace threadlab::fuzz::detail {

namespace {
constexpr unsigned kDumpWaitMs = 2000;
}

std::string dump_threads(const tl_adapter* a) {
  std::string out;
  char line[512];
  if ((a->caps & TL_CAP_THREAD_LIST) && a->thread_list) {
    std::vector<tl_adapter_thread> th(256);
    size_t n = 0;
    if (a->thread_list(th.data(), th.size(), &n) == TL_ADAPTER_OK) {
      std::snprintf(line, sizeof line, "%zu threads the runtime knows:\n", n);
      out += line;
      for (size_t i = 0; i < n && i < th.size(); ++i) {
        std::snprintf(line, sizeof line, "  thread %llu (tid %lld) %s %s%s%s\n",
                      static_cast<unsigned long long>(th[i].id), static_cast<long long>(th[i].kernel_tid),
                      th[i].name, th[i].state, th[i].waiting_on[0] ? ": waiting on " : "", th[i].waiting_on);
        out += line;
      }
    } else {
      out += "thread_list failed\n";
    }
  } else {
    out += "(the adapter offers no thread_list)\n";
  }
  if ((a->caps & TL_CAP_LOCKS) && a->wait_edges) {
    std::vector<tl_adapter_wait_edge> e(256);
    size_t n = 0;
    if (a->wait_edges(e.data(), e.size(), &n) == TL_ADAPTER_OK) {
      std::snprintf(line, sizeof line, "%zu wait-for edges:\n", n);
      out += line;
      for (size_t i = 0; i < n && i < e.size(); ++i) {
        std::snprintf(line, sizeof line, "  thread %llu waits for lock %s held by thread %llu\n",
                      static_cast<unsigned long long>(e[i].waiter), e[i].lock_name,
                      static_cast<unsigned long long>(e[i].owner));
        out += line;
      }
    }
  }
  return out;
}

Watchdog::Watchdog(Exec& ex) : ex_(ex), thread_([this] { run(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> g(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

namespace {
// The dump on a helper thread with a deadline.
std::string bounded_dump(const tl_adapter* a) {
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::string text;
  };
  auto sh = std::make_shared<Shared>();
  std::thread([sh, a] {
    std::string t = dump_threads(a);
    std::lock_guard<std::mutex> g(sh->mu);
    sh->text = std::move(t);
    sh->done = true;
    sh->cv.notify_all();
  }).detach();
  std::unique_lock<std::mutex> g(sh->mu);
  if (!sh->cv.wait_for(g, std::chrono::milliseconds(kDumpWaitMs), [&] { return sh->done; }))
    return "(the thread list did not answer within 2 s: a stuck thread holds the runtime's registry)\n";
  return sh->text;
}
}  // namespace

void Watchdog::recover() {
  ex_.recovering.store(true);
  ex_.stopping.store(true);
  const tl_adapter* a = ex_.a;
  // The runtime may need a record on the calling thread to close or kill.
  const bool enter = (a->caps & TL_CAP_FOREIGN_CALLBACK) && a->self() == 0 && a->callback_enter() == TL_ADAPTER_OK;
  unsigned closed = 0, killed = 0;
  for (auto& b : ex_.boxes)
    if (b.h && a->mailbox_close && a->mailbox_close(b.h) == TL_ADAPTER_OK) ++closed;
  if (a->caps & TL_CAP_KILL) {
    for (auto& act : ex_.actors) {
      if (act->kind != Kind::Spawned || act->started.load() <= 0) continue;
      if (act->state.load() != kRunning) continue;
      if (kill_actor(*act) == TL_ADAPTER_OK) ++killed;
    }
  }
  if (enter) a->callback_exit();
  std::fprintf(stderr, "threadlab fuzz watchdog: recovering: %u mailboxes closed, %u threads killed\n", closed, killed);
  ex_.recovering.store(false);
  ex_.recovering.notify_all();
}

void Watchdog::run() {
  const auto timeout = std::chrono::milliseconds(ex_.o.op_timeout_ms ? ex_.o.op_timeout_ms : 1);
  const auto step = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(1), timeout / 20);
  uint64_t last = ex_.progress.load();
  auto since = std::chrono::steady_clock::now();
  bool fired = false;
  std::unique_lock<std::mutex> g(mu_);
  while (!quit_) {
    cv_.wait_for(g, step, [&] { return quit_; });
    if (quit_) break;
    const uint64_t now = ex_.progress.load();
    const auto t = std::chrono::steady_clock::now();
    if (now != last) {
      last = now;
      since = t;
      continue;
    }
    if (t - since < timeout) continue;
    if (fired) {
      std::fprintf(stderr, "threadlab fuzz watchdog: still no progress after recovery (a deadlock of threads "
                           "that cannot be killed); aborting\n");
      std::abort();
    }
    fired = true;
    g.unlock();
    const size_t op = ex_.current.load();
    std::string dump = bounded_dump(ex_.a);
    std::string text = "no op finished within " + std::to_string(ex_.o.op_timeout_ms) + " ms (op " +
                       std::to_string(op) + " running)\n" + dump;
    std::fprintf(stderr, "threadlab fuzz watchdog: deadlock: %s", text.c_str());
    if (ex_.o.abort_on_finding) std::abort();
    ex_.finding("deadlock", op, text);
    recover();
    since = std::chrono::steady_clock::now();
    last = ex_.progress.load();
    g.lock();
  }
}

}  // namespace threadlab::fuzz::detail
