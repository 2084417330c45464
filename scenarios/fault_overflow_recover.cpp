// fault_overflow_recover.cpp — managed recursion overflows its value stack
// (and every tenth time its native stack) and recovers, over and over, on
// many threads at once.
//
// Guards against: a guard zone left open after a recovery, so the next
// overflow runs on into the memory beyond (HotSpot yellow-zone
// re-protection, JDK-8309209); a fault handler without its own stack, for
// which an overflow of the native stack is fatal (Go #22930, #43853); an
// unwind that loses the value stack's depth.
// Scale: up to 8 threads each overflows --iterations times; more threads
// share 8 x --iterations per cycle between them.
// Checks: every overflow comes back as the runtime's overflow error with the
// value stack at its depth (provoke_fault); tagged value-stack words survive
// the recoveries; canaries and the runtime's scribble reports (integrity).
#include <algorithm>

#include "fault_common.h"

namespace threadlab {
namespace {

void cycle(Context& ctx) {
  // --iterations overflows per thread at up to 8 threads; above that the
  // cycle's total (8 x iterations) is shared out, so the scale gate's 64
  // threads overflow all at once without a cycle taking 8 times as long.
  const int threads = ctx.params.threads;
  const int per_thread = threads <= 8 ? ctx.params.iterations : std::max(20, ctx.params.iterations * 8 / threads);
  scn::run_managed(ctx, threads, "overflow", [&](int i) {
    const uint64_t tag = 0x1100 + static_cast<uint64_t>(i);
    if (!scn::tagged_push(ctx, tag, 8)) return;
    for (int k = 0; k < per_thread && !ctx.has_findings(); ++k) {
      const int kind = k % 10 == 9 ? TL_FAULT_NATIVE_OVERFLOW : TL_FAULT_STACK_OVERFLOW;
      if (!scn::provoke(ctx, kind, "on a managed thread")) break;
      ctx.progress();
    }
    scn::tagged_pop_check(ctx, tag, 8, "overflowing thread");
  });
}

}  // namespace

const RegisterScenario registered{{
    .name = "fault-overflow-recover",
    .tags = {"faults", "overflow", "altstack"},
    .caps = TL_CAP_SPAWN | TL_CAP_FAULTS | TL_CAP_VALUE_STACK,
    .description = "Managed recursion overflows its value stack (every tenth time its native stack) and recovers, "
        "1,000 times per thread on 8 threads at once. Guards against guard zones left open after a recovery "
        "(HotSpot yellow zone) and fault handlers without a stack of their own (Go #22930).",
    .defaults = {.threads = 8, .iterations = 1000, .cycles = 3, .warmup = 1},
    .timeout_s = 120,
    .cycle = cycle,
    .catches = {{.defect = "guard_not_reprotected", .verdict = Verdict::Scribble, .cycles = 1},
                {.defect = "no_sigaltstack", .verdict = Verdict::Crash, .cycles = 1}},
}};

}  // namespace threadlab
