// bench/churn_bench.cpp — group `churn`: thread creation throughput.
//
//   churn_spawn_join_per_s  tl_spawn + tl_join of an empty managed thread,
//                           per second, next to raw pthread_create +
//                           pthread_join of an empty thread (target >= 0.8x).
//   churn_spawn_join_interleaved_per_s
//                           the same two, alternated one by one inside each
//                           iteration (which goes first alternates too);
//                           each side times only its own operation. On a
//                           shared machine the other tenants' load then
//                           falls on both sides alike, instead of on
//                           whichever repetition it happened to meet
//                           (docs/performance.md, "Churn on a loaded machine").
// Invariant: both sides create one thread at a time from the initial record's
// thread, so the figures differ only by what the runtime adds (record,
// value/temp stacks, registry, slot reuse).
#include <pthread.h>
#include <threadlab/runtime.h>

#include <chrono>
#include <cstdio>

#include "compare.h"

namespace {

void empty_managed(void*) {}
void* empty_raw(void*) { return nullptr; }

bool one_managed() {
  tl_thread_id id;
  return tl_spawn("churn", empty_managed, nullptr, &id) == TL_OK && tl_join(id) == TL_OK;
}

bool one_raw() {
  pthread_t t;
  if (pthread_create(&t, nullptr, empty_raw, nullptr) != 0) return false;
  return pthread_join(t, nullptr) == 0;
}

void spawn_join(benchmark::State& state) {
  for (auto _ : state)
    if (!one_managed()) {
      state.SkipWithError(tl_last_error());
      return;
    }
  state.SetItemsProcessed(state.iterations());
}

void raw_create_join(benchmark::State& state) {
  for (auto _ : state)
    if (!one_raw()) {
      state.SkipWithError("pthread_create failed");
      return;
    }
  state.SetItemsProcessed(state.iterations());
}

// Run both operations each iteration; report the time of one side only
// (ours when kOursTimed, else the raw pair).
template <bool kOursTimed>
void interleaved(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  bool ours_first = false;
  for (auto _ : state) {
    ours_first = !ours_first;
    double mine = 0;
    for (int k = 0; k < 2; ++k) {
      const bool run_ours = (k == 0) == ours_first;
      const auto t0 = Clock::now();
      const bool ok = run_ours ? one_managed() : one_raw();
      const auto t1 = Clock::now();
      if (!ok) {
        state.SkipWithError(run_ours ? tl_last_error() : "pthread_create failed");
        return;
      }
      if (run_ours == kOursTimed) mine = std::chrono::duration<double>(t1 - t0).count();
    }
    state.SetIterationTime(mine);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  tlbench::peer("pthread_create_join", raw_create_join);
  tlbench::ours("churn_spawn_join_per_s", "pthread_create_join", spawn_join);
  tlbench::peer("pthread_create_join_interleaved", interleaved<false>, tlbench::Timing::Manual);
  tlbench::ours("churn_spawn_join_interleaved_per_s", "pthread_create_join_interleaved", interleaved<true>,
                tlbench::Timing::Manual);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  if (int rc = tl_init(nullptr); rc != TL_OK) {
    std::fprintf(stderr, "bench_churn: tl_init: %s\n", tl_strerror(rc));
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
