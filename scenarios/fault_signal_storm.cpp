// fault_signal_storm.cpp — a flood of unrelated signals (SIGCHLD, SIGURG,
// SIGPROF, SIGUSR2, from other threads and from another process) aimed at
// foreign threads while they are adopted, stopped, overflow and take
// write-barrier faults.
//
// Guards against: a runtime whose waits give up or spin on EINTR (a stop
// that times out, an ack lost), signal handlers that run on a half-switched
// stack or a half-built record during adoption, and fault recovery that a
// storm signal interrupts half-way (CoreCLR dotnet#44498: stack memory
// corrupted when suspension signals met a `while kill -SIGCHLD` loop).
// Checks: every callback, fault recovery and stop completes (a timeout is
// `deadlock`); tagged value-stack words survive; integrity; the storm
// really reached the threads (signals counted).
#include <atomic>
#include <condition_variable>
#include <mutex>

#include <fmt/format.h>

#include "fault_common.h"
#include "scenario_os.h"
#include "world.h"

namespace threadlab {
namespace {

void cycle(Context& ctx) {
  const int n = ctx.params.threads;
  scn::SignalStorm storm(2);
  std::atomic<int> registered{0}, done{0};
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;
  const uint64_t delivered_before = storm.delivered();
  std::thread stopper([&] {
    // A foreign thread that calls back to stop the world, so stops meet
    // threads in every phase of the storm.
    if (!scn::in_callback(ctx, [&] {
          while (done.load() < n && !ctx.has_findings()) {
            if (!scn::stop_world(ctx, "during a signal storm") || !scn::restart_world(ctx)) return;
            ctx.progress();
          }
        }))
      return;
  });
  scn::run_foreign(n, [&](int i) {
    storm.add_target(pthread_self(), scn::current_tid());
    if (registered.fetch_add(1) + 1 == n) storm.start_process_sender();
    const uint64_t tag = 0x5700 + static_cast<uint64_t>(i);
    for (int k = 0; k < ctx.params.iterations && !ctx.has_findings(); ++k) {
      scn::in_callback(ctx, [&] {  // the first one adopts, under the storm
        if (!scn::tagged_push(ctx, tag, 4)) return;
        if (!scn::provoke(ctx, k % 2 ? TL_FAULT_WRITE_BARRIER : TL_FAULT_STACK_OVERFLOW, "during a signal storm"))
          return;
        if (k % 5 == 4 && !scn::provoke(ctx, TL_FAULT_NATIVE_OVERFLOW, "during a signal storm")) return;
        scn::tagged_pop_check(ctx, tag, 4, "storm-hit thread");
      });
      ctx.progress();
    }
    // Targets stay alive until the storm has stopped: nobody signals a
    // thread that is gone. They wait blocked, not spinning: 64 spinning
    // threads on 2 cores kept a stop's target off the CPU past the suspend
    // timeout.
    if (done.fetch_add(1) + 1 == n) {
      storm.stop();
      std::lock_guard<std::mutex> lock(mu);
      stopped = true;
      cv.notify_all();
    } else {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return stopped; });
    }
  });
  stopper.join();
  storm.stop();
  scn::rearm_barrier(ctx);
  if (!ctx.has_findings() && storm.delivered() == delivered_before)
    ctx.finding(Verdict::Fail, "the signal storm delivered nothing: the scenario tested nothing");
}

}  // namespace

const RegisterScenario registered{{
    .name = "fault-signal-storm",
    .tags = {"faults", "signals", "foreign", "suspend"},
    .caps = TL_CAP_FOREIGN_CALLBACK | TL_CAP_FAULTS | TL_CAP_SUSPEND | TL_CAP_VALUE_STACK,
    .description = "Floods of SIGCHLD, SIGURG, SIGPROF and SIGUSR2 from other threads and another process hit "
        "foreign threads while they are adopted, stopped, overflow and take write-barrier faults. Guards against "
        "waits broken by EINTR and handlers that a storm interrupts half-way (CoreCLR dotnet#44498).",
    .defaults = {.threads = 4, .iterations = 40, .cycles = 5, .warmup = 1},
    .timeout_s = 90,
    .cycle = cycle,
}};

}  // namespace threadlab
