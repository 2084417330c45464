// terminal.cpp — see terminal.h. exec rows show no adapter or seed.
#include "report/terminal.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

namespace threadlab {
namespace {
bool tty() {
  static const bool t = isatty(1);
  return t;
}
std::string colour(const std::string& verdict) {
  std::string up;
  for (char c : verdict) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!tty()) return up;
  const char* code = verdict == "pass" ? "32" : verdict == "skip" ? "33" : "31;1";
  return fmt::format("\x1b[{}m{}\x1b[0m", code, up);
}
std::string pad_verdict(const std::string& v) {
  std::string c = colour(v);
  return c + std::string(v.size() < 9 ? 9 - v.size() : 1, ' ');
}
// exec wraps a program, not a runtime: it has no adapter and no seed, so
// its rows show neither (never "none, seed 0").
bool is_exec(const nlohmann::json& run) { return run.contains("program"); }
std::string who(const nlohmann::json& run) {
  if (is_exec(run)) return "";
  return fmt::format(" ({}, seed {})", run["adapter"].get<std::string>(), run["seed"].get<uint64_t>());
}
std::string one_line(std::string s, size_t max) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}
}  // namespace

void print_progress(const nlohmann::json& run, size_t done, size_t total, double elapsed) {
  int mins = static_cast<int>(elapsed / 60);
  fmt::print("[{:>{}}/{}] {:02d}:{:04.1f} {}{}{} {:.2f}s{}\n", done, std::to_string(total).size(), total, mins,
             elapsed - mins * 60, pad_verdict(run["verdict"]), run["scenario"].get<std::string>(), who(run),
             run["duration_s"].get<double>(),
             run.value("reason", "").empty() ? "" : " — " + one_line(run["reason"], 100));
  std::fflush(stdout);
}

void print_summary(const nlohmann::json& r) {
  size_t w = 8;
  for (auto& run : r["runs"]) w = std::max(w, run["scenario"].get<std::string>().size());
  fmt::print("\n{:<{}}  {:<10} {:>20}  {:<9} {:>8}  {}\n", "scenario", w, "adapter", "seed", "verdict", "time",
             "reason");
  fmt::print("{}\n", std::string(w + 64, '-'));
  for (auto& run : r["runs"])
    fmt::print("{:<{}}  {:<10} {:>20}  {} {:>7.2f}s  {}\n", run["scenario"].get<std::string>(), w,
               is_exec(run) ? "-" : run["adapter"].get<std::string>(),
               is_exec(run) ? "-" : std::to_string(run["seed"].get<uint64_t>()), pad_verdict(run["verdict"]),
               run["duration_s"].get<double>(), one_line(run.value("reason", ""), 80));
  auto& s = r["summary"];
  std::string counts;
  for (auto& [k, v] : s["verdicts"].items())
    if (v.get<int>() > 0) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", v.get<int>(), k);
  fmt::print("\n{} run(s): {}; {} finding(s){} in {:.1f}s\n", s["total"].get<int>(), counts.empty() ? "none" : counts,
             s["findings"].get<int>(), r["partial"].get<bool>() ? " — PARTIAL (interrupted)" : "",
             r["duration_s"].get<double>());
}

void print_leak_table(const nlohmann::json& run) {
  if (!run.contains("counters") || run["counters"].empty()) return;
  std::set<std::string> leaking;
  if (run["evidence"].contains("leaks"))
    for (auto& l : run["evidence"]["leaks"]) leaking.insert(l["counter"].get<std::string>());
  int warmup = run.contains("params") ? run["params"].value("warmup", 0) : 0;
  fmt::print("\n{:<20} {:>6} {:>14} {:>14} {:>12}  {}\n", "counter", "unit", "first", "last", "slope/cycle",
             "verdict");
  for (auto& [name, s] : run["counters"].items()) {
    auto& v = s["values"];
    if (v.empty()) continue;
    size_t from = std::min<size_t>(static_cast<size_t>(warmup), v.size() - 1);
    std::string verdict = leaking.count(name) ? "leak" : s["judged"].get<bool>() ? "pass" : "(not judged)";
    fmt::print("{:<20} {:>6} {:>14.0f} {:>14.0f} {:>12.3f}  {}\n", name, s["unit"].get<std::string>(),
               v[from].get<double>(), v.back().get<double>(), s["slope"].get<double>(),
               verdict == "leak" ? colour("leak") : verdict);
  }
  if (run["evidence"].contains("leaks"))
    for (auto& l : run["evidence"]["leaks"])
      for (auto& n : l["new"]) fmt::print("  new in {}: {}\n", l["counter"].get<std::string>(), n.get<std::string>());
}

}  // namespace threadlab
