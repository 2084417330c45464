// verb_list.cpp — `threadlab list`: scenarios with tags, capabilities,
// parameters, descriptions and the injected defects each catches (--json);
// adapters with their capabilities and where each comes from (built in, or
// the library that carries it: --adapter-lib, THREADLAB_ADAPTER_LIB, a module).
// --markdown prints the scenario table that docs/scenarios.md is (only the
// registry's words, no adapter list: the file must not depend on the host).
#include <threadlab/scenario.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adapters/builtin.h"
#include "cli/verbs.h"

namespace threadlab {

namespace {
// A table cell: no line breaks, '|' escaped.
std::string md_cell(const std::string& s) {
  std::string o;
  for (char c : s) o += c == '\n' ? std::string(" ") : c == '|' ? std::string("\\|") : std::string(1, c);
  return o;
}
int print_markdown(const nlohmann::json& out) {
  fmt::print("# Scenarios\n\n"
             "Generated from the scenario registry by `threadlab list --markdown > docs/scenarios.md`; "
             "tests/test_scenarios_doc.py fails when this file is stale. `threadlab run` runs every scenario "
             "not tagged `selftest` or `broken`; `threadlab selftest` injects each defect in *Catches* and expects "
             "the verdict named beside it (docs/report-schema.md).\n\n");
  fmt::print("| Scenario | Tags | Guards against | Needs | Catches |\n|---|---|---|---|---|\n");
  for (auto& s : out["scenarios"]) {
    std::string tags, catches;
    for (auto& t : s["tags"]) tags += (tags.empty() ? "" : ", ") + t.get<std::string>();
    for (auto& c : s["catches"]) {
      catches += fmt::format("{}`{}` → {}", catches.empty() ? "" : "<br>", c["defect"].get<std::string>(),
                             c["verdict"].get<std::string>());
      if (!c["only_adapter"].is_null()) catches += fmt::format(" (only {})", c["only_adapter"].get<std::string>());
    }
    std::string needs;
    for (char c : s["caps"].get<std::string>()) needs += c == ',' ? std::string(", ") : std::string(1, c);
    fmt::print("| `{}` | {} | {} | {} | {} |\n", s["name"].get<std::string>(), md_cell(tags),
               md_cell(s["description"].get<std::string>()), needs.empty() ? "—" : md_cell(needs),
               catches.empty() ? "—" : catches);
  }
  return 0;
}
}  // namespace

int verb_list(bool json, bool markdown) {
  nlohmann::json out = {{"scenarios", nlohmann::json::array()}, {"adapters", nlohmann::json::array()}};
  for (auto* s : all_scenarios()) {
    nlohmann::json catches = nlohmann::json::array();
    for (const Catch& c : s->catches)
      catches.push_back({{"defect", c.defect},
                         {"verdict", verdict_name(c.verdict)},
                         {"cycles", c.cycles},
                         {"only_adapter", c.only_adapter ? nlohmann::json(c.only_adapter) : nlohmann::json(nullptr)},
                         {"why_only", c.why_only ? c.why_only : ""},
                         {"may_crash_in", c.may_crash_in}});
    out["scenarios"].push_back({{"name", s->name},
                                {"tags", s->tags},
                                {"caps", cap_names(s->caps)},
                                {"optional_caps", cap_names(s->optional_caps)},
                                {"description", s->description},
                                {"expected", verdict_name(s->expected)},
                                {"timeout_s", s->timeout_s},
                                {"params",
                                 {{"threads", s->defaults.threads},
                                  {"iterations", s->defaults.iterations},
                                  {"cycles", s->defaults.cycles},
                                  {"warmup", s->defaults.warmup}}},
                                {"catches", catches}});
  }
  for (auto* a : all_adapters())
    out["adapters"].push_back({{"name", a->name ? a->name : "?"},
                               {"description", a->description ? a->description : ""},
                               {"caps", cap_names(a->caps)},
                               {"source", adapter_origin(a)},
                               {"problem", adapter_problem(a)}});
  if (markdown) return print_markdown(out);
  if (json) {
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  fmt::print("Scenarios (run by default unless tagged selftest or broken):\n\n");
  for (auto& s : out["scenarios"]) {
    std::string tags;
    for (auto& t : s["tags"]) tags += (tags.empty() ? "" : ",") + t.get<std::string>();
    // A scenario that needs no capability beyond the basics prints no `needs:`.
    // Capabilities used for extra checks only when the adapter has them.
    const std::string needs = s["caps"].get<std::string>(), uses = s["optional_caps"].get<std::string>();
    fmt::print("  {}\n    tags: {}\n{}{}    expects: {}  (threads {}, iterations {}, cycles {}, timeout {}s)\n",
               s["name"].get<std::string>(), tags, needs.empty() ? "" : "    needs: " + needs + "\n",
               uses.empty() ? "" : "    uses if present: " + uses + "\n",
               s["expected"].get<std::string>(), s["params"]["threads"].get<int>(),
               s["params"]["iterations"].get<int>(), s["params"]["cycles"].get<int>(), s["timeout_s"].get<int>());
    fmt::print("    {}\n\n", s["description"].get<std::string>());
  }
  fmt::print("Adapters:\n\n");
  for (auto& a : out["adapters"]) {
    const std::string caps = a["caps"].get<std::string>();
    fmt::print("  {:<10} {}\n{}", a["name"].get<std::string>(), a["description"].get<std::string>(),
               caps.empty() ? "" : "    caps: " + caps + "\n");
    if (a["source"] != "built-in") fmt::print("    from: {}\n", a["source"].get<std::string>());
    if (!a["problem"].get<std::string>().empty()) fmt::print("    UNUSABLE: {}\n", a["problem"].get<std::string>());
  }
  return 0;
}

}  // namespace threadlab
