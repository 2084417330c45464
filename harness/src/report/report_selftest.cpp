// report_selftest.cpp — see report_selftest.h. A matrix cell is one
// (defect, scenario) pair: per adapter, the verdicts its runs gave
// ("DEADLOCK 3/3"), or why it did not run there.
//
// Invariants:
//   - Terminal: colour only when stdout is a terminal, the plain words the
//     same either way (terminal.cpp's rule); a cell that failed is followed
//     by the command that replays one of its runs.
//   - HTML: every string from the report is escaped; no external assets.
#include "report/report_selftest.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "report/report.h"

namespace threadlab {
namespace {

bool tty() {
  static const bool t = isatty(1);
  return t;
}
std::string upper(const std::string& s) {
  std::string up;
  for (char c : s) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return up;
}
bool good(const std::string& status) {
  return status == "detected" || status == "as expected" || status == "pass" || status == "not applicable";
}
// Pads the plain text to `w`, then colours it (escape codes take no column).
std::string cell(const std::string& text, size_t w, const std::string& status) {
  std::string pad = text.size() < w ? std::string(w - text.size(), ' ') : " ";
  if (!tty()) return text + pad;
  const char* code = good(status) ? "32" : status == "no injection" || status == "skipped" ? "33" : "31;1";
  return fmt::format("\x1b[{}m{}\x1b[0m{}", code, text, pad);
}
// One adapter's share of a matrix cell in words.
std::string adapter_text(const nlohmann::json& ac) {
  std::string st = ac.value("status", "");
  if (st == "not applicable") return "n/a";
  if (st == "no injection") return "-";
  if (!ac.contains("verdicts") || ac["verdicts"].empty()) return st;
  std::string t;
  const int runs = ac.value("runs", 0);
  for (auto& [v, n] : ac["verdicts"].items()) t += fmt::format("{}{} {}/{}", t.empty() ? "" : " ", upper(v), n.get<int>(), runs);
  return t;
}

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  return o;
}
const char* css_class(const std::string& status) {
  return good(status) ? "pass" : status == "no injection" || status == "skipped" || status == "planned" ? "skip" : "bad";
}

}  // namespace

void print_selftest(const nlohmann::json& r) {
  const auto& st = r["selftest"];
  std::vector<std::string> adapters;
  for (auto& a : st["adapters"]) adapters.push_back(a["name"]);
  size_t wd = 6, ws = 8, wa = 16;
  for (auto& a : adapters) wa = std::max(wa, a.size() + 2);
  for (auto& d : st["defects"]) {
    wd = std::max(wd, d["name"].get<std::string>().size());
    for (auto& c : d["cells"]) {
      ws = std::max(ws, c["scenario"].get<std::string>().size());
      for (auto& [an, ac] : c["adapters"].items()) wa = std::max(wa, adapter_text(ac).size() + 1);
    }
  }
  if (!st["defects"].empty()) {
    fmt::print("\ndefects x scenarios (verdicts of the runs with the defect injected, per adapter)\n\n");
    std::string head = fmt::format("{:<{}}  {:<{}}  {:<10}", "defect", wd, "scenario", ws, "expects");
    for (auto& a : adapters) head += fmt::format("{:<{}}", a, wa);
    fmt::print("{}result\n{}\n", head, std::string(head.size() + 12, '-'));
  }
  std::vector<std::string> replays;
  for (auto& d : st["defects"]) {
    const std::string name = d["name"], status = d.value("status", "");
    if (d["cells"].empty()) {
      fmt::print("{:<{}}  {:<{}}  {:<10}{}{}\n", name, wd, "-", ws, "-",
                 cell(status == "planned" ? "planned: no defect behind it yet" : "no scenario catches it",
                      wa * adapters.size(), status),
                 status == "planned" ? "planned (not counted)" : upper(status));
      continue;
    }
    bool first = true;
    for (auto& c : d["cells"]) {
      std::string line = fmt::format("{:<{}}  {:<{}}  {:<10}", first ? name : "", wd, c["scenario"].get<std::string>(),
                                     ws, c["expects"].get<std::string>());
      for (auto& a : adapters) {
        const auto& ac = c["adapters"][a];
        line += cell(adapter_text(ac), wa, ac.value("status", ""));
        if (ac.contains("replay")) replays.push_back(ac["replay"]);
      }
      fmt::print("{}{}\n", line, first ? cell(status == "detected" ? "detected" : upper(status), 0, status) : "");
      first = false;
    }
  }
  if (!st["harness"].empty()) {
    fmt::print("\nharness self-checks (selftest-tagged scenarios, each with its own verdict)\n\n");
    size_t w = 8;
    for (auto& h : st["harness"]) w = std::max(w, h["scenario"].get<std::string>().size());
    for (auto& h : st["harness"])
      fmt::print("{:<{}}  {:<18} expects {:<10} got {}\n", h["scenario"].get<std::string>(), w,
                 h["adapter"].get<std::string>(), h["expected"].get<std::string>(),
                 cell(upper(h["verdict"]), 10, h["outcome"]) +
                     (h["outcome"] == "unexpected" ? "— " + h["reason"].get<std::string>() : ""));
  }
  const auto& clean = st["clean"];
  fmt::print("\nclean runtime: {} run(s), {} passed, {} false positive(s){}\n", clean["runs"].get<int>(),
             clean["passed"].get<int>(), clean["false_positives"].size(),
             clean["skipped"].get<int>() ? fmt::format(", {} skipped (adapter lacks a capability)", clean["skipped"].get<int>())
                                         : "");
  for (auto& f : clean["false_positives"])
    fmt::print("  {} {} ({}, seed {}) — {}\n    replay: {}\n", cell(upper(f["verdict"]), 10, "false positive"),
               f["scenario"].get<std::string>(), f["adapter"].get<std::string>(), f["seed"].get<uint64_t>(),
               f["reason"].get<std::string>(), f["replay"].get<std::string>());
  for (auto& a : st["adapters"])
    if (!a["injection"].get<bool>())
      fmt::print("adapter '{}' has no injection points: clean and harness parts only\n", a["name"].get<std::string>());
  if (!replays.empty()) {
    fmt::print("\nreplay a missed detection:\n");
    for (auto& c : replays) fmt::print("  {}\n", c);
  }
  fmt::print("\n");
  std::fflush(stdout);
}

std::string render_selftest_html(const nlohmann::json& r) {
  const auto& st = r["selftest"];
  std::vector<std::string> adapters;
  for (auto& a : st["adapters"]) adapters.push_back(a["name"]);
  std::set<std::string> scen_set;
  for (auto& d : st["defects"])
    for (auto& c : d["cells"]) scen_set.insert(c["scenario"].get<std::string>());
  const std::vector<std::string> scen(scen_set.begin(), scen_set.end());

  std::string m = fmt::format("<h2>{}</h2>", esc(st["summary"]["line"].get<std::string>()));
  m += "<p>Rows: injected defects; columns: the scenarios that declare they catch one. A cell gives, per adapter, "
       "the verdicts of the runs with that defect injected and the class expected.</p>";
  m += "<table class='matrix'><tr><th>defect</th><th>result</th>";
  for (auto& s : scen) m += "<th>" + esc(s) + "</th>";
  m += "</tr>";
  for (auto& d : st["defects"]) {
    const std::string status = d.value("status", "");
    m += fmt::format("<tr><td title='{}'><code>{}</code></td><td class='{}'>{}</td>", esc(d["what"]),
                     esc(d["name"]), css_class(status), esc(status));
    for (auto& s : scen) {
      auto it = std::find_if(d["cells"].begin(), d["cells"].end(), [&](auto& c) { return c["scenario"] == s; });
      if (it == d["cells"].end()) {
        m += "<td></td>";
        continue;
      }
      m += "<td>expects " + esc((*it)["expects"]) ;
      for (auto& a : adapters) {
        const auto& ac = (*it)["adapters"][a];
        m += fmt::format("<br>{}: <span class='{}'>{}</span>", esc(a), css_class(ac.value("status", "")),
                         esc(adapter_text(ac)));
      }
      m += "</td>";
    }
    m += "</tr>";
  }
  m += "</table>";
  const auto& clean = st["clean"];
  m += fmt::format("<p>Clean runtime: {} run(s), {} passed, <span class='{}'>{} false positive(s)</span>, {} skipped.</p>",
                   clean["runs"].get<int>(), clean["passed"].get<int>(),
                   clean["false_positives"].empty() ? "pass" : "bad", clean["false_positives"].size(),
                   clean["skipped"].get<int>());
  if (!clean["false_positives"].empty()) {
    m += "<table><tr><th>scenario</th><th>adapter</th><th>seed</th><th>verdict</th><th>reason</th><th>replay</th></tr>";
    for (auto& f : clean["false_positives"])
      m += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td class='bad'>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                       esc(f["scenario"]), esc(f["adapter"]), f["seed"].dump(), esc(f["verdict"]), esc(f["reason"]),
                       esc(f["replay"]));
    m += "</table>";
  }
  if (!st["harness"].empty()) {
    m += "<table><tr><th>harness check</th><th>adapter</th><th>expected</th><th>verdict</th></tr>";
    for (auto& h : st["harness"])
      m += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td class='{}'>{}</td></tr>", esc(h["scenario"]),
                       esc(h["adapter"]), esc(h["expected"]), css_class(h["outcome"]), esc(h["verdict"]));
    m += "</table>";
  }
  m += "<h2>Runs</h2>";
  std::string page = render_html(r);
  const std::string anchor = "<table class='runs'>";
  const size_t at = page.find(anchor);
  page.insert(at == std::string::npos ? page.size() : at, m);
  return page;
}

}  // namespace threadlab
