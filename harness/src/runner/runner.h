// runner.h — runs scenario jobs, each in its own child process, at most
// `jobs` at a time, with the timeouts and cleanup of process.h.
//
// Invariants:
//   - A child's deadline is its timeout plus a grace for the watchdog's dump;
//     past it the runner kills the group itself and records `deadlock`, so a
//     hang is reported within timeout + 4 s whatever the child does. The
//     child's own watchdog calls it earlier, after its stall allowance
//     without a heartbeat (watchdog.h).
//   - A finished run is handed to `on_done` at once (live progress); results
//     of other runs are never lost to one child's misbehaviour.
//   - On SIGINT/SIGTERM every running child's group is killed, the runs not
//     finished are dropped, and *interrupted is set: the caller writes a
//     partial report.
#pragma once

#include <threadlab/scenario.h>

#include <functional>
#include <optional>
#include <string>
#include <nlohmann/json.hpp>
#include <vector>

#include "runner/run_record.h"

namespace threadlab {

struct Job {
  RunIdentity id;
  int cycles = -1, warmup = -1, threads = -1, iterations = -1;
  double stall_s = 0;       // heartbeat pause that is a hang (0: the timeout)
  std::string skip_reason;  // non-empty: not run, reported `skip`
  std::vector<std::string> env;  // NAME=VALUE for the child, replacing the parent's NAME
};

constexpr double kHardGraceS = 4.0;

// A run's timeout and stall allowance. Given --timeout, both are it.
// Otherwise the timeout is the scenario's, times the growth of the work
// asked for over its defaults (threads x iterations x cycles, each ratio
// at least 1, the product at most kMaxTimeoutGrowth), and the stall
// allowance stays the scenario's own timeout: a bigger run may take longer,
// but a hang is called as soon as it would have been at default size.
constexpr double kMaxTimeoutGrowth = 64;
struct RunTimeout {
  double timeout_s, stall_s;
};
RunTimeout run_timeout(const Scenario& s, const Job& j, std::optional<double> explicit_s);

// The GLIBC_TUNABLES a scenario child runs with, given the parent's
// (nullptr: unset): glibc's cache of joined threads' stacks switched off,
// so the leak probes count the stacks something still holds (runner.cpp
// says why); the parent's other tunables are kept, and its own
// stack_cache_size, if it sets one, wins. Returns "GLIBC_TUNABLES=...".
std::string child_glibc_tunables(const char* parent);

std::vector<nlohmann::json> run_jobs(const std::vector<Job>& jobs, int parallel,
                                     const std::function<void(const nlohmann::json&, size_t done)>& on_done,
                                     bool* interrupted);

}  // namespace threadlab
