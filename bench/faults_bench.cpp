// bench/faults_bench.cpp — group `faults`: the runtime's fault round trips
// next to the bare mprotect + SIGSEGV round trip they are built on.
//
//   ours overflow_recover_ns    a push into the value stack's yellow zone:
//                               fault, classify, open the zone, unwind to
//                               tl_catch, land, close the zone
//   peer mprotect_segv_longjmp  a write to a PROT_NONE page; the handler
//                               unprotects it and siglongjmps out; the page
//                               is protected again after landing
//   ours barrier_fault_ns       arm the one-page write-barrier region, write:
//                               fault, classify, mark the card, unprotect,
//                               resume
//   peer mprotect_segv_resume   protect a page, write; the handler
//                               unprotects it and returns
//
// Invariants: the peers install their own bare handler for the duration of
// their benchmark and put the runtime's back after it; every benchmark runs
// on one thread created by tl_spawn (a record with the runtime's altstack),
// and checks each round trip really happened (a fault counter) before
// reporting.
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <threadlab/runtime.h>

#include <cstdio>

#include "compare.h"

namespace {

void* g_page = nullptr;
sigjmp_buf g_env;
volatile sig_atomic_t g_faults = 0;

void bare_resume(int, siginfo_t*, void*) {
  mprotect(g_page, 4096, PROT_READ | PROT_WRITE);
  g_faults = g_faults + 1;
}

void bare_longjmp(int, siginfo_t*, void*) {
  mprotect(g_page, 4096, PROT_READ | PROT_WRITE);
  g_faults = g_faults + 1;
  siglongjmp(g_env, 1);
}

struct BareHandler {
  struct sigaction prev;
  explicit BareHandler(void (*fn)(int, siginfo_t*, void*)) {
    struct sigaction sa{};
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &prev);
  }
  ~BareHandler() { sigaction(SIGSEGV, &prev, nullptr); }
};

void peer_resume(benchmark::State& state) {
  BareHandler h(bare_resume);
  g_faults = 0;
  for (auto _ : state) {
    mprotect(g_page, 4096, PROT_READ);
    *static_cast<volatile int*>(g_page) = 1;
  }
  if (g_faults != static_cast<sig_atomic_t>(state.iterations())) state.SkipWithError("a write did not fault");
}

void peer_longjmp(benchmark::State& state) {
  BareHandler h(bare_longjmp);
  g_faults = 0;
  for (auto _ : state) {
    if (sigsetjmp(g_env, 0) == 0) *static_cast<volatile int*>(g_page) = 1;
    mprotect(g_page, 4096, PROT_NONE);
  }
  if (g_faults != static_cast<sig_atomic_t>(state.iterations())) state.SkipWithError("a write did not fault");
}

void ours_barrier(benchmark::State& state) {
  static void* region = nullptr;
  if (!region && tl_gc_barrier_region(4096, &region) != TL_OK) {
    state.SkipWithError(tl_last_error());
    return;
  }
  tl_fault_stats before{}, after{};
  tl_get_fault_stats(&before);
  for (auto _ : state) {
    tl_gc_barrier_arm();
    *static_cast<volatile int*>(region) = 1;
  }
  tl_get_fault_stats(&after);
  if (after.barrier_faults - before.barrier_faults != static_cast<uint64_t>(state.iterations())) state.SkipWithError("a write did not fault");
}

int push_into_zone(void*) {
  tl_value_push_unchecked(1);  // the stack is full: this lands in the yellow zone
  return 0;
}

void ours_overflow(benchmark::State& state) {
  size_t filled = 0;
  while (tl_value_push(0) == TL_OK) ++filled;
  tl_fault_stats before{}, after{};
  tl_get_fault_stats(&before);
  for (auto _ : state) {
    const int rc = tl_catch(push_into_zone, nullptr);
    benchmark::DoNotOptimize(rc);
  }
  tl_get_fault_stats(&after);
  for (size_t i = 0; i < filled; ++i) tl_value_pop(nullptr);
  if (after.overflows_recovered - before.overflows_recovered != static_cast<uint64_t>(state.iterations()))
    state.SkipWithError("a push did not overflow");
}

void run_all(void*) { benchmark::RunSpecifiedBenchmarks(); }

}  // namespace

int main(int argc, char** argv) {
  tlbench::peer("mprotect_segv_resume", peer_resume);
  tlbench::peer("mprotect_segv_longjmp", peer_longjmp);
  tlbench::ours("barrier_fault_ns", "mprotect_segv_resume", ours_barrier);
  tlbench::ours("overflow_recover_ns", "mprotect_segv_longjmp", ours_overflow);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  if (int rc = tl_init(nullptr); rc != TL_OK) {
    std::fprintf(stderr, "bench_faults: tl_init: %s\n", tl_strerror(rc));
    return 1;
  }
  g_page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (g_page == MAP_FAILED) {
    std::perror("bench_faults: mmap");
    return 1;
  }
  tl_thread_id id = 0;
  if (tl_spawn("bench", run_all, nullptr, &id) != TL_OK || tl_join(id) != TL_OK) {
    std::fprintf(stderr, "bench_faults: %s\n", tl_last_error());
    return 1;
  }
  return 0;
}
