// lock_order_predicted.cpp — two threads take two runtime locks in opposite
// orders, one after the other, so the run never hangs. Proves the runtime's
// acquired-before graph predicts the deadlock anyway: the run is reported
// `deadlock` with the predicted cycle (evidence.predicted_cycles), not
// passed because the schedule was lucky.
#include "common.h"

namespace threadlab {
namespace {
void cycle(Context& ctx) {
  tl_adapter_handle a = 0, b = 0;
  if (!ctx.call.lock_new("order-A", &a) || !ctx.call.lock_new("order-B", &b)) return;
  for (int i = 0; i < 2; ++i) {
    // One thread at a time: the first takes A then B, the second B then A.
    scn::run_managed(ctx, 1, i == 0 ? "takes-A-then-B" : "takes-B-then-A", [&](int) {
      tl_adapter_handle first = i == 0 ? a : b, second = i == 0 ? b : a;
      ctx.call.lock(first);
      ctx.call.lock(second);
      ctx.rt->unlock(second);
      ctx.rt->unlock(first);
      ctx.progress();
    });
  }
  ctx.rt->lock_free(a);
  ctx.rt->lock_free(b);
}
}  // namespace

const RegisterScenario registered{{
    .name = "selftest-lock-order",
    .tags = scn::kSelftestTags,
    .caps = TL_CAP_SPAWN | TL_CAP_LOCKS,
    .description = "Deliberately broken: two threads take two runtime locks in opposite orders, one after the "
        "other, so nothing hangs. The runtime's lock-order graph must predict the deadlock: verdict deadlock, "
        "with the cycle in evidence.predicted_cycles.",
    .defaults = scn::one_cycle(2),
    .expected = Verdict::Deadlock,
    .timeout_s = 10,
    .cycle = cycle,
}};
}  // namespace threadlab
