// selftest_lock_cycle.cpp — two threads take two runtime locks in opposite
// order (ABBA), with a gate that makes the deadlock certain. Proves the
// watchdog reads the runtime's wait-for graph and names the cycle.
#include <atomic>

#include "common.h"

namespace threadlab {
namespace {
void cycle(Context& ctx) {
  tl_adapter_handle a = 0, b = 0;
  if (!ctx.call.lock_new("lock-A", &a) || !ctx.call.lock_new("lock-B", &b))
    return;
  scn::Gate gate;
  std::atomic<int> holding{0};
  scn::run_managed(ctx, 2, "abba", [&](int i) {
    tl_adapter_handle first = i == 0 ? a : b, second = i == 0 ? b : a;
    ctx.rt->lock(first);
    gate.advance_to(++holding);
    gate.wait_for(2);  // both hold their first lock
    ctx.rt->lock(second);
  });
}
}  // namespace

const RegisterScenario registered{{
    .name = "selftest-lock-cycle",
    .tags = scn::kSelftestTags,
    .caps = TL_CAP_SPAWN | TL_CAP_LOCKS,
    .description = "Deliberately broken: two threads take two runtime locks in opposite order. The runner must "
        "report deadlock and name the wait-for cycle from the runtime's lock owners.",
    .defaults = scn::one_cycle(2),
    .expected = Verdict::Deadlock,
    .timeout_s = 3,
    .cycle = cycle,
}};
}  // namespace threadlab
