// fault_during_stop.cpp — threads overflow and take write-barrier faults
// while the world is stopped and restarted over and over, and collections
// re-arm the barrier.
//
// Guards against: a fault handler that a stop lands on half-way (a thread
// stopped with its yellow zone open, or between marking a card and
// unprotecting its page), a stop that waits forever for a thread inside its
// fault handler, and unwinding that leaves the signal mask of the handler
// behind (the next stop's signal never arrives).
// Checks: every stop completes (a timeout is `deadlock` with the runtime's
// diagnosis); every fault is recovered; integrity.
#include <atomic>

#include "fault_common.h"
#include "world.h"

namespace threadlab {
namespace {

void cycle(Context& ctx) {
  const int workers = ctx.params.threads;
  std::atomic<int> done{0};
  scn::run_managed(ctx, workers + 1, "fault-stop", [&](int i) {
    if (i == workers) {  // the stopper
      for (int round = 0; done.load() < workers && !ctx.has_findings(); ++round) {
        if (!scn::stop_world(ctx, "while threads fault")) return;
        if (!scn::restart_world(ctx)) return;
        if (round % 8 == 7 && !ctx.call.collect()) return;
        ctx.progress();
      }
      return;
    }
    static const int kinds[3] = {TL_FAULT_STACK_OVERFLOW, TL_FAULT_WRITE_BARRIER, TL_FAULT_NATIVE_OVERFLOW};
    for (int k = 0; k < ctx.params.iterations && !ctx.has_findings(); ++k) {
      if (!scn::provoke(ctx, kinds[(k + i) % 3], "during stop-the-world")) break;
      ctx.progress();
    }
    done.fetch_add(1);
  });
  scn::rearm_barrier(ctx);
}

}  // namespace

const RegisterScenario registered{{
    .name = "fault-during-stop",
    .tags = {"faults", "suspend", "overflow", "barrier"},
    .caps = TL_CAP_SPAWN | TL_CAP_FAULTS | TL_CAP_SUSPEND | TL_CAP_COLLECT,
    .description = "Threads overflow and take write-barrier faults while another thread stops and restarts the "
        "world (and collects) over and over. Guards against stops that land inside a half-handled fault, stops "
        "that wait forever for a thread in its fault handler, and unwinds that leave the handler's signal mask.",
    .defaults = {.threads = 6, .iterations = 300, .cycles = 5, .warmup = 1},
    .timeout_s = 90,
    .cycle = cycle,
}};

}  // namespace threadlab
