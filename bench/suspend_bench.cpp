// bench/suspend_bench.cpp — group `suspend`: stop-the-world latency.
//
//   suspend_<policy>_<state>_<n>_ns   tl_suspend_others + tl_resume_others
//       with n other threads (1, 8, 64) either running (spinning) or blocked
//       in read() on an empty pipe, under each suspension policy; next to
//       Boehm GC's GC_stop_world_external + GC_start_world_external with n
//       registered threads doing the same, in the same process and run.
//
// What each side's threads do, so the comparison is fair:
//   - running: ours spin in managed code; under the hybrid policy they poll
//     tl_safepoint (that is the policy's contract), under the preemptive
//     one they do not poll at all. bdwgc's spin without polling (it has no
//     safepoints).
//   - blocked: ours wrap the read() in tl_blocking_begin/end, the runtime's
//     way of saying "blocked in a syscall". bdwgc's threads are blocked in
//     read() as plain registered threads, so bdwgc signals them; a second
//     peer, bdwgc_do_blocking, wraps the read() in GC_do_blocking, bdwgc's
//     own way of saying the same thing, for the like-for-like view.
// Invariant: one pool of threads exists at a time, so the two sides never
// compete for the two cores of the benchmark machine. bdwgc uses real-time
// signals here, because the runtime's suspend signal is SIGPWR, bdwgc's
// default.
#define GC_THREADS
#include <gc/gc.h>
#include <pthread.h>
#include <signal.h>
#include <threadlab/runtime.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "compare.h"

namespace {

enum class Side { Ours, Bdwgc, BdwgcDoBlocking };
enum class Activity { Running, Blocked };

struct Pool {
  std::atomic<bool> stop{false};
  std::atomic<int> ready{0};
  int fds[2] = {-1, -1};
  Activity activity = Activity::Running;
  bool poll = false;
  std::vector<tl_thread_id> ours;
  std::vector<pthread_t> peers;
  volatile uint64_t sink = 0;
};

void ours_body(void* p) {
  auto* pool = static_cast<Pool*>(p);
  pool->ready.fetch_add(1);
  if (pool->activity == Activity::Blocked) {
    char c;
    tl_blocking_begin();
    while (read(pool->fds[0], &c, 1) < 0) {
    }
    tl_blocking_end();
    return;
  }
  while (!pool->stop.load(std::memory_order_relaxed)) {
    pool->sink = pool->sink + 1;
    if (pool->poll) tl_safepoint();
  }
}

void* blocked_read(void* p) {
  auto* pool = static_cast<Pool*>(p);
  char c;
  while (read(pool->fds[0], &c, 1) < 0) {
  }
  return nullptr;
}

void* peer_body(void* p) {
  // Created through GC_pthread_create (GC_THREADS), so registered.
  auto* pool = static_cast<Pool*>(p);
  pool->ready.fetch_add(1);
  if (pool->activity == Activity::Blocked) return blocked_read(p);
  while (!pool->stop.load(std::memory_order_relaxed)) pool->sink = pool->sink + 1;
  return nullptr;
}

void* peer_do_blocking_body(void* p) {
  auto* pool = static_cast<Pool*>(p);
  pool->ready.fetch_add(1);
  GC_do_blocking(reinterpret_cast<GC_fn_type>(+[](void* arg) -> void* { return blocked_read(arg); }), p);
  return nullptr;
}

void start(Pool& pool, Side side, Activity act, int n) {
  pool.activity = act;
  if (act == Activity::Blocked && pipe(pool.fds) != 0) std::abort();
  for (int i = 0; i < n; ++i) {
    if (side == Side::Ours) {
      tl_thread_id id;
      if (tl_spawn("bench", ours_body, &pool, &id) != TL_OK) std::abort();
      pool.ours.push_back(id);
    } else {
      pthread_t t;
      if (pthread_create(&t, nullptr, side == Side::Bdwgc ? peer_body : peer_do_blocking_body, &pool) != 0)
        std::abort();
      pool.peers.push_back(t);
    }
  }
  while (pool.ready.load() < n) std::this_thread::yield();
}

void finish(Pool& pool) {
  pool.stop = true;
  if (pool.fds[1] >= 0) close(pool.fds[1]);  // every blocked read() returns 0
  for (auto id : pool.ours) tl_join(id);
  for (auto t : pool.peers) pthread_join(t, nullptr);
  if (pool.fds[0] >= 0) close(pool.fds[0]);
}

void ours(benchmark::State& state, int policy, Activity act, int n) {
  if (tl_set_suspend_policy(policy) != TL_OK) {
    state.SkipWithError(tl_last_error());
    return;
  }
  Pool pool;
  pool.poll = policy == TL_SUSPEND_HYBRID;
  start(pool, Side::Ours, act, n);
  for (auto _ : state) {
    if (tl_suspend_others() != TL_OK || tl_resume_others() != TL_OK) {
      state.SkipWithError(tl_last_error());
      break;
    }
  }
  finish(pool);
}

void peer(benchmark::State& state, Side side, Activity act, int n) {
  Pool pool;
  start(pool, side, act, n);
  for (auto _ : state) {
    GC_stop_world_external();
    GC_start_world_external();
  }
  finish(pool);
}

const char* name(Activity a) { return a == Activity::Running ? "running" : "blocked"; }

void register_all() {
  for (int n : {1, 8, 64}) {
    for (Activity act : {Activity::Running, Activity::Blocked}) {
      std::string peer_name = std::string("bdwgc_") + name(act) + "_" + std::to_string(n);
      tlbench::peer(peer_name, [=](benchmark::State& s) { peer(s, Side::Bdwgc, act, n); });
      for (int policy : {TL_SUSPEND_PREEMPTIVE, TL_SUSPEND_HYBRID}) {
        std::string nm = std::string("suspend_") + (policy == TL_SUSPEND_HYBRID ? "hybrid_" : "preemptive_") +
                         name(act) + "_" + std::to_string(n) + "_ns";
        tlbench::ours(nm, peer_name, [=](benchmark::State& s) { ours(s, policy, act, n); });
      }
      if (act == Activity::Blocked) {
        std::string like = "bdwgc_do_blocking_" + std::to_string(n);
        tlbench::peer(like, [=](benchmark::State& s) { peer(s, Side::BdwgcDoBlocking, act, n); });
        tlbench::ours("suspend_hybrid_blocked_" + std::to_string(n) + "_vs_do_blocking_ns", like,
                      [=](benchmark::State& s) { ours(s, TL_SUSPEND_HYBRID, act, n); });
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  GC_set_suspend_signal(SIGRTMIN + 5);
  GC_set_thr_restart_signal(SIGRTMIN + 6);
  GC_INIT();
  GC_allow_register_threads();
  if (tl_init(nullptr) != TL_OK) {
    std::fprintf(stderr, "bench_suspend: tl_init: %s\n", tl_last_error());
    return 2;
  }
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
