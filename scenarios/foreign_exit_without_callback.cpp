// foreign_exit_without_callback.cpp — foreign threads that never call back
// start and exit; the runtime must not notice them at all.
//
// Guards against: a runtime that adopts or allocates for every thread it can
// see (via a pthread key destructor, a TLS constructor, an atfork or signal
// hook) and then leaks or trips over threads that never entered it.
// Checks: the runtime's own counters are identical before and after the
// wave (nothing else runs meanwhile); leak counters per cycle.
#include <fmt/format.h>

#include "common.h"

namespace threadlab {
namespace {

std::vector<tl_adapter_counter> snapshot(Context& ctx) {
  std::vector<tl_adapter_counter> c(32);
  size_t n = 0;
  if (!(ctx.rt->caps & TL_CAP_COUNTERS) || !ctx.call.counters(c.data(), c.size(), &n)) return {};
  c.resize(std::min(n, c.size()));
  return c;
}

void cycle(Context& ctx) {
  auto before = snapshot(ctx);
  scn::run_foreign(ctx.params.threads, [&](int) {
    volatile uint64_t x = 0;  // some work of its own, no callback
    for (int k = 0; k < ctx.params.iterations * 100; ++k) x = x + static_cast<uint64_t>(k);
  });
  auto after = snapshot(ctx);
  for (size_t i = 0; i < before.size() && i < after.size(); ++i)
    if (before[i].value != after[i].value)
      ctx.finding(Verdict::Invariant,
                  fmt::format("threads that never called back changed the runtime's {}: {} -> {}", before[i].name,
                              before[i].value, after[i].value));
}

}  // namespace

const RegisterScenario registered{{
    .name = "foreign-exit-without-callback",
    .tags = {"foreign", "lifecycle", "leak"},
    .description = "Foreign threads that never call back start and exit. Guards against runtimes that allocate or "
        "adopt for every thread they can see (key destructors, TLS constructors, signal hooks) and leak or trip "
        "over threads that never entered managed code.",
    .defaults = {.iterations = 10},
    .cycle = cycle,
}};

}  // namespace threadlab
