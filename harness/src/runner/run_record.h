// run_record.h — turning what a scenario child left behind (exit status,
// result channel, output) into one run object of the report schema
// (docs/report-schema.md).
//
// Invariants:
//   - The verdict follows the strongest evidence: the watchdog's "timeout"
//     (heartbeat still moving at time-up) -> timeout, unless its dump holds a
//     wait-for cycle or the scenario made a deadlock finding (deadlock) or a
//     worse finding came first; a watchdog "watchdog" event or dump, or the
//     runner's hard timeout -> deadlock; a fatal signal or crash lines ->
//     crash; otherwise the child's own result; no result at all -> crash
//     (signal) or fail (exit status).
//   - Stray processes left in the group turn a pass into fail: a scenario
//     must not leave processes behind.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "runner/process.h"

namespace threadlab {

struct RunIdentity {
  std::string scenario;
  std::string adapter;
  uint64_t seed = 0;
  int repeat = 0;
  std::vector<std::string> tags;
  std::string expected = "pass";
  double timeout_s = 0;
};

nlohmann::json run_skeleton(const RunIdentity& id);
// Fill verdict, reason, exit, evidence, counters from a finished child.
// `outside`: the child's threads as the kernel showed them before it was
// killed (null unless its own dump never came).
void finish_run(nlohmann::json& run, const Proc& p, bool hard_timeout, double duration_s,
                const nlohmann::json& outside = nullptr);
// One line describing the wait-for cycle, "" if none.
std::string describe_cycle(const nlohmann::json& cycle);

}  // namespace threadlab
