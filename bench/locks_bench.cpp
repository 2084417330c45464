// bench/locks_bench.cpp — group `locks`: runtime locks and mailboxes next
// to pthread_mutex_t, std::mutex and a mutex + condition-variable queue.
//
//   lock_uncontended_ns          tl_lock_acquire + tl_lock_release, one thread
//   lock_order_checked_ns        the same with one other lock held and the
//                                lock-order graph on (what prediction costs)
//   lock_contended_T_per_s       T threads (2, 8, 64) taking one lock around
//                                a short critical section; items = takes
//   mailbox_pingpong_ns          one round trip through two 1-word mailboxes
//                                between two threads
//
// Invariants: every side runs on threads with a runtime record (the
// benchmark's own threads are adopted before timing starts, and released
// after); each critical section does the same work on both sides; the
// ping-pong partner of each side is started before and stopped after its
// timed loop.
#include <pthread.h>
#include <threadlab/runtime.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "compare.h"

namespace {

// Adopt a benchmark thread for the runtime, for the life of one benchmark.
struct Adopted {
  bool entered = false;
  Adopted() {
    if (tl_self() == 0) entered = tl_callback_enter() == TL_OK;
  }
  ~Adopted() {
    if (entered) tl_callback_exit();
  }
};

tl_lock g_lock = TL_LOCK_INIT, g_outer = TL_LOCK_INIT;
pthread_mutex_t g_pmu = PTHREAD_MUTEX_INITIALIZER;
std::mutex g_smu;
volatile uint64_t g_shared = 0;

inline void work() { g_shared = g_shared + 1; }

void tl_uncontended(benchmark::State& state) {
  Adopted a;
  for (auto _ : state) {
    tl_lock_acquire(&g_lock);
    work();
    tl_lock_release(&g_lock);
  }
}
void tl_order_checked(benchmark::State& state) {
  Adopted a;
  tl_lock_order_check(1);
  tl_lock_acquire(&g_outer);
  for (auto _ : state) {
    tl_lock_acquire(&g_lock);
    work();
    tl_lock_release(&g_lock);
  }
  tl_lock_release(&g_outer);
  tl_lock_order_check(0);
}
void pthread_uncontended(benchmark::State& state) {
  for (auto _ : state) {
    pthread_mutex_lock(&g_pmu);
    work();
    pthread_mutex_unlock(&g_pmu);
  }
}
void std_uncontended(benchmark::State& state) {
  for (auto _ : state) {
    g_smu.lock();
    work();
    g_smu.unlock();
  }
}

void tl_contended(benchmark::State& state) {
  Adopted a;
  for (auto _ : state) {
    tl_lock_acquire(&g_lock);
    work();
    tl_lock_release(&g_lock);
  }
  state.SetItemsProcessed(state.iterations());
}
void pthread_contended(benchmark::State& state) {
  for (auto _ : state) {
    pthread_mutex_lock(&g_pmu);
    work();
    pthread_mutex_unlock(&g_pmu);
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- ping-pong ----------------------------------------------------------
constexpr uint64_t kStop = ~uint64_t{0};

struct TlPair {
  tl_mailbox *to = nullptr, *back = nullptr;
};
void tl_echo(void* p) {
  auto* pair = static_cast<TlPair*>(p);
  for (;;) {
    uint64_t w = 0;
    if (tl_mailbox_receive(pair->to, &w, TL_FOREVER) != TL_OK || w == kStop) return;
    tl_mailbox_send(pair->back, w, TL_FOREVER);
  }
}
void tl_pingpong(benchmark::State& state) {
  Adopted a;
  TlPair pair;
  tl_mailbox_new(1, "to", &pair.to);
  tl_mailbox_new(1, "back", &pair.back);
  tl_thread_id echo = 0;
  if (tl_spawn("echo", tl_echo, &pair, &echo) != TL_OK) {
    state.SkipWithError("tl_spawn failed");
    return;
  }
  uint64_t i = 0, w = 0;
  for (auto _ : state) {
    tl_mailbox_send(pair.to, ++i, TL_FOREVER);
    tl_mailbox_receive(pair.back, &w, TL_FOREVER);
  }
  tl_mailbox_send(pair.to, kStop, TL_FOREVER);
  tl_join(echo);
  tl_mailbox_free(pair.to);
  tl_mailbox_free(pair.back);
}

struct CvQueue {  // the peer: a bounded queue on a mutex and two condition variables
  std::mutex mu;
  std::condition_variable not_empty, not_full;
  std::deque<uint64_t> q;
  void send(uint64_t w) {
    std::unique_lock<std::mutex> l(mu);
    not_full.wait(l, [&] { return q.empty(); });
    q.push_back(w);
    not_empty.notify_one();
  }
  uint64_t receive() {
    std::unique_lock<std::mutex> l(mu);
    not_empty.wait(l, [&] { return !q.empty(); });
    uint64_t w = q.front();
    q.pop_front();
    not_full.notify_one();
    return w;
  }
};
void cv_pingpong(benchmark::State& state) {
  CvQueue to, back;
  std::thread echo([&] {
    for (;;) {
      uint64_t w = to.receive();
      if (w == kStop) return;
      back.send(w);
    }
  });
  uint64_t i = 0;
  for (auto _ : state) {
    to.send(++i);
    benchmark::DoNotOptimize(back.receive());
  }
  to.send(kStop);
  echo.join();
}

void run_all(void*) { benchmark::RunSpecifiedBenchmarks(); }

}  // namespace

int main(int argc, char** argv) {
  tlbench::peer("pthread_mutex_uncontended", pthread_uncontended);
  tlbench::peer("std_mutex_uncontended", std_uncontended);
  tlbench::ours("lock_uncontended_ns", "pthread_mutex_uncontended", tl_uncontended);
  tlbench::ours("lock_uncontended_vs_std_ns", "std_mutex_uncontended", tl_uncontended);
  tlbench::ours("lock_order_checked_ns", "pthread_mutex_uncontended", tl_order_checked);
  for (int t : {2, 8, 64}) {
    const std::string peer = "pthread_mutex_contended_" + std::to_string(t);
    tlbench::peer(peer, pthread_contended)->Threads(t);
    tlbench::ours("lock_contended_" + std::to_string(t) + "_per_s", peer, tl_contended)->Threads(t);
  }
  tlbench::peer("mutex_condvar_pingpong", cv_pingpong);
  tlbench::ours("mailbox_pingpong_ns", "mutex_condvar_pingpong", tl_pingpong);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  if (int rc = tl_init(nullptr); rc != TL_OK) {
    std::fprintf(stderr, "bench_locks: tl_init: %s\n", tl_strerror(rc));
    return 1;
  }
  tl_thread_id id = 0;
  if (int rc = tl_spawn("bench-locks", run_all, nullptr, &id); rc != TL_OK || tl_join(id) != TL_OK) {
    std::fprintf(stderr, "bench_locks: spawn/join of the benchmark thread failed: %s\n", tl_strerror(rc));
    return 1;
  }
  benchmark::Shutdown();
  return 0;
}
