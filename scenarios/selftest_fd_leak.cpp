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

extern const Scenario selftest_fd_leak = {
    "selftest-fd-leak", {"selftest", "broken"}, TL_CAP_SPAWN,
    "Deliberately broken: each managed thread opens a per-thread kernel handle (eventfd on Linux) and never "
    "closes it. The runner must report leak naming the fd kind and the new fds.",
    {2, 1, 12, 2, 1}, Verdict::Leak, 10, nullptr, cycle, nullptr,
};
}  // namespace threadlab
