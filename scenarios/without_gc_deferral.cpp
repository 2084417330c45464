// without_gc_deferral.cpp — a collection requested while another thread is
// inside a without-GC scope must wait, and then run exactly once when the
// last scope ends.
//
// Guards against: deferred collections that are dropped (seed 000: "this
// doesn't happen yet") or run twice, or while a scope is still open.
// Per round, with a gate for a fixed interleaving: thread A opens a scope
// (nested twice); thread B (a foreign thread calling back) requests two
// collections, both deferred; A closes the inner scope (nothing may run), then
// the outer one. Checks, from the runtime's collection count: no collection
// ran inside the scope, exactly one ran when it closed (`invariant`).
#include <atomic>

#include <fmt/format.h>

#include "common.h"

namespace threadlab {
namespace {

uint64_t collections(Context& ctx) {
  tl_adapter_heap_stats s{};
  ctx.call.heap_stats(&s);
  return s.collections;
}

void round(Context& ctx) {
  scn::Gate gate;
  uint64_t at_open = 0, at_inner = 0;
  scn::run_foreign(2, [&](int i) {
    if (!ctx.call.callback_enter()) {
      gate.advance_to(2);
      return;
    }
    if (i == 0) {  // A: holds the scope
      ctx.call.without_gc_begin();
      ctx.call.as("nested").without_gc_begin();
      at_open = collections(ctx);
      gate.advance_to(1);
      gate.wait_for(2);
      ctx.call.as("inner").without_gc_end();
      at_inner = collections(ctx);
      ctx.call.as("outer").without_gc_end();
    } else {  // B: asks for collections while the scope is open
      gate.wait_for(1);
      for (int k = 0; k < 2; ++k) {
        int rc = ctx.rt->collect();
        if (rc != TL_ADAPTER_DEFERRED)
          ctx.finding(Verdict::Invariant, fmt::format("collect inside another thread's without-GC scope returned {} "
                                                      "instead of deferring", rc));
      }
      gate.advance_to(2);
    }
    ctx.call.callback_exit();
  });
  const uint64_t after = collections(ctx);
  if (ctx.has_findings()) return;
  if (at_inner != at_open)
    ctx.finding(Verdict::Invariant,
                fmt::format("{} collection(s) ran while a without-GC scope was still open", at_inner - at_open));
  else if (after != at_open + 1)
    ctx.finding(Verdict::Invariant,
                fmt::format("a collection requested inside a without-GC scope ran {} time(s) when the scope ended "
                            "(expected exactly once)",
                            after - at_open));
}

void cycle(Context& ctx) {
  for (int i = 0; i < ctx.params.iterations && !ctx.has_findings(); ++i) round(ctx);
}

}  // namespace

const RegisterScenario registered{{
    .name = "without-gc-deferral",
    .tags = {"gc"},
    .caps = TL_CAP_SPAWN | TL_CAP_FOREIGN_CALLBACK | TL_CAP_COLLECT | TL_CAP_HEAP,
    .description = "A collection requested from another thread while a without-GC scope is open must be deferred "
        "and run exactly once when the outermost scope ends. Guards against deferred collections that are dropped "
        "or run twice (invariant).",
    .defaults = {.threads = 2, .iterations = 10, .cycles = 5, .warmup = 1},
    .timeout_s = 20,
    .cycle = cycle,
    .catches = {{.defect = "deferred_gc_dropped", .verdict = Verdict::Invariant, .cycles = 1}},
}};

}  // namespace threadlab
