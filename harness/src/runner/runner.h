// runner.h — runs scenario jobs, each in its own child process, at most
// `jobs` at a time, with the timeouts and cleanup of process.h.
//
// Invariants:
//   - A child's deadline is its timeout plus a grace for the watchdog's dump;
//     past it the runner kills the group itself and records `deadlock`, so a
//     hang is reported within timeout + 4 s whatever the child does.
//   - A finished run is handed to `on_done` at once (live progress); results
//     of other runs are never lost to one child's misbehaviour.
//   - On SIGINT/SIGTERM every running child's group is killed, the runs not
//     finished are dropped, and *interrupted is set: the caller writes a
//     partial report.
#pragma once

#include <threadlab/scenario.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "runner/run_record.h"

namespace threadlab {

struct Job {
  RunIdentity id;
  int cycles = -1, warmup = -1, threads = -1, iterations = -1;
  std::string skip_reason;  // non-empty: not run, reported `skip`
};

constexpr double kHardGraceS = 4.0;

std::vector<nlohmann::json> run_jobs(const std::vector<Job>& jobs, int parallel,
                                     const std::function<void(const nlohmann::json&, size_t done)>& on_done,
                                     bool* interrupted);

}  // namespace threadlab
