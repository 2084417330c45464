// selftest_fd_leak.cpp — every managed thread opens a per-thread kernel
// handle (an eventfd on Linux) and exits without closing it. Proves the
// probes catch a per-thread handle leak and name the fd kind and the fds.
#include "common.h"
#include "scenario_os.h"

namespace threadlab {
namespace {
void cycle(Context& ctx) {
  scn::run_managed(ctx, ctx.params.threads, "leaker", [](int) { scn::open_thread_handle(); });
}
}  // namespace

const RegisterScenario registered{{
    .name = "selftest-fd-leak",
    .tags = scn::kSelftestTags,
    .caps = TL_CAP_SPAWN,
    .description = "Deliberately broken: each managed thread opens a per-thread kernel handle (eventfd on Linux) "
        "and never closes it. The runner must report leak naming the fd kind and the new fds.",
    .defaults = {.threads = 2, .iterations = 1, .cycles = 12, .warmup = 2},
    .expected = Verdict::Leak,
    .timeout_s = 10,
    .cycle = cycle,
}};
}  // namespace threadlab
