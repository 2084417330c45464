// watchdog.h — the in-child watchdog. It reads the run's heartbeat (cycles
// done plus the operations scenarios count with ctx.progress) and ends a run
// that has stopped moving, or whose time is up, after dumping every thread
// (record state from the adapter, what each waits on, a native backtrace,
// and any wait-for cycle among runtime locks) onto the result channel.
//
// The rule (docs/report-schema.md, "Deadlock or timeout"):
//   - no heartbeat for `stall_ms` -> "watchdog" event, dump: `deadlock`;
//   - at `time_up_ms`, no heartbeat in the last `recent_ms` -> the same;
//   - at `time_up_ms`, still beating -> "timeout" event with the progress
//     made, then the dump (evidence; a wait-for cycle in it still makes the
//     run a deadlock).
//
// Invariants:
//   - It fires below the run's timeout (the runner's hard kill comes later),
//     so a hang is reported with its dump, not just as a kill.
//   - The first line it writes (watchdog/timeout) is formatted without
//     allocating: the dump after it may block on malloc's lock for good.
//   - The adapter's thread list is read from a helper thread with a
//     deadline: a registry lock held by a stuck thread costs the dump its
//     record states, never the dump itself.
//   - Reading the heartbeat is wait-free; nothing here runs in a signal
//     handler (the handler part is in thread_dump_linux.cpp).
#pragma once
#include <threadlab/adapter.h>

#include <threadlab/scenario.h>

#include <nlohmann/json.hpp>

namespace threadlab {
constexpr int kWatchdogExit = 70;  // exit status after a dump

struct WatchdogPlan {
  int time_up_ms = 0;  // fire here at the latest
  int stall_ms = 0;    // fire earlier once the heartbeat has not moved this long
  int recent_ms = 0;   // at time-up: moved within this window -> timeout
};
// The plan for a run of `timeout_s` whose heartbeat may pause for at most
// `stall_s` (<= timeout_s; 0: timeout_s) before it is a hang.
WatchdogPlan watchdog_plan(double timeout_s, double stall_s);
// `heartbeat` (may be null) outlives the watchdog.
void watchdog_start(const WatchdogPlan& plan, const tl_adapter* rt, const Context* heartbeat);
// The driver finished a cycle: a heartbeat, and the count the report shows.
void watchdog_cycle_done();
void watchdog_stop();
// Build the dump (used by the watchdog; exposed for tests).
nlohmann::json collect_dump(const tl_adapter* rt);
// One thread of a dump, in the report's shape (docs/report-schema.md);
// `record` is the adapter's view of it, or null.
struct ThreadSnapshot;
nlohmann::json dump_thread_json(const ThreadSnapshot& t, const nlohmann::json& record);
}  // namespace threadlab
