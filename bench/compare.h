// bench/compare.h — how a benchmark says what it is compared with.
//
// Every benchmark is registered under one of two kinds of name:
//   "peer:PEER"            a peer (raw OS or language mechanism), measured in
//                          the same run, in the same program;
//   "ours:NAME:vs:PEER"    threadlab's mechanism; NAME carries the unit:
//                          NAME ending in _ns  compares real time per
//                          iteration in nanoseconds (lower is better);
//                          NAME ending in _per_s compares items_per_second
//                          (higher is better; the benchmark sets items).
// ci/bench-compare.py turns each "ours" row into
//   compare NAME ours=X peer=PEER peer_value=Y ratio=X/Y
// Invariant: every PEER named by an "ours" row is registered in the same
// program, so both sides always come from the same run. Both helpers set
// UseRealTime(): thread creation and callbacks spend time on other threads,
// which the calling thread's CPU time (Google Benchmark's default for
// items_per_second) would hide. Timing::Manual is for benchmarks that time
// only part of each iteration themselves (SetIterationTime), e.g. one side
// of a pair run alternately with its peer.
#pragma once
#include <benchmark/benchmark.h>

#include <string>

namespace tlbench {

enum class Timing { Real, Manual };

inline benchmark::internal::Benchmark* timed(benchmark::internal::Benchmark* b, Timing t) {
  return t == Timing::Manual ? b->UseManualTime() : b->UseRealTime();
}

template <class Fn>
benchmark::internal::Benchmark* peer(const std::string& peer_name, Fn fn, Timing t = Timing::Real) {
  return timed(benchmark::RegisterBenchmark(("peer:" + peer_name).c_str(), fn), t);
}

template <class Fn>
benchmark::internal::Benchmark* ours(const std::string& name, const std::string& peer_name, Fn fn,
                                     Timing t = Timing::Real) {
  return timed(benchmark::RegisterBenchmark(("ours:" + name + ":vs:" + peer_name).c_str(), fn), t);
}

}  // namespace tlbench
