// bench/callbacks_bench.cpp — group `callbacks`: foreign-thread callbacks.
//
//   callback_enter_exit_ns  tl_callback_enter+exit on an already adopted
//                           foreign thread (steady state), next to the
//                           bookkeeping a key-based runtime does per call
//                           (pthread_getspecific + setspecific of a depth);
//   foreign_first_callback_ns  pthread_create of a fresh foreign thread whose
//                           one callback adopts it, plus join (which waits
//                           for the record's release at thread exit), next
//                           to pthread_create+join of the same empty thread.
// Invariant: the benchmarks run on a plain pthread (not created by the
// runtime), adopted by one callback before any timing.
#include <pthread.h>
#include <threadlab/runtime.h>

#include <cstdint>
#include <cstdio>

#include "compare.h"

namespace {

pthread_key_t g_depth_key;

void steady(benchmark::State& state) {
  if (tl_callback_enter() != TL_OK || tl_callback_exit() != TL_OK) {
    state.SkipWithError("tl_callback_enter/exit failed on the benchmark thread");
    return;
  }
  for (auto _ : state) {
    tl_callback_enter();
    tl_callback_exit();
  }
}

void key_bookkeeping(benchmark::State& state) {
  for (auto _ : state) {
    auto d = reinterpret_cast<uintptr_t>(pthread_getspecific(g_depth_key));
    pthread_setspecific(g_depth_key, reinterpret_cast<void*>(d + 1));
    benchmark::ClobberMemory();
    d = reinterpret_cast<uintptr_t>(pthread_getspecific(g_depth_key));
    pthread_setspecific(g_depth_key, reinterpret_cast<void*>(d - 1));
  }
}

void* empty_thread(void*) { return nullptr; }

void* callback_thread(void* failed) {
  if (tl_callback_enter() != TL_OK || tl_callback_exit() != TL_OK) *static_cast<bool*>(failed) = true;
  return nullptr;
}

void create_join(benchmark::State& state, void* (*fn)(void*)) {
  bool failed = false;
  for (auto _ : state) {
    pthread_t t;
    if (pthread_create(&t, nullptr, fn, &failed) != 0) {
      state.SkipWithError("pthread_create failed");
      return;
    }
    pthread_join(t, nullptr);
  }
  if (failed) state.SkipWithError("a callback on a fresh thread failed");
}

void* run_all(void*) {
  // Adopt this (foreign) thread once before anything is timed.
  if (tl_callback_enter() != TL_OK || tl_callback_exit() != TL_OK) {
    std::fprintf(stderr, "bench_callbacks: adoption of the benchmark thread failed: %s\n", tl_last_error());
    return reinterpret_cast<void*>(1);
  }
  benchmark::RunSpecifiedBenchmarks();
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  pthread_key_create(&g_depth_key, nullptr);
  tlbench::peer("pthread_key_get_set", key_bookkeeping);
  tlbench::ours("callback_enter_exit_ns", "pthread_key_get_set", steady);
  tlbench::peer("pthread_create_join", [](benchmark::State& s) { create_join(s, empty_thread); });
  tlbench::ours("foreign_first_callback_ns", "pthread_create_join",
                [](benchmark::State& s) { create_join(s, callback_thread); });
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  if (int rc = tl_init(nullptr); rc != TL_OK) {
    std::fprintf(stderr, "bench_callbacks: tl_init: %s\n", tl_strerror(rc));
    return 1;
  }
  pthread_t t;
  void* rc = nullptr;
  if (pthread_create(&t, nullptr, run_all, nullptr) != 0) return 1;
  pthread_join(t, &rc);
  benchmark::Shutdown();
  return rc == nullptr ? 0 : 1;
}
