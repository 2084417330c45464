// race_point.cpp — the stall behind TL_RACE_POINT (see race_point.h).
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "race_point.h"

#include <sched.h>

#include <cstdint>
#include <cstdlib>

#include "status.h"
#include "threadlab/runtime.h"

namespace tl::race {

#if TL_RACE_POINTS_COMPILED
std::atomic<unsigned> g_permille{0};

namespace {
__attribute__((tls_model("initial-exec"))) thread_local uint64_t t_rng = 0;

uint64_t next(uint64_t seed_hint) {
  uint64_t x = t_rng ? t_rng : (seed_hint | 1) * 0x9E3779B97F4A7C15ull;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  t_rng = x;
  return x;
}
}  // namespace

void stall() {
  char here;
  const uint64_t r = next(reinterpret_cast<uintptr_t>(&here));
  if (r % 1000 >= g_permille.load(std::memory_order_relaxed)) return;
  if ((r >> 10) % 4 == 0) {
    sched_yield();  // let another thread run through the window
    return;
  }
  const unsigned spins = static_cast<unsigned>((r >> 12) % 20000);  // up to ~20 µs
  for (unsigned i = 0; i < spins; ++i) __asm__ volatile("" ::: "memory");
}
#endif

int configure(const char* value) {
  if (!value || !*value) return TL_OK;
  char* end = nullptr;
  const long n = std::strtol(value, &end, 10);
  if (*end != 0 || n < 0 || n > 1000)
    return fail(TL_EINVAL, "THREADLAB_RACE_WIDEN='%s': expected the stalls per 1000 race points, 0 to 1000", value);
#if TL_RACE_POINTS_COMPILED
  g_permille.store(static_cast<unsigned>(n), std::memory_order_relaxed);
  return TL_OK;
#else
  if (n == 0) return TL_OK;
  return fail(TL_ENOTSUP, "THREADLAB_RACE_WIDEN: this build has race points compiled out (release and tsan presets)");
#endif
}

}  // namespace tl::race
