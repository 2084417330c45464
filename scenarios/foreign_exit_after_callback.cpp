// foreign_exit_after_callback.cpp — foreign threads call back a few times,
// then exit; the runtime must release what it adopted for them.
//
// Guards against: an adopted record and its stacks never released when the
// foreign thread exits (missing key destructor; Go dropm, Mono
// mono_thread_detach_if_exiting) — a leak per foreign thread — and a later
// callback on the same thread re-adopting instead of reusing its record.
// Checks: the thread id is the same for every callback of one thread;
// leak counters (records, stacks, mappings) per cycle; tagged value-stack
// words in every callback when the adapter offers value_stack (optional).
#include <fmt/format.h>

#include "common.h"

namespace threadlab {
namespace {

void cycle(Context& ctx) {
  scn::run_foreign(ctx.params.threads, [&](int i) {
    uint64_t first = 0;
    for (int k = 0; k < ctx.params.iterations && !ctx.has_findings(); ++k) {
      const bool entered = scn::in_callback(ctx, [&] {
        uint64_t id = ctx.rt->self();
        if (k == 0) first = id;
        if (id != first)
          ctx.finding(Verdict::Invariant,
                      fmt::format("foreign thread {} ran callback {} as thread {} after starting as {}: record not "
                                  "reused",
                                  i, k, id, first),
                      id);
        if (!scn::has_cap(ctx, TL_CAP_VALUE_STACK)) return;
        const uint64_t tag = 0x300 + static_cast<uint64_t>(i);
        if (scn::tagged_push(ctx, tag, 4)) scn::tagged_pop_check(ctx, tag, 4, "exiting foreign thread");
      });
      if (!entered) return;
    }
  });
}

}  // namespace

const RegisterScenario registered{{
    .name = "foreign-exit-after-callback",
    .tags = {"foreign", "callback", "lifecycle", "leak"},
    .caps = TL_CAP_FOREIGN_CALLBACK,
    .optional_caps = TL_CAP_VALUE_STACK,
    .description = "Foreign threads call back a few times and then exit. Guards against adopted records and their "
        "stacks that are never released at foreign-thread exit (a leak per thread: Go dropm, Mono "
        "detach-if-exiting) and callbacks that re-adopt instead of reusing the thread's record. With value_stack "
        "each callback also checks tagged words on its value stack.",
    .defaults = {.iterations = 3},
    .cycle = cycle,
    .catches = {{.defect = "adopted_record_not_released", .verdict = Verdict::Leak, .cycles = 10}},
}};

}  // namespace threadlab
