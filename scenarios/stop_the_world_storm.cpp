// stop_the_world_storm.cpp — stop and restart the world over and over while
// threads sit in every state: spinning in managed code with and without
// safepoint polls, inside malloc, inside no-interrupt windows, blocked in a
// syscall, in and out of foreign code, being created and exiting, and
// foreign threads being adopted (and exiting, so dead records wait to be
// freed).
//
// Guards against: lost resumes (a target sleeps forever), suspend signals
// sent to exiting threads or lost without a resend, threads that run
// managed code while the world is stopped, and a stopper that calls malloc
// or free while the world is stopped (freeing dead records, say): every
// thread shares one malloc lock here, so a thread stopped inside malloc
// makes that stopper wait forever.
// Each round: an observed stop — the driver wakes blocked threads, nests a
// second stop now and then, reads the runtime's ledger — then a burst of
// back-to-back stops and restarts (where a resume can race the target's
// wait). Every stop, burst ones included, snapshots every thread's managed
// steps twice and checks them.
// Checks: every stop completes (a timeout is `deadlock` with the runtime's
// diagnosis; a lost thread shows as the next stop's timeout); no thread took
// a managed step while stopped; no thread was stopped inside a no-interrupt
// window (`invariant`); after the last restart every thread moves
// on. The driver allocates nothing while the world is stopped.
// The members that poll safepoints, hold no-interrupt windows, block in a
// syscall and go in and out of foreign code need regions (optional): without
// it the crowd is the spinning, malloc, churning and adopting members, and
// every check but the no-interrupt window's runs on them.
#include <sched.h>

#include <algorithm>
#include <vector>

#include "common.h"
#include "crowd.h"
#include "scenario_os.h"
#include "world.h"

namespace threadlab {
namespace {

// One checked stop; false when it found something. Every stop is checked,
// not a sample: the crowd's managed steps are snapshotted right after the
// stop and again just before the restart, and must not move in between, and
// no member may be stopped inside its no-interrupt window. An observed stop
// (observed = true) also wakes the blocked members, nests a second stop now
// and then, reads the runtime's ledger while stopped, and leaves a longer
// window for a violation to show; a burst stop restarts almost at once,
// where a resume can race the target's wait.
bool checked_stop(Context& ctx, scn::Crowd& crowd, int round, bool observed, std::vector<uint64_t>& before,
                  std::vector<uint64_t>& during) {
  if (!scn::stop_world(ctx, observed ? "observed" : "burst")) return false;
  const int in_window = crowd.first_in_window();
  crowd.snapshot(before);
  const bool nested = observed && round % 4 == 3;
  if (observed) {
    crowd.poke();  // blocked threads wake and try to return to managed code
    if (nested && scn::stop_world(ctx, "nested")) ctx.rt->resume_all();  // inner resume: still stopped
    if (ctx.rt->caps & TL_CAP_COUNTERS) {
      tl_adapter_counter c[32];
      size_t n = 0;
      ctx.rt->counters(c, 32, &n);  // the ledger read while stopped
    }
  }
  // A window for a violation to show; a burst checks only the moment
  // between its two snapshots, so it stays a burst.
  for (int i = 0; i < (observed ? 64 : 0); ++i) sched_yield();
  crowd.snapshot(during);
  if (!scn::restart_world(ctx)) return false;
  if (in_window >= 0) {
    crowd.report_stopped_in_window(in_window);
    return false;
  }
  return crowd.unchanged(before, during, nested ? "the world was stopped (after a nested resume)"
                                         : observed ? "the world was stopped"
                                                    : "the world was stopped (a burst stop)");
}

void cycle(Context& ctx) {
  using scn::Kind;
  scn::share_one_malloc_lock();
  const std::vector<Kind> kinds =
      scn::has_cap(ctx, TL_CAP_REGIONS)
          ? std::vector<Kind>{Kind::Spin,    Kind::Poll,    Kind::Malloc, Kind::Window,
                              Kind::Blocked, Kind::Foreign, Kind::Churn,  Kind::Adopting}
          : std::vector<Kind>{Kind::Spin, Kind::Malloc, Kind::Churn, Kind::Adopting};
  // --threads is the crowd's size: spread over the kinds (at least one of
  // each), not that many of every kind. The count per kind is the full
  // crowd's (eight kinds) with or without regions: a crowd without the
  // region members is smaller, not one with twice the adopting and churning
  // members (which, with the malloc members holding the one arena lock,
  // starve each other on a loaded two-core machine: bdwgc at --threads 64,
  // sixteen of each, had not finished after three minutes).
  constexpr int n_kinds = 8;
  auto* crowd = scn::Crowd::start(ctx, kinds, std::max(1, (ctx.params.threads + n_kinds - 1) / n_kinds));
  // `during` keeps the last observed stop's snapshot: the final check waits
  // for every member to move past it, and only an observed stop pokes the
  // blocked members awake (a burst's snapshot would wait on them forever).
  std::vector<uint64_t> before, during, burst_before, burst_during;
  crowd->snapshot(before);
  crowd->snapshot(during);
  crowd->snapshot(burst_before);
  crowd->snapshot(burst_during);
  if (crowd->ok()) crowd->wait_running();
  bool ok = crowd->ok();
  for (int round = 0; round < ctx.params.iterations && ok && !ctx.has_findings(); ++round) {
    ok = checked_stop(ctx, *crowd, round, true, before, during);
    ctx.progress();
    for (int k = 0; k < 4 && ok; ++k) ok = checked_stop(ctx, *crowd, round, false, burst_before, burst_during);
  }
  if (ok && !ctx.has_findings()) crowd->wait_progress_past(during);
  crowd->finish();
}

}  // namespace

const RegisterScenario registered{{
    .name = "stop-the-world-storm",
    .tags = {"suspend", "stw"},
    .caps = TL_CAP_SPAWN | TL_CAP_SUSPEND | TL_CAP_FOREIGN_CALLBACK,
    .optional_caps = TL_CAP_REGIONS,
    .description = "Stops and restarts the world over and over while threads spin in managed code (with and without "
        "safepoint polls), sit in malloc, hold no-interrupt windows, block in a syscall, go in and out of foreign "
        "code, are created and exit, and are adopted and exit. Guards against lost resumes and suspend signals lost "
        "or sent to exiting threads (the stop never completes: deadlock with the runtime's diagnosis), threads that "
        "run managed code while the world is stopped or are stopped inside a no-interrupt window (invariant), and a "
        "stopper that frees or allocates while the world is stopped (every thread shares one malloc lock: "
        "deadlock). The polling, window, blocked and foreign threads need regions; without it the others run and "
        "every check but the no-interrupt window's is made.",
    .defaults = {.threads = 2, .iterations = 10, .cycles = 5, .warmup = 1},
    .cycle = cycle,
    .catches = {{.defect = "resume_without_generation", .verdict = Verdict::Deadlock},
                // Caught when a stop meets a churn member in its exit: one
                // cycle in three or so misses that on two cores (7 of 8
                // two-cycle runs caught it), so six cycles.
                {.defect = "suspend_ignores_exiting", .verdict = Verdict::Deadlock, .cycles = 6,
                 // once the exited thread was joined, pthread_kill reads its released slot
                 .may_crash_in = {"pthread_kill", "request_stop", "suspend_others"}},
                {.defect = "free_record_while_suspended", .verdict = Verdict::Deadlock},
                {.defect = "drop_every_nth_signal", .verdict = Verdict::Deadlock},
                {.defect = "suspend_during_no_interrupt", .verdict = Verdict::Invariant,
                 // the collector takes a stopped allocator's buffer away
                 .may_crash_in = {"tl_gc_alloc", "allocate"}}},
}};

}  // namespace threadlab
