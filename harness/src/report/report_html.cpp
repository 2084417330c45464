// report_html.cpp — a single self-contained HTML page: summary, one table
// row per run, evidence, and an inline SVG plot of every leak counter that
// moved, against the cycle number (warm-up shaded).
// Invariants: no external assets (no scripts, fonts, styles or images by
// URL); every string from a run is HTML-escaped.
#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "report/report.h"

namespace threadlab {
namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string plot(const std::string& name, const nlohmann::json& s, int warmup, bool leaking) {
  const auto& v = s["values"];
  if (v.size() < 2) return "";
  double lo = 1e300, hi = -1e300;
  for (auto& x : v) {
    lo = std::min(lo, x.get<double>());
    hi = std::max(hi, x.get<double>());
  }
  if (hi == lo && !leaking) return "";  // flat: nothing to see
  if (hi == lo) hi = lo + 1;
  const double W = 320, H = 120, L = 48, B = 20;
  auto X = [&](size_t i) { return L + (W - L - 8) * static_cast<double>(i) / static_cast<double>(v.size() - 1); };
  auto Y = [&](double y) { return H - B - (H - B - 8) * (y - lo) / (hi - lo); };
  std::string pts;
  for (size_t i = 0; i < v.size(); ++i) pts += fmt::format("{:.1f},{:.1f} ", X(i), Y(v[i].get<double>()));
  std::string svg = fmt::format(
      "<figure><svg xmlns='http://www.w3.org/2000/svg' width='{0}' height='{1}' viewBox='0 0 {0} {1}' "
      "role='img' aria-label='{2}'>",
      W, H, esc(name));
  if (warmup > 0)
    svg += fmt::format("<rect x='{:.1f}' y='0' width='{:.1f}' height='{}' fill='#eee'/>", L,
                       X(static_cast<size_t>(std::min<int>(warmup, static_cast<int>(v.size()) - 1))) - L, H - B);
  svg += fmt::format("<line x1='{0}' y1='{1}' x2='{2}' y2='{1}' stroke='#999'/>", L, H - B, W - 8);
  svg += fmt::format("<line x1='{0}' y1='8' x2='{0}' y2='{1}' stroke='#999'/>", L, H - B);
  svg += fmt::format("<text x='2' y='14' font-size='10'>{}</text><text x='2' y='{}' font-size='10'>{}</text>",
                     hi, H - B, lo);
  svg += fmt::format("<text x='{}' y='{}' font-size='10'>cycle</text>", W / 2, H - 4);
  svg += fmt::format("<polyline fill='none' stroke='{}' stroke-width='1.5' points='{}'/>",
                     leaking ? "#c00" : "#36c", pts);
  svg += "</svg>";
  svg += fmt::format("<figcaption>{}{} (slope {:.3g}/cycle)</figcaption></figure>", esc(name),
                     leaking ? " — LEAK" : "", s.value("slope", 0.0));
  return svg;
}

}  // namespace

std::string render_html(const nlohmann::json& r) {
  std::string h =
      "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>threadlab report</title><style>"
      "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
      "padding:2px 6px;text-align:left;vertical-align:top}.pass{color:#080}.skip{color:#888}"
      ".fail,.leak,.invariant,.scribble,.deadlock,.crash{color:#c00;font-weight:bold}"
      "pre{background:#f6f6f6;padding:4px;max-height:30em;overflow:auto}figure{display:inline-block;margin:4px}"
      "figcaption{font-size:11px}</style></head><body>";
  h += fmt::format("<h1>threadlab {}{}</h1>", esc(r["verb"].get<std::string>()),
                   r["partial"].get<bool>() ? " (PARTIAL: interrupted)" : "");
  h += fmt::format("<p>started {} · {:.1f}s · {} runs · {} findings · {} {} {}</p>",
                   esc(r["started_at"].get<std::string>()), r["duration_s"].get<double>(),
                   r["summary"]["total"].get<int>(), r["summary"]["findings"].get<int>(),
                   esc(r["host"]["os"].get<std::string>()), esc(r["host"]["arch"].get<std::string>()),
                   esc(r["host"]["kernel"].get<std::string>()));
  h += "<table><tr><th>scenario</th><th>adapter</th><th>seed</th><th>verdict</th><th>time</th><th>reason</th></tr>";
  size_t row = 0;
  for (auto& run : r["runs"]) {
    std::string v = run["verdict"];
    h += fmt::format("<tr><td><a href='#run{}'>{}</a></td><td>{}</td><td>{}</td><td class='{}'>{}</td>"
                     "<td>{:.2f}s</td><td>{}</td></tr>",
                     row++, esc(run["scenario"].get<std::string>()),
                     esc(run["adapter"].get<std::string>()), run["seed"].get<uint64_t>(), v, v,
                     run["duration_s"].get<double>(), esc(run.value("reason", "")));
  }
  h += "</table>";
  size_t i = 0;
  for (auto& run : r["runs"]) {
    std::string v = run["verdict"];
    h += fmt::format("<h2 id='run{}'>{} · {} · <span class='{}'>{}</span></h2>", i++,
                     esc(run["scenario"].get<std::string>()), esc(run["adapter"].get<std::string>()), v, v);
    if (!run.value("reason", "").empty()) h += "<p>" + esc(run["reason"].get<std::string>()) + "</p>";
    auto& ev = run["evidence"];
    std::set<std::string> leaking;
    if (ev.contains("leaks"))
      for (auto& l : ev["leaks"]) {
        leaking.insert(l["counter"].get<std::string>());
        h += "<pre>" + esc(l.dump(2)) + "</pre>";
      }
    int warmup = run.contains("params") ? run["params"].value("warmup", 0) : 0;
    if (run.contains("counters") && !run["counters"].empty()) {
      h += "<div>";
      for (auto& [name, s] : run["counters"].items()) h += plot(name, s, warmup, leaking.count(name) > 0);
      h += "</div>";
    }
    if (ev.contains("dump")) {
      std::string d;
      for (auto& t : ev["dump"]["threads"]) {
        d += fmt::format("thread {} ({}) state {} — {}\n", t["tid"].get<int64_t>(), t["name"].get<std::string>(),
                         t["kernel_state"].get<std::string>(), t["waiting_on"].get<std::string>());
        if (!t["record"].is_null()) d += "  record: " + t["record"].dump() + "\n";
        for (auto& f : t["backtrace"]) d += "    " + f.get<std::string>() + "\n";
      }
      h += "<h3>thread dump</h3><pre>" + esc(d) + "</pre>";
    }
    if (ev.contains("crash")) {
      std::string d = ev["crash"]["signal"].get<std::string>() + "\n";
      for (auto& f : ev["crash"]["backtrace"]) d += "  " + f.get<std::string>() + "\n";
      h += "<h3>crash</h3><pre>" + esc(d) + "</pre>";
    }
    for (auto* k : {"findings", "violations"})
      if (ev.contains(k)) h += fmt::format("<h3>{}</h3><pre>{}</pre>", k, esc(ev[k].dump(2)));
    if (ev.contains("output") && !ev["output"].get<std::string>().empty())
      h += "<details><summary>output</summary><pre>" + esc(ev["output"].get<std::string>()) + "</pre></details>";
  }
  h += "</body></html>\n";
  return h;
}

}  // namespace threadlab
