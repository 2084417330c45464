// bench/callbacks_bench.cpp — group `callbacks`: foreign-thread callbacks,
// next to the key-based bookkeeping every runtime needs and to the two
// peers' own ways in (issue 15, item 7).
//
//   callback_enter_exit_ns  tl_callback_enter+exit on an already adopted
//                           foreign thread (steady state), next to
//                           pthread_getspecific + setspecific of a depth;
//   callback_enter_exit_vs_bdwgc_ns   the same, next to bdwgc's re-entry of
//                           a registered thread that is outside the
//                           collector's view (GC_call_with_gc_active inside
//                           GC_do_blocking);
//   callback_enter_exit_vs_cpython_ns the same, next to PyGILState_Ensure +
//                           Release on a thread that keeps its thread state
//                           (an outer Ensure, the GIL released between);
//   foreign_first_callback_ns  pthread_create of a fresh foreign thread whose
//                           one callback adopts it, plus join (which waits
//                           for the record's release at thread exit), next
//                           to pthread_create+join of the same empty thread;
//   foreign_first_callback_vs_bdwgc_ns  the same, next to a fresh thread
//                           that GC_register_my_thread + unregister;
//   foreign_first_callback_vs_cpython_ns the same, next to a fresh thread
//                           whose one PyGILState_Ensure + Release makes and
//                           deletes its thread state.
// Invariant: the benchmarks run on a plain pthread (not created by the
// runtime), adopted by one callback before any timing; each peer is
// initialised the way its embedders do (GC_INIT + GC_allow_register_threads;
// Py_InitializeEx + the GIL released by the main thread). A peer whose
// library the build did not find is left out (TL_BENCH_HAVE_*).
#include <pthread.h>
#include <threadlab/runtime.h>
#if TL_BENCH_HAVE_PYTHON
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#endif
#if TL_BENCH_HAVE_GC
#define GC_THREADS
#define GC_NO_THREAD_REDIRECTS  // the benchmark's threads are foreign to bdwgc until they register
#include <gc/gc.h>
#endif

#include <cstdint>
#include <csignal>
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

#if TL_BENCH_HAVE_GC
void* gc_register_thread(void* failed) {
  GC_stack_base sb;
  if (GC_get_stack_base(&sb) != GC_SUCCESS || GC_register_my_thread(&sb) != GC_SUCCESS ||
      GC_unregister_my_thread() != GC_SUCCESS)
    *static_cast<bool*>(failed) = true;
  return nullptr;
}

void* gc_noop(void*) { return nullptr; }

void* gc_reenter_loop(void* state) {
  auto& st = *static_cast<benchmark::State*>(state);
  for (auto _ : st) GC_call_with_gc_active(gc_noop, nullptr);
  return nullptr;
}

// Registered for the benchmark's length, then outside the collector's view
// (GC_do_blocking), re-entering it once per iteration.
void gc_steady(benchmark::State& state) {
  GC_stack_base sb;
  if (GC_get_stack_base(&sb) != GC_SUCCESS || GC_register_my_thread(&sb) != GC_SUCCESS) {
    state.SkipWithError("GC_register_my_thread failed on the benchmark thread");
    return;
  }
  GC_do_blocking(gc_reenter_loop, &state);
  GC_unregister_my_thread();
}
#endif

#if TL_BENCH_HAVE_PYTHON
void* py_gilstate_thread(void*) {
  const PyGILState_STATE g = PyGILState_Ensure();  // makes the thread state
  PyGILState_Release(g);                           // and deletes it
  return nullptr;
}

// An outer Ensure keeps the thread state; the GIL is let go between
// iterations, so each Ensure/Release takes and gives back the GIL.
void py_steady(benchmark::State& state) {
  const PyGILState_STATE outer = PyGILState_Ensure();
  PyThreadState* ts = PyEval_SaveThread();
  for (auto _ : state) {
    const PyGILState_STATE g = PyGILState_Ensure();
    PyGILState_Release(g);
  }
  PyEval_RestoreThread(ts);
  PyGILState_Release(outer);
}
#endif

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
#if TL_BENCH_HAVE_GC
  tlbench::peer("bdwgc_call_with_gc_active", gc_steady);
  tlbench::ours("callback_enter_exit_vs_bdwgc_ns", "bdwgc_call_with_gc_active", steady);
  tlbench::peer("bdwgc_register_fresh_thread", [](benchmark::State& s) { create_join(s, gc_register_thread); });
  tlbench::ours("foreign_first_callback_vs_bdwgc_ns", "bdwgc_register_fresh_thread",
                [](benchmark::State& s) { create_join(s, callback_thread); });
  // bdwgc's own stop signals, clear of the runtime's (as bench_suspend).
  GC_set_suspend_signal(SIGRTMIN + 5);
  GC_set_thr_restart_signal(SIGRTMIN + 6);
  GC_INIT();
  GC_allow_register_threads();
#endif
#if TL_BENCH_HAVE_PYTHON
  tlbench::peer("cpython_gilstate_steady", py_steady);
  tlbench::ours("callback_enter_exit_vs_cpython_ns", "cpython_gilstate_steady", steady);
  tlbench::peer("cpython_gilstate_fresh_thread", [](benchmark::State& s) { create_join(s, py_gilstate_thread); });
  tlbench::ours("foreign_first_callback_vs_cpython_ns", "cpython_gilstate_fresh_thread",
                [](benchmark::State& s) { create_join(s, callback_thread); });
  Py_InitializeEx(0);
  PyThreadState* main_ts = PyEval_SaveThread();  // the GIL free for other threads
#endif
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
#if TL_BENCH_HAVE_PYTHON
  PyEval_RestoreThread(main_ts);
  Py_FinalizeEx();
#endif
  return rc == nullptr ? 0 : 1;
}
