// verb_run.cpp — `threadlab run`: select scenarios, run each (x repeat) in
// its own child, print progress and the summary, write the reports.
//
// Invariants:
//   - Every argument is validated before the first child starts: unknown
//     scenario/adapter/tag or an unwritable report path is exit 2 with no
//     files written.
//   - Without names or tags, scenarios tagged selftest or broken are left out.
//   - Without --adapter, every scenario runs on reference and then on
//     reference-hybrid: both suspension policies (same seeds on each).
//   - Without --timeout, a run's timeout grows with the work asked of it
//     (run_timeout, runner.h); a hang is still called after the scenario's
//     own timeout without a heartbeat.
//   - Without report flags, reports go to ./threadlab-reports/latest.*
//     ($THREADLAB_REPORT_DIR overrides the directory; ci/threadlab sets it
//     to build/reports); a directory that cannot be made is exit 2.
//   - Ctrl-C: children are killed and the finished runs are written as a
//     report marked partial; exit 1 if they hold findings, else 2.
#include <algorithm>

#include <cstdio>

#include <fmt/format.h>
#include <threadlab/scenario.h>

#include "adapters/builtin.h"
#include "runner/runner.h"
#include "report/terminal.h"
#include "cli/cli_support.h"
#include "cli/verbs.h"

namespace threadlab {
namespace {
bool excluded_by_default(const Scenario* s) {
  return std::any_of(s->tags.begin(), s->tags.end(), [](auto& t) { return t == "selftest" || t == "broken"; });
}
bool has_tag(const Scenario* s, const std::string& tag) {
  return std::find(s->tags.begin(), s->tags.end(), tag) != s->tags.end();
}
}  // namespace

int verb_run(const RunOptions& o) {
  if (auto p = inject_env_problem(); !p.empty()) return usage_error(p);
  std::vector<std::string> adapter_names;
  std::vector<const tl_adapter*> adapters;
  if (auto e = resolve_adapters(o.adapters, &adapter_names, &adapters); !e.empty()) return usage_error(e);

  std::vector<const Scenario*> chosen;
  for (auto& n : o.names) {
    const Scenario* s = find_scenario(n);
    if (!s) return usage_error(fmt::format("unknown scenario '{}' (threadlab list shows them)", n));
    chosen.push_back(s);
  }
  if (!o.tags.empty()) {
    for (auto& t : o.tags) {
      bool any = false;
      for (auto* s : all_scenarios())
        if (has_tag(s, t)) {
          any = true;
          if (o.names.empty() && std::find(chosen.begin(), chosen.end(), s) == chosen.end()) chosen.push_back(s);
        }
      if (!any) return usage_error(fmt::format("no scenario has tag '{}'", t));
    }
    if (!o.names.empty())  // names and tags: the named ones that carry a tag
      chosen.erase(std::remove_if(chosen.begin(), chosen.end(),
                                  [&](auto* s) {
                                    return std::none_of(o.tags.begin(), o.tags.end(),
                                                        [&](auto& t) { return has_tag(s, t); });
                                  }),
                   chosen.end());
  }
  if (o.names.empty() && o.tags.empty())
    for (auto* s : all_scenarios())
      if (!excluded_by_default(s)) chosen.push_back(s);

  ReportPaths paths = o.reports;
  if (paths.json.empty() && paths.junit.empty() && paths.html.empty()) {
    std::string dir = default_report_dir();
    if (std::string err; !make_report_dir(dir, &err)) return usage_error(err);
    paths = {dir + "/latest.json", dir + "/latest.xml", dir + "/latest.html"};
  }
  if (!check_report_paths(paths)) return 2;

  const uint64_t base_seed = o.seed ? *o.seed : fresh_seed();
  std::vector<Job> jobs;
  for (size_t a = 0; a < adapters.size(); ++a)
    for (auto* s : chosen)
      for (int r = 0; r < o.repeat; ++r) {
        Job j;
        j.threads = o.threads > 0 ? o.threads : o.scale > 1 ? s->defaults.threads * o.scale : -1;
        j.iterations = o.iterations;
        j.cycles = o.cycles;
        const RunTimeout t = run_timeout(*s, j, o.timeout_s);
        j.stall_s = t.stall_s;
        j.id = {s->name, adapter_names[a], base_seed + static_cast<uint64_t>(r), r, s->tags,
                verdict_name(s->expected), t.timeout_s};
        if (uint64_t missing = s->caps & ~adapters[a]->caps)
          j.skip_reason = fmt::format("adapter '{}' lacks capability {}", adapter_names[a], cap_names(missing));
        jobs.push_back(j);
      }

  std::string names;
  for (auto& n : adapter_names) names += (names.empty() ? "'" : ", '") + n + "'";
  fmt::print("threadlab run: {} run(s) on adapter{} {}, seed {}, {} job(s)\n", jobs.size(),
             adapter_names.size() > 1 ? "s" : "", names, base_seed, o.jobs);
  std::fflush(stdout);
  const double t0 = mono_now(), started = unix_now();
  bool interrupted = false;
  auto runs = run_jobs(
      jobs, o.jobs, [&](const nlohmann::json& run, size_t done) { print_progress(run, done, jobs.size(), mono_now() - t0); },
      &interrupted);
  auto report = make_report("run", runs, interrupted, started, mono_now() - t0);
  print_summary(report);
  std::string err;
  if (!write_reports(paths, report, &err)) return usage_error(err);
  for (auto* p : {&paths.json, &paths.junit, &paths.html})
    if (!p->empty()) fmt::print("report: {}\n", *p);
  int rc = exit_code_for(report);
  return interrupted && rc == 0 ? 2 : rc;
}

}  // namespace threadlab
