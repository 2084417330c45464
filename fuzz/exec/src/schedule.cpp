// schedule.cpp — PCT-style schedule perturbation at op granularity.
//
// PCT (probabilistic concurrency testing) gives each thread a priority and
// runs the highest-priority runnable thread; at d-1 change points, chosen
// among the k steps of a run, the running thread's priority drops below
// every other. A bug of depth d is then found with probability at least
// 1/(n * k^(d-1)) per run, n threads.
//
// Here, with threads really running on several cores:
//   - A step is one op (k: ops the program executes, at most kMaxOps); the
//     depth d is one more than the program's `priority tN p` ops, which are
//     the change points, placed by the program (so a finding replays) rather
//     than drawn at random: the fuzzer's mutations do the drawing.
//   - Base priorities are a permutation, drawn from ExecOptions::seed, of
//     16..16+kSlots-1; change points set p in -8..8, below every base, as
//     PCT's drops are. Higher runs first.
//   - Before each op an actor yields while a runnable actor of higher
//     priority exists, at most kGateYields times: a higher-priority actor
//     blocked in a lock still reads as runnable, and the bound keeps the
//     run from stalling or serialising everything (the bound 1/(n k^(d-1))
//     holds only as far as these yields enforce the order).
//   - `starve tN us` (chaos mode) parks tN for us microseconds in a blocking
//     region; the others keep running on their cores (interpreter.cpp).
// Invariant: only atomics, no lock; any thread may read any slot.
#include <sched.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "exec.h"

namespace threadlab::fuzz::detail {

namespace {
constexpr int kBase = 16;
constexpr int kGateYields = 64;
}  // namespace

void Schedule::init(uint64_t seed) {
  std::array<int, kSlots> perm{};
  std::iota(perm.begin(), perm.end(), kBase);
  std::mt19937_64 rng(seed);
  for (size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng() % i]);
  for (unsigned i = 0; i < kSlots; ++i) {
    prio[i].store(perm[i], std::memory_order_relaxed);
    runnable[i].store(false, std::memory_order_relaxed);
  }
}

void Schedule::set_priority(unsigned slot, int p) {
  if (slot < kSlots) prio[slot].store(p, std::memory_order_relaxed);
}

void Schedule::idle(unsigned slot) {
  if (slot < kSlots) runnable[slot].store(false, std::memory_order_relaxed);
}

void Schedule::busy(unsigned slot) {
  if (slot < kSlots) runnable[slot].store(true, std::memory_order_relaxed);
}

void Schedule::gate(unsigned slot) {
  if (slot >= kSlots) return;
  for (int i = 0; i < kGateYields; ++i) {
    const int mine = prio[slot].load(std::memory_order_relaxed);
    bool higher = false;
    for (unsigned j = 0; j < kSlots && !higher; ++j)
      higher = j != slot && runnable[j].load(std::memory_order_relaxed) &&
               prio[j].load(std::memory_order_relaxed) > mine;
    if (!higher) return;
    sched_yield();
  }
}

}  // namespace threadlab::fuzz::detail
