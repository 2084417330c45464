// selftest_lock_cycle.cpp — two threads take two runtime locks in opposite
// order (ABBA), with a gate that makes the deadlock certain. Proves the
// watchdog reads the runtime's wait-for graph and names the cycle.
#include <atomic>

#include "common.h"

namespace threadlab {
namespace {
void cycle(Context& ctx) {
  tl_adapter_handle a = 0, b = 0;
  if (!ctx.ok(ctx.rt->lock_new("lock-A", &a), "lock_new") || !ctx.ok(ctx.rt->lock_new("lock-B", &b), "lock_new"))
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

extern const Scenario selftest_lock_cycle = {
    "selftest-lock-cycle", {"selftest", "broken"}, TL_CAP_SPAWN | TL_CAP_LOCKS,
    "Deliberately broken: two threads take two runtime locks in opposite order. The runner must report "
    "deadlock and name the wait-for cycle from the runtime's lock owners.",
    {2, 1, 1, 0, 1}, Verdict::Deadlock, 3, nullptr, cycle, nullptr,
};
}  // namespace threadlab
