// selftest_hang.cpp — managed threads block forever on a condition nobody
// signals, and the driver joins them. Proves the watchdog dumps every
// thread (state, what it waits on, backtrace) and the verdict is deadlock
// within the timeout plus the runner's grace.
#include <condition_variable>
#include <mutex>

#include "common.h"

namespace threadlab {
namespace {
std::mutex g_mu;
std::condition_variable g_never;
[[gnu::noinline]] void wait_forever() {
  std::unique_lock<std::mutex> lock(g_mu);
  g_never.wait(lock, [] { return false; });
}
void cycle(Context& ctx) { scn::run_managed(ctx, 3, "sleeper", [](int) { wait_forever(); }); }
}  // namespace

const RegisterScenario registered{{
    .name = "selftest-hang",
    .tags = scn::kSelftestTags,
    .caps = TL_CAP_SPAWN,
    .description = "Deliberately broken: three managed threads wait forever on a condition nobody signals and the "
        "driver joins them. The runner must report deadlock with every thread's backtrace.",
    .defaults = scn::one_cycle(3),
    .expected = Verdict::Deadlock,
    .timeout_s = 3,
    .cycle = cycle,
}};
}  // namespace threadlab
