// bench/churn_bench.cpp — group `churn`: thread creation throughput.
//
//   churn_spawn_join_per_s  tl_spawn + tl_join of an empty managed thread,
//                           per second, next to raw pthread_create +
//                           pthread_join of an empty thread (target >= 0.8x).
// Invariant: both sides create one thread at a time from the initial record's
// thread, so the figures differ only by what the runtime adds (record,
// value/temp stacks, registry, slot reuse).
#include <pthread.h>
#include <threadlab/runtime.h>

#include <cstdio>

#include "compare.h"

namespace {

void empty_managed(void*) {}
void* empty_raw(void*) { return nullptr; }

void spawn_join(benchmark::State& state) {
  for (auto _ : state) {
    tl_thread_id id;
    if (tl_spawn("churn", empty_managed, nullptr, &id) != TL_OK || tl_join(id) != TL_OK) {
      state.SkipWithError(tl_last_error());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void raw_create_join(benchmark::State& state) {
  for (auto _ : state) {
    pthread_t t;
    if (pthread_create(&t, nullptr, empty_raw, nullptr) != 0) {
      state.SkipWithError("pthread_create failed");
      return;
    }
    pthread_join(t, nullptr);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  tlbench::peer("pthread_create_join", raw_create_join);
  tlbench::ours("churn_spawn_join_per_s", "pthread_create_join", spawn_join);
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
