// fault_forwarded_storm.cpp — forwarded mode (faults decided on a dedicated
// handler thread, as a Mach exception server or a hybrid runtime does) under
// a storm of foreign callbacks that overflow and take write-barrier faults.
//
// Guards against: a handler thread that uses its own thread-locals instead
// of the faulting thread's record (seed 004: Racket on a hybrid runtime) —
// the faulting thread's own guard zone then looks like another thread's;
// forwarding that loses or mixes up requests when many threads fault at
// once.
// Checks: every overflow and barrier fault is recovered on the thread that
// took it; the runtime's scribble reports and canaries (integrity).
#include "fault_common.h"

namespace threadlab {
namespace {

void setup(Context& ctx) { scn::set_fault_mode(ctx, TL_FAULT_MODE_FORWARDED); }
void teardown(Context& ctx) { scn::set_fault_mode(ctx, TL_FAULT_MODE_DIRECT); }

void cycle(Context& ctx) {
  scn::run_foreign(ctx.params.threads, [&](int) {
    for (int k = 0; k < ctx.params.iterations && !ctx.has_findings(); ++k) {
      scn::in_callback(ctx, [&] {
        if (!scn::provoke(ctx, TL_FAULT_STACK_OVERFLOW, "forwarded, in a callback")) return;
        if (k % 3 == 2 && !scn::provoke(ctx, TL_FAULT_WRITE_BARRIER, "forwarded, in a callback")) return;
        if (k % 4 == 3) scn::provoke(ctx, TL_FAULT_NATIVE_OVERFLOW, "forwarded, in a callback");
      });
      ctx.progress();
    }
  });
  scn::rearm_barrier(ctx);
}

}  // namespace

const RegisterScenario registered{{
    .name = "fault-forwarded-storm",
    .tags = {"faults", "forwarded", "foreign", "callback"},
    .caps = TL_CAP_FOREIGN_CALLBACK | TL_CAP_FAULTS,
    .description = "Faults are decided on a dedicated handler thread while foreign threads call back and overflow or "
        "take write-barrier faults. Guards against a handler that uses its own thread-locals instead of the "
        "faulting thread's record (seed 004) and forwarding that loses requests under load.",
    .defaults = {.threads = 8, .iterations = 40, .cycles = 6, .warmup = 2},
    .timeout_s = 60,
    .setup = setup,
    .cycle = cycle,
    .teardown = teardown,
    .catches = {{.defect = "handler_uses_own_tls", .verdict = Verdict::Scribble, .cycles = 1}},
}};

}  // namespace threadlab
