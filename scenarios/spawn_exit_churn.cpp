// spawn_exit_churn.cpp — managed threads spawned and joined in waves, some
// spawning children of their own, each using its value stack.
//
// Guards against: records, stacks or kernel handles not released at thread
// exit (leaks), thread ids reused, and corruption of a fresh thread's stacks
// by a dying one reusing the same slot (scribble).
// Checks: ids of a wave all above every id of the previous wave (ids are
// never reused); leak counters per cycle; tagged value-stack words per
// thread when the adapter offers value_stack (optional).
#include <algorithm>
#include <atomic>

#include <fmt/format.h>

#include "common.h"

namespace threadlab {
namespace {

std::atomic<uint64_t> g_prev_max{0};

void cycle(Context& ctx) {
  const int n = ctx.params.threads, m = ctx.params.iterations;
  const bool tagged = scn::has_cap(ctx, TL_CAP_VALUE_STACK);
  std::atomic<uint64_t> lo{UINT64_MAX}, hi{0};
  auto note_id = [&](uint64_t id) {
    uint64_t v = lo.load();
    while (id < v && !lo.compare_exchange_weak(v, id)) {
    }
    v = hi.load();
    while (id > v && !hi.compare_exchange_weak(v, id)) {
    }
  };
  scn::run_managed(ctx, n, "churn", [&](int i) {
    note_id(ctx.rt->self());
    ctx.progress();
    const uint64_t tag = 0x100 + static_cast<uint64_t>(i);
    for (int k = 0; tagged && k < m / 10 + 1 && !ctx.has_findings(); ++k)
      if (scn::tagged_push(ctx, tag, 8)) scn::tagged_pop_check(ctx, tag, 8, "churn thread");
    if (i % 2 == 0)  // a nested spawn from a non-initial thread
      scn::run_managed(ctx, 1, "churn-child", [&](int) {
        note_id(ctx.rt->self());
        if (tagged && scn::tagged_push(ctx, tag + 0x1000, 4)) scn::tagged_pop_check(ctx, tag + 0x1000, 4, "nested thread");
      });
  });
  if (lo.load() != UINT64_MAX && lo.load() <= g_prev_max.load())
    ctx.finding(Verdict::Invariant, fmt::format("thread id {} reused: ids up to {} were handed out in an earlier wave",
                                                lo.load(), g_prev_max.load()));
  g_prev_max = std::max(g_prev_max.load(), hi.load());
}

}  // namespace

const RegisterScenario registered{{
    .name = "spawn-exit-churn",
    .tags = {"threads", "lifecycle", "leak"},
    .caps = TL_CAP_SPAWN,
    .optional_caps = TL_CAP_VALUE_STACK,
    .description = "Waves of managed threads are spawned and joined, half of them spawning a child of their own, "
        "each using its value stack when the adapter has one. Guards against records, stacks or per-thread kernel "
        "handles that outlive their thread (leaks), reused thread ids, and (with value_stack: tagged words) a new "
        "thread's stacks scribbled by a dying one.",
    .defaults = {.threads = 8},
    .cycle = cycle,
}};

}  // namespace threadlab
