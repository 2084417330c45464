// verb_leaks.cpp — `threadlab leaks SCENARIO`: one child runs the
// scenario's lifecycle --cycles times, sampling every counter after each
// cycle; prints the per-counter table (first/last after warm-up, slope,
// verdict) and the new fds/mappings behind any leak.
// Invariant: same child, probes and leak rule as `run` — only the cycle
// count differs — so a leak `leaks` reports is one `run` can report too.
#include <cstdio>

#include <fmt/format.h>
#include <threadlab/scenario.h>

#include <algorithm>

#include "adapters/builtin.h"
#include "runner/runner.h"
#include "report/terminal.h"
#include "cli/verbs.h"

namespace threadlab {

int verb_leaks(const LeaksOptions& o) {
  if (auto p = inject_env_problem(); !p.empty()) return usage_error(p);
  const Scenario* s = find_scenario(o.scenario);
  if (!s) return usage_error(fmt::format("unknown scenario '{}' (threadlab list shows them)", o.scenario));
  const tl_adapter* rt = find_adapter(o.adapter);
  if (!rt) return usage_error(fmt::format("unknown adapter '{}' (threadlab list shows them)", o.adapter));
  if (auto p = adapter_problem(rt); !p.empty()) return usage_error(fmt::format("adapter '{}' is unusable: {}", o.adapter, p));
  if (o.warmup >= o.cycles - 3)
    return usage_error(fmt::format("--warmup {} leaves fewer than 4 of {} cycles to judge", o.warmup, o.cycles));
  if (!check_report_paths(o.reports)) return 2;

  Job j;
  const double scaled = static_cast<double>(s->timeout_s) * o.cycles / std::max(1, s->defaults.cycles);
  j.id = {s->name, o.adapter, o.seed ? *o.seed : fresh_seed(), 0, s->tags, verdict_name(s->expected),
          o.timeout_s ? *o.timeout_s : std::max(60.0, scaled)};
  j.cycles = o.cycles;
  j.warmup = o.warmup;
  if (uint64_t missing = s->caps & ~rt->caps)
    j.skip_reason = fmt::format("adapter '{}' lacks capability {}", o.adapter, cap_names(missing));

  fmt::print("threadlab leaks: {} on adapter '{}', {} cycles ({} warm-up), seed {}\n", s->name, o.adapter, o.cycles,
             o.warmup, j.id.seed);
  std::fflush(stdout);
  const double t0 = mono_now(), started = unix_now();
  bool interrupted = false;
  auto runs = run_jobs({j}, 1, [&](const nlohmann::json& run, size_t n) { print_progress(run, n, 1, mono_now() - t0); },
                       &interrupted);
  if (!runs.empty()) print_leak_table(runs[0]);
  auto report = make_report("leaks", runs, interrupted, started, mono_now() - t0);
  std::string err;
  if (!write_reports(o.reports, report, &err)) return usage_error(err);
  int rc = exit_code_for(report);
  return interrupted && rc == 0 ? 2 : rc;
}

}  // namespace threadlab
