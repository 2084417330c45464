// race_point.h — race widening at marked race points (in the manner of
// FoundationDB's BUGGIFY): where two threads' steps can interleave badly,
// a build with injection compiled in can stall one of them for a few
// microseconds, so a window that is two instructions wide on an idle
// machine is hit on every busy run. Off unless THREADLAB_RACE_WIDEN=<n>
// (stall at n of every 1000 race points passed) is set when tl_init runs;
// the scale gate and the soak set it.
//
// Invariants:
//   - Off, a race point is one relaxed load and a predicted branch; in the
//     `release` and `tsan` presets it is nothing (sanitizer_policy.h).
//   - Signal-path safe: the stall uses initial-exec TLS, a busy loop and
//     sched_yield; no lock, no allocation. Race points sit in signal
//     handlers too.
//   - A stall never changes what the code does, only when: a test that
//     fails with race widening on found a real race.
#pragma once
#include <atomic>

#include "sanitizer_policy.h"

namespace tl::race {

#if TL_RACE_POINTS_COMPILED
extern std::atomic<unsigned> g_permille;
void stall();  // signal-safe
#define TL_RACE_POINT()                                                            \
  do {                                                                             \
    if (__builtin_expect(::tl::race::g_permille.load(std::memory_order_relaxed) != 0, 0)) \
      ::tl::race::stall();                                                         \
  } while (0)
#else
#define TL_RACE_POINT() \
  do {                  \
  } while (0)
#endif

// Read THREADLAB_RACE_WIDEN (tl_init). TL_EINVAL with a message for a
// value that is not a number from 0 to 1000.
int configure(const char* value);

}  // namespace tl::race
