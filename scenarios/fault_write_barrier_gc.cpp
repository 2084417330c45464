// fault_write_barrier_gc.cpp — managed threads write into the write-barrier
// region (each first write to a page faults, marks its card and resumes)
// while another thread collects over and over, re-arming the region each
// time.
//
// Guards against: a barrier fault that loses the write or leaves the card
// clean (a generational collector then misses the pointer); a fault handler
// that races the collector's re-arming; a fault during a stop that never
// resumes.
// Checks: every write lands and its card is marked (provoke_fault, in a
// no-interrupt window so no collection re-arms in between); every
// collection completes (a timeout is `deadlock`); integrity.
#include <atomic>

#include "fault_common.h"

namespace threadlab {
namespace {

void cycle(Context& ctx) {
  const int writers = ctx.params.threads;
  std::atomic<int> done{0};
  scn::run_managed(ctx, writers + 1, "barrier", [&](int i) {
    if (i == writers) {  // the collector
      while (done.load() < writers && !ctx.has_findings()) {
        if (!ctx.call.collect()) return;
        ctx.progress();
      }
      return;
    }
    for (int k = 0; k < ctx.params.iterations && !ctx.has_findings(); ++k) {
      if (!scn::provoke(ctx, TL_FAULT_WRITE_BARRIER, "while the collector runs")) break;
      ctx.progress();
    }
    done.fetch_add(1);
  });
  scn::rearm_barrier(ctx);
}

}  // namespace

const RegisterScenario registered{{
    .name = "fault-write-barrier-gc",
    .tags = {"faults", "gc", "barrier"},
    .caps = TL_CAP_SPAWN | TL_CAP_FAULTS | TL_CAP_COLLECT,
    .description = "Managed threads take write-barrier faults (mark the card, unprotect, resume) on 8 threads while "
        "another thread collects and re-arms the barrier over and over. Guards against lost barrier writes, clean "
        "cards after a write, and fault handling that races the collector.",
    .defaults = {.threads = 8, .iterations = 400, .cycles = 6, .warmup = 2},
    .timeout_s = 60,
    .cycle = cycle,
}};

}  // namespace threadlab
