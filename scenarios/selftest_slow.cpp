// selftest_slow.cpp — slow, not stuck: managed threads work through far more
// steps than fit in the timeout, each step a short timed wait, and count
// every step with ctx.progress. Proves the watchdog tells a run that is still
// moving when its time is up (`timeout`, with the progress made) from one
// that stopped (`deadlock`, selftest-hang).
//
// Invariants:
//   - Every step ends in bounded time (a 20 ms timed wait nobody signals), so
//     the heartbeat moves about 50 times a second per thread until the kill.
//   - No step depends on another thread: nothing here can deadlock.
#include <time.h>

#include "common.h"

namespace threadlab {
namespace {
void cycle(Context& ctx) {
  scn::run_managed(ctx, ctx.params.threads, "plodder", [&](int) {
    for (int k = 0; k < ctx.params.iterations && !ctx.has_findings(); ++k) {
      const timespec step = {0, 20 * 1000 * 1000};
      nanosleep(&step, nullptr);  // one slow unit of work, not synchronisation
      ctx.progress();
    }
  });
}
}  // namespace

const RegisterScenario registered{{
    .name = "selftest-slow",
    .tags = scn::kSelftestTags,
    .caps = TL_CAP_SPAWN,
    .description = "Deliberately too slow: two managed threads each take 100000 steps of 20 ms (over half an hour) and "
        "report every step as progress. The runner must report timeout, with the progress made, not deadlock.",
    .defaults = {.threads = 2, .iterations = 100000, .cycles = 1, .warmup = 0},
    .expected = Verdict::Timeout,
    .timeout_s = 3,
    .cycle = cycle,
}};
}  // namespace threadlab
