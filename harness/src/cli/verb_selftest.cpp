// verb_selftest.cpp — `threadlab selftest`: the measured guarantee that the
// harness catches every catalogued defect and flags nothing on the clean
// runtime. Three parts, run by the runner like `run`'s jobs:
//   clean   every scenario not tagged selftest/broken, --repeat times per
//           adapter, THREADLAB_INJECT cleared: any verdict but pass or skip
//           is a false positive;
//   defect  every live injection point (runtime/src/inject_points.def)
//           through each scenario whose `catches` names it, --repeat times
//           per adapter that has injection (the reference runtime's two
//           suspension policies), THREADLAB_INJECT=that one point: every run
//           must end in the declared verdict class (a crash inside the
//           catch's may_crash_in functions counts too). Repeated because a
//           detection that happens one time in three is luck, not a check;
//   harness the selftest-tagged scenarios (also tagged broken: they fail on
//           purpose), once per adapter, each with its own expected verdict.
//
// Invariants:
//   - Every argument is validated before the first child starts (unknown
//     scenario, defect or adapter, a planned defect, unwritable reports: 2).
//   - Each child's THREADLAB_INJECT is set by its job (Job.env), never
//     inherited: the clean part cannot run with a defect left in the shell.
//   - Seeds are base, base+1, ... one per job, so a run is named by its seed
//     and its replay command is exact.
//   - Exit 1 when a counted defect is undetected or detected only with the
//     wrong class, a clean run fails, or a harness check misses its verdict;
//     2 on usage errors, or when interrupted with nothing failed yet.
//   - An adapter without injection (not the reference runtime) runs only the
//     clean and harness parts, and the report says so.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string_view>
#include <tuple>

#include <fmt/format.h>
#include <threadlab/scenario.h>

#include "adapters/builtin.h"
#include "cli/verbs.h"
#include "report/report_selftest.h"
#include "report/terminal.h"
#include "runner/runner.h"

// runtime/src/inject.cpp; validates a THREADLAB_INJECT list (as
// reference_inject.cpp declares it).
extern "C" int tl_inject_check(const char* names);

namespace threadlab {
namespace {

struct DefectInfo {
  const char* name;
  bool live;
  const char* what;
};
// The catalogue as the reference runtime defines it: the same table that
// THREADLAB_INJECT parses, so a new point is in the matrix at once.
const DefectInfo kDefects[] = {
#define X(name, state, what) {#name, std::string_view(#state) == "live", what},
#include "../../../runtime/src/inject_points.def"
#undef X
};

// Explicit per-run timeout of defect runs, as tests/test_injection.py uses:
// a hang is called after a quarter of it without a heartbeat, which a crowd
// still starting up on a loaded machine does not reach.
constexpr double kDefectTimeoutS = 8;

// Adapters that drive the reference runtime, whose injection points
// THREADLAB_INJECT switches on.
bool has_injection(const std::string& adapter) { return adapter == "reference" || adapter == "reference-hybrid"; }

bool has_tag(const Scenario* s, const char* tag) { return std::find(s->tags.begin(), s->tags.end(), tag) != s->tags.end(); }

// What the job is for, keyed by its (unique) seed.
struct Meta {
  std::string part;    // clean | defect | harness
  std::string defect;  // defect part: the injected point
  const Catch* c = nullptr;
  std::string expects;
  std::string replay;
};

std::string replay_command(const Job& j, const std::string& inject, const Catch* c) {
  std::string cmd = fmt::format("{}threadlab run {} --adapter {} --seed {}",
                                inject.empty() ? "" : "THREADLAB_INJECT=" + inject + " ", j.id.scenario,
                                j.id.adapter, j.id.seed);
  if (c) cmd += fmt::format(" --cycles {} --timeout {:g}", c->cycles, kDefectTimeoutS);
  return cmd;
}

// Is this run a detection of its catch? "detected", "undetected" (pass),
// "skipped", or "wrong class".
std::string outcome_of(const nlohmann::json& run, const Meta& m) {
  const std::string v = run["verdict"].get<std::string>();
  if (m.part == "clean") return v == "pass" ? "pass" : v == "skip" ? "skipped" : "false positive";
  if (m.part == "harness") return v == m.expects ? "as expected" : v == "skip" ? "skipped" : "unexpected";
  if (v == "skip") return "skipped";
  if (v == m.expects) return "detected";
  if (v == "pass") return "undetected";
  if (v == "crash" && m.c && !m.c->may_crash_in.empty() && run["evidence"].contains("crash")) {
    for (auto& f : run["evidence"]["crash"].value("backtrace", nlohmann::json::array()))
      for (auto& name : m.c->may_crash_in)
        if (f.is_string() && f.get<std::string>().find(name) != std::string::npos) return "detected";
  }
  return "wrong class";
}

// Worst first: a status list's overall status.
std::string worst(const std::vector<std::string>& st) {
  for (const char* s : {"wrong class", "undetected", "detected"})
    if (std::find(st.begin(), st.end(), s) != st.end()) return s;
  return "not exercised";
}

}  // namespace

int verb_selftest(const SelftestOptions& o) {
  std::vector<std::string> adapter_names;
  std::vector<const tl_adapter*> adapters;
  if (auto e = resolve_adapters(o.adapters, &adapter_names, &adapters); !e.empty()) return usage_error(e);
  std::vector<const Scenario*> named;
  for (auto& n : o.names) {
    const Scenario* s = find_scenario(n);
    if (!s) return usage_error(fmt::format("unknown scenario '{}' (threadlab list shows them)", n));
    named.push_back(s);
  }
  for (auto& d : o.defects) {
    auto it = std::find_if(std::begin(kDefects), std::end(kDefects), [&](auto& k) { return d == k.name; });
    if (it == std::end(kDefects)) return usage_error(fmt::format("unknown defect '{}' (runtime/src/inject_points.def lists them)", d));
    if (!it->live) return usage_error(fmt::format("defect '{}' is planned: no defect is behind it yet", d));
  }
  const bool any_injection = std::any_of(adapter_names.begin(), adapter_names.end(), has_injection);
  bool compiled = true;
  for (auto& k : kDefects)
    if (k.live) {
      compiled = tl_inject_check(k.name) == 0;
      break;
    }
  if (any_injection && !compiled)
    return usage_error("selftest: this build has the injection points compiled out (release preset); build the "
                       "default preset to prove detection");
  ReportPaths paths{o.json, "", o.html};
  if (!check_report_paths(paths)) return 2;

  auto chosen = [&](const Scenario* s) {
    return named.empty() || std::find(named.begin(), named.end(), s) != named.end();
  };
  auto wanted_defect = [&](const std::string& d) {
    return o.defects.empty() || std::find(o.defects.begin(), o.defects.end(), d) != o.defects.end();
  };
  // A --defect filter narrows the clean part to the scenarios that catch
  // those defects (each detection stands beside the same scenario passing
  // clean) and leaves the harness part out.
  auto catches_wanted = [&](const Scenario* s) {
    return o.defects.empty() || std::any_of(s->catches.begin(), s->catches.end(),
                                            [&](const Catch& c) { return wanted_defect(c.defect); });
  };

  const uint64_t base_seed = o.seed ? *o.seed : fresh_seed();
  std::vector<Job> jobs;
  std::map<uint64_t, Meta> meta;
  auto add = [&](const Scenario* s, size_t a, int repeat, Meta m, int cycles, std::optional<double> timeout,
                 const std::string& inject) {
    Job j;
    j.cycles = cycles;
    const RunTimeout t = run_timeout(*s, j, timeout);
    j.stall_s = t.stall_s;
    const uint64_t seed = base_seed + jobs.size();
    j.id = {s->name, adapter_names[a], seed, repeat, s->tags, m.expects, t.timeout_s};
    j.env = {"THREADLAB_INJECT=" + inject};
    if (uint64_t missing = s->caps & ~adapters[a]->caps)
      j.skip_reason = fmt::format("adapter '{}' lacks capability {}", adapter_names[a], cap_names(missing));
    m.replay = replay_command(j, inject, m.c);
    meta[seed] = m;
    jobs.push_back(j);
  };

  // Harness part first (short hangs), then the defects, then the clean runs.
  if (o.defects.empty())
    for (size_t a = 0; a < adapters.size(); ++a)
      for (auto* s : all_scenarios())
        if (has_tag(s, "selftest") && chosen(s))
          add(s, a, 0, {"harness", "", nullptr, verdict_name(s->expected), ""}, -1, std::nullopt, "");

  // The matrix skeleton: every defect in scope, and its catching scenarios.
  nlohmann::json defects = nlohmann::json::array();
  for (auto& k : kDefects) {
    if (!wanted_defect(k.name)) continue;
    nlohmann::json d = {{"name", k.name}, {"state", k.live ? "live" : "planned"}, {"what", k.what},
                        {"cells", nlohmann::json::array()}};
    for (auto* s : all_scenarios()) {
      if (has_tag(s, "selftest") || !chosen(s)) continue;
      for (const Catch& c : s->catches) {
        if (c.defect != std::string_view(k.name)) continue;
        nlohmann::json cell = {{"scenario", s->name}, {"expects", verdict_name(c.verdict)}, {"cycles", c.cycles},
                               {"only_adapter", c.only_adapter ? nlohmann::json(c.only_adapter) : nlohmann::json()},
                               {"adapters", nlohmann::json::object()}};
        for (size_t a = 0; a < adapters.size(); ++a) {
          const std::string& an = adapter_names[a];
          if (!has_injection(an)) {
            cell["adapters"][an] = {{"status", "no injection"}, {"note", "adapter has no injection points"}};
          } else if (c.only_adapter && an != c.only_adapter) {
            cell["adapters"][an] = {{"status", "not applicable"}, {"note", c.why_only ? c.why_only : ""}};
          } else if (k.live) {
            cell["adapters"][an] = {{"status", "pending"}, {"verdicts", nlohmann::json::object()}, {"runs", 0}};
            for (int r = 0; r < o.repeat; ++r)
              add(s, a, r, {"defect", k.name, &c, verdict_name(c.verdict), ""}, c.cycles, kDefectTimeoutS, k.name);
          }
        }
        d["cells"].push_back(cell);
      }
    }
    // With a scenario filter, a defect none of the named scenarios catches
    // is out of scope, not undetected.
    if (!named.empty() && d["cells"].empty()) continue;
    defects.push_back(d);
  }

  size_t clean_jobs = 0;
  for (size_t a = 0; a < adapters.size(); ++a)
    for (auto* s : all_scenarios())
      if (!has_tag(s, "selftest") && !has_tag(s, "broken") && chosen(s) && catches_wanted(s))
        for (int r = 0; r < o.repeat; ++r, ++clean_jobs)
          add(s, a, r, {"clean", "", nullptr, "pass", ""}, -1, std::nullopt, "");

  std::string names;
  for (auto& n : adapter_names) names += (names.empty() ? "'" : ", '") + n + "'";
  fmt::print("threadlab selftest: {} run(s) on adapter{} {}, seed {}, {} job(s): {} clean, {} with a defect "
             "injected, {} harness check(s)\n",
             jobs.size(), adapter_names.size() > 1 ? "s" : "", names, base_seed, o.jobs, clean_jobs,
             std::count_if(meta.begin(), meta.end(), [](auto& m) { return m.second.part == "defect"; }),
             std::count_if(meta.begin(), meta.end(), [](auto& m) { return m.second.part == "harness"; }));
  for (auto& n : adapter_names)
    if (!has_injection(n)) fmt::print("note: adapter '{}' has no injection points: it runs the clean part only\n", n);
  std::fflush(stdout);

  const double t0 = mono_now(), started = unix_now();
  bool interrupted = false;
  auto runs = run_jobs(
      jobs, o.jobs,
      [&](const nlohmann::json& run, size_t done) {
        const Meta& m = meta[run["seed"].get<uint64_t>()];
        nlohmann::json shown = run;
        if (m.part != "clean") shown["scenario"] = fmt::format("{} [{}]", run["scenario"].get<std::string>(),
                                                              m.part == "defect" ? m.defect : "harness check");
        print_progress(shown, done, jobs.size(), mono_now() - t0);
      },
      &interrupted);

  // Each run: its part, injection, expected class, outcome and replay.
  nlohmann::json clean = {{"runs", 0}, {"passed", 0}, {"skipped", 0}, {"false_positives", nlohmann::json::array()}};
  nlohmann::json harness = nlohmann::json::array();
  std::map<std::pair<std::string, std::string>, std::vector<const nlohmann::json*>> by_cell;  // (defect, scenario)
  for (auto& run : runs) {
    const Meta& m = meta[run["seed"].get<uint64_t>()];
    const std::string outcome = outcome_of(run, m);
    run["selftest"] = {{"part", m.part}, {"inject", m.defect}, {"expects", m.expects}, {"outcome", outcome},
                       {"replay", m.replay}};
    if (m.part == "clean") {
      if (outcome == "skipped") {
        clean["skipped"] = clean["skipped"].get<int>() + 1;
        continue;
      }
      clean["runs"] = clean["runs"].get<int>() + 1;
      if (outcome == "pass")
        clean["passed"] = clean["passed"].get<int>() + 1;
      else
        clean["false_positives"].push_back({{"scenario", run["scenario"]}, {"adapter", run["adapter"]},
                                            {"seed", run["seed"]}, {"verdict", run["verdict"]},
                                            {"reason", run["reason"]}, {"replay", m.replay}});
    } else if (m.part == "harness") {
      harness.push_back({{"scenario", run["scenario"]}, {"adapter", run["adapter"]}, {"seed", run["seed"]},
                         {"expected", m.expects},
                         {"verdict", run["verdict"]}, {"outcome", outcome}, {"reason", run["reason"]}});
    } else {
      by_cell[{m.defect, run["scenario"].get<std::string>()}].push_back(&run);
    }
  }

  auto by_name = [](const nlohmann::json& a, const nlohmann::json& b) {
    return std::tie(a["scenario"], a["adapter"], a["seed"]) < std::tie(b["scenario"], b["adapter"], b["seed"]);
  };
  std::sort(harness.begin(), harness.end(), by_name);
  std::sort(clean["false_positives"].begin(), clean["false_positives"].end(), by_name);

  int total = 0, detected = 0;
  std::vector<std::string> missed;
  for (auto& d : defects) {
    std::vector<std::string> statuses;
    for (auto& cell : d["cells"]) {
      auto it = by_cell.find({d["name"].get<std::string>(), cell["scenario"].get<std::string>()});
      for (auto& [an, ac] : cell["adapters"].items()) {
        if (ac["status"] != "pending") continue;
        std::vector<std::string> outs;
        if (it != by_cell.end())
          for (auto* run : it->second)
            if ((*run)["adapter"] == an) {
              ac["verdicts"][(*run)["verdict"].get<std::string>()] =
                  ac["verdicts"].value((*run)["verdict"].get<std::string>(), 0) + 1;
              ac["runs"] = ac["runs"].get<int>() + 1;
              const std::string out = (*run)["selftest"]["outcome"];
              if (out != "skipped") outs.push_back(out);
              if (out != "detected" && out != "skipped" && !ac.contains("replay")) ac["replay"] = (*run)["selftest"]["replay"];
            }
        ac["status"] = ac["runs"] == 0 ? "not run" : worst(outs);
        if (ac["status"] != "not exercised" && ac["status"] != "not run") statuses.push_back(ac["status"]);
      }
    }
    if (d["state"] == "planned") {
      d["status"] = "planned";
      continue;
    }
    if (!any_injection) {
      d["status"] = "no injection";
      continue;
    }
    d["status"] = d["cells"].empty() ? "no scenario catches it" : worst(statuses);
    ++total;
    if (d["status"] == "detected")
      ++detected;
    else
      missed.push_back(d["name"]);
  }
  const int false_positives = static_cast<int>(clean["false_positives"].size());
  const int harness_bad =
      static_cast<int>(std::count_if(harness.begin(), harness.end(), [](auto& h) { return h["outcome"] == "unexpected"; }));
  const std::string line = fmt::format("selftest: {}/{} defects detected, {} false positives in {} clean runs",
                                       detected, total, false_positives, clean["runs"].get<int>());

  auto report = make_report("selftest", runs, interrupted, started, mono_now() - t0);
  report["selftest"] = {{"repeat", o.repeat},
                        {"seed", base_seed},
                        {"defect_timeout_s", kDefectTimeoutS},
                        {"adapters", nlohmann::json::array()},
                        {"defects", defects},
                        {"clean", clean},
                        {"harness", harness},
                        {"summary",
                         {{"defects", total},
                          {"detected", detected},
                          {"missed", missed},
                          {"clean_runs", clean["runs"]},
                          {"clean_skipped", clean["skipped"]},
                          {"false_positives", false_positives},
                          {"harness_checks", harness.size()},
                          {"harness_unexpected", harness_bad},
                          {"line", line}}}};
  for (auto& n : adapter_names)
    report["selftest"]["adapters"].push_back({{"name", n}, {"injection", has_injection(n)}});

  print_selftest(report);
  std::string err;
  if (!o.json.empty() && !atomic_write(o.json, report.dump(2) + "\n", &err)) return usage_error(err);
  if (!o.html.empty() && !atomic_write(o.html, render_selftest_html(report), &err)) return usage_error(err);
  for (auto* p : {&o.json, &o.html})
    if (!p->empty()) fmt::print("report: {}\n", *p);
  fmt::print("{}\n", line);
  // Interrupted, a defect whose runs were cut short is not a finding.
  const bool caught_failing = std::any_of(defects.begin(), defects.end(), [](auto& d) {
    return d.value("status", "") == "wrong class" || d.value("status", "") == "undetected";
  });
  if (interrupted) return caught_failing || false_positives > 0 || harness_bad > 0 ? 1 : 2;
  return !missed.empty() || false_positives > 0 || harness_bad > 0 ? 1 : 0;
}

}  // namespace threadlab
