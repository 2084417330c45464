// bench/lookup_bench.cpp — group `lookup`: current-record lookup by each
// strategy (tl_self_by TLS / KEY / STACK) next to a raw thread_local load.
//
// Invariants: every benchmark runs on a thread created by tl_spawn, the only
// kind for which the stack-address strategy finds a record (and each
// benchmark checks it found the right one before timing). The peer is a
// thread_local load behind a non-inlined call, because tl_self_by is itself
// an out-of-line call into the runtime library: the comparison is of the
// lookup mechanisms, not of call overhead.
#include <threadlab/runtime.h>

#include <cstdio>
#include <cstdlib>

#include "compare.h"

namespace {

thread_local tl_thread_id t_raw_id = 0;

__attribute__((noinline)) tl_thread_id raw_thread_local_load() {
  tl_thread_id v = t_raw_id;
  benchmark::DoNotOptimize(v);
  return v;
}

void lookup(benchmark::State& state, int strategy) {
  if (tl_self_by(strategy) != tl_self() || tl_self() == 0) {
    state.SkipWithError("strategy finds no record or a wrong one on this thread");
    return;
  }
  for (auto _ : state) {
    tl_thread_id id = tl_self_by(strategy);
    benchmark::DoNotOptimize(id);
  }
}

void raw(benchmark::State& state) {
  t_raw_id = tl_self();
  for (auto _ : state) {
    tl_thread_id id = raw_thread_local_load();
    benchmark::DoNotOptimize(id);
  }
}


void run_all(void*) {
  benchmark::RunSpecifiedBenchmarks();
}

}  // namespace

int main(int argc, char** argv) {
  tlbench::peer("raw_thread_local_load", raw);
  tlbench::ours("lookup_tls_ns", "raw_thread_local_load", [](benchmark::State& s) { lookup(s, TL_LOOKUP_TLS); });
  tlbench::ours("lookup_key_ns", "raw_thread_local_load", [](benchmark::State& s) { lookup(s, TL_LOOKUP_KEY); });
  tlbench::ours("lookup_stack_ns", "raw_thread_local_load", [](benchmark::State& s) { lookup(s, TL_LOOKUP_STACK); });
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  if (int rc = tl_init(nullptr); rc != TL_OK) {
    std::fprintf(stderr, "bench_lookup: tl_init: %s\n", tl_strerror(rc));
    return 1;
  }
  tl_thread_id id = 0;
  if (int rc = tl_spawn("bench-lookup", run_all, nullptr, &id); rc != TL_OK || tl_join(id) != TL_OK) {
    std::fprintf(stderr, "bench_lookup: spawn/join of the benchmark thread failed: %s\n", tl_strerror(rc));
    return 1;
  }
  benchmark::Shutdown();
  return 0;
}
