// watchdog.h — the in-child watchdog: if the scenario is still running when
// it fires, it dumps every thread (record state from the adapter, what each
// waits on, a native backtrace, and any wait-for cycle among runtime locks)
// onto the result channel and ends the process.
//
// Invariants:
//   - It fires below the run's timeout (the runner's hard kill comes later),
//     so a hang is reported with its dump, not just as a kill.
//   - The adapter's thread list is read from a helper thread with a
//     deadline: a registry lock held by a stuck thread costs the dump its
//     record states, never the dump itself.
//   - Nothing here runs in a signal handler; the handler part is in
//     thread_dump_linux.cpp.
#pragma once
#include <threadlab/adapter.h>

#include <nlohmann/json.hpp>

namespace threadlab {
constexpr int kWatchdogExit = 70;  // exit status after a dump
void watchdog_start(int fire_after_ms, const tl_adapter* rt);
void watchdog_stop();
// Build the dump (used by the watchdog; exposed for tests).
nlohmann::json collect_dump(const tl_adapter* rt);
// One thread of a dump, in the report's shape (docs/report-schema.md);
// `record` is the adapter's view of it, or null.
struct ThreadSnapshot;
nlohmann::json dump_thread_json(const ThreadSnapshot& t, const nlohmann::json& record);
}  // namespace threadlab
