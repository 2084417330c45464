// report_html.cpp — a single self-contained HTML page a person reads: the
// summary, one table row per run, then per run its verdict and reason, the
// evidence of a finding (findings, integrity violations, leaks with what is
// new, the watchdog's thread dump with record states, wait-for cycle and
// backtraces, the crash backtrace), and an inline SVG plot of every leak
// counter that moved, each with one sentence saying why it passed or leaked.
//
// Invariants:
//   - No external assets: no scripts, fonts, styles or images by URL; the
//     only URL in the page is the SVG namespace.
//   - Every string from a run is HTML-escaped (esc), quotes included, and
//     control characters other than newline and tab are shown as \xNN.
//   - Numbers are shown in the counter's unit: bytes as B/KiB/MiB/GiB,
//     counts as plain numbers; never raw floating point.
//   - The plot's sentence comes from judge_series (probes/leak_analysis.h),
//     the same function that makes the leak verdict, so the page cannot
//     explain a rule other than the one applied. The run's evidence decides
//     which counters are labelled LEAK.
#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "probes/leak_analysis.h"
#include "report/report.h"

namespace threadlab {
namespace {

std::string esc(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default:
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
          o += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        else
          o += c;
    }
  }
  return o;
}

std::string str(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

// A value in its unit: 562008064 bytes -> "536 MiB"; counts as integers
// when they are whole, else with two decimals.
std::string human(double v, bool bytes) {
  if (!bytes) {
    if (std::fabs(v - std::round(v)) < 1e-9) return fmt::format("{:.0f}", v);
    return std::fabs(v) >= 100 ? fmt::format("{:.0f}", v) : fmt::format("{:.2f}", v);
  }
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double a = std::fabs(v);
  int u = 0;
  while (a >= 1024 && u < 4) {
    a /= 1024;
    v /= 1024;
    ++u;
  }
  if (u == 0) return fmt::format("{:.0f} B", v);
  if (a >= 100) return fmt::format("{:.0f} {}", v, units[u]);
  if (a >= 10) return fmt::format("{:.1f} {}", v, units[u]);
  return fmt::format("{:.2f} {}", v, units[u]);
}

// "from → to" in units; when both round to the same text the difference
// is added, so a change is never shown as "629 MiB → 629 MiB".
std::string change(double from, double to, bool bytes) {
  std::string a = human(from, bytes), b = human(to, bytes);
  if (a != b || from == to) return a + " → " + b;
  return fmt::format("{} → {} ({}{})", a, b, to > from ? "+" : "-", human(std::fabs(to - from), bytes));
}

// An axis tick: the unit of the larger end, with enough decimals that the
// three ticks of a narrow range (629.0, 629.4, 629.8 MiB) differ.
std::string tick(double y, double lo, double hi, bool bytes) {
  double scale = 1;
  const char* unit = "";
  if (bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    const double m = std::max(std::fabs(lo), std::fabs(hi));
    int u = 0;
    while (m / scale >= 1024 && u < 4) {
      scale *= 1024;
      ++u;
    }
    unit = units[u];
  }
  const double step = (hi - lo) / 2 / scale;
  int decimals = step >= 1 ? 0 : std::min(4, static_cast<int>(std::ceil(-std::log10(step))));
  if (!bytes && step >= 0.5 && std::fabs(y - std::round(y)) > 1e-9) decimals = 1;
  return fmt::format("{:.{}f}{}{}", y / scale, decimals, bytes ? " " : "", unit);
}

std::string verdict_class(const std::string& v) {
  if (v == "pass") return "pass";
  if (v == "skip") return "skip";
  if (v == "timeout") return "slow";
  return "bad";
}

// Why the counter passed or leaked, in one sentence.
std::string explain(const LeakJudgement& j, bool judged, bool leaking, size_t warmup, size_t samples, bool bytes,
                    const std::string& name) {
  auto per = [&](double x) { return human(x, bytes) + "/cycle"; };
  if (!judged)
    return name == "rss_bytes"
               ? "Not judged: resident memory follows the allocator's high-water mark, not thread lifecycles; "
                 "shown for context."
               : "Not judged: this counter is sampled for context and never given a leak verdict.";
  if (!j.enough)
    return fmt::format("No verdict: {} sample(s) after the {} warm-up cycle(s); the leak rule needs at least 4.",
                       samples > warmup ? samples - warmup : 0, warmup);
  const std::string grew = j.slope > 0 ? "grew " + per(j.slope) : "did not grow (slope " + per(j.slope) + ")";
  if (leaking)
    return fmt::format("LEAK: after warm-up it grew {}, at or above the {} threshold, rose in {} of {} steps "
                       "and fell in {} (the rule needs rises − falls ≥ {}) and ended higher ({}).",
                       per(j.slope), per(j.threshold), j.rises, j.steps, j.falls, j.rises_needed,
                       change(j.first, j.last, bytes));
  if (j.slope < j.threshold)
    return fmt::format("Pass: after warm-up it {}, below the leak threshold of {} ({}).", grew, per(j.threshold),
                       change(j.first, j.last, bytes));
  if (j.rises < j.falls + j.rises_needed)
    return fmt::format("Pass: its slope {} reaches the {} threshold, but it rose in only {} of {} steps and fell "
                       "in {} (a leak rises in at least {} more than it falls): a step to a new high-water mark, "
                       "not steady growth.",
                       per(j.slope), per(j.threshold), j.rises, j.steps, j.falls, j.rises_needed);
  if (j.last <= j.first)
    return fmt::format("Pass: its slope {} reaches the {} threshold, but it ended no higher than it started "
                       "({}).",
                       per(j.slope), per(j.threshold), change(j.first, j.last, bytes));
  return fmt::format("Pass: this run's findings do not list it, though the rule re-applied here says it grew {}.",
                     per(j.slope));
}

// One counter's plot: the measured values, the warm-up band (labelled),
// the least-squares fit after warm-up (dashed) and the leak threshold from
// the fit's start (dotted red, clipped to the plot), with axis labels in
// the counter's unit and the sentence as caption.
std::string plot(size_t id, const std::string& name, const nlohmann::json& s, size_t warmup, bool leaking) {
  const auto& jv = s["values"];
  std::vector<double> v;
  for (auto& x : jv) v.push_back(x.get<double>());
  const bool bytes = str(s, "unit") == "bytes";
  const bool judged = s.value("judged", true);
  const LeakJudgement j = judge_series(v, bytes ? Unit::Bytes : Unit::Count, warmup);
  std::string sentence = explain(j, judged, leaking, warmup, v.size(), bytes, name);
  if (judged && warmup > 0 && v.size() > warmup && v[warmup] != v[0])
    sentence += fmt::format(" The change during warm-up ({}) is not judged.", change(v[0], v[warmup], bytes));

  double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  const size_t last = v.size() - 1;
  if (j.enough) {
    const double f0 = j.intercept, f1 = j.intercept + j.slope * static_cast<double>(last - warmup);
    lo = std::min({lo, f0, f1});
    hi = std::max({hi, f0, f1});
  }
  if (hi - lo < 1e-9) {
    lo -= 1;
    hi += 1;
  }
  const double W = 460, H = 190, L = 78, R = 12, T = 12, B = 34;
  auto X = [&](double i) { return L + (W - L - R) * i / static_cast<double>(std::max<size_t>(last, 1)); };
  auto Y = [&](double y) { return T + (H - T - B) * (hi - y) / (hi - lo); };

  std::string svg = fmt::format(
      "<figure class='plot{}'><svg xmlns='http://www.w3.org/2000/svg' width='{:.0f}' height='{:.0f}' "
      "viewBox='0 0 {:.0f} {:.0f}' role='img' aria-label='{} per cycle'>"
      "<defs><clipPath id='clip{}'><rect x='{:.0f}' y='{:.0f}' width='{:.0f}' height='{:.0f}'/></clipPath></defs>",
      leaking ? " leaking" : "", W, H, W, H, esc(name), id, L, T, W - L - R, H - T - B);
  const size_t band = std::min(warmup, last);
  if (band > 0) {
    svg += fmt::format("<rect x='{:.1f}' y='{:.0f}' width='{:.1f}' height='{:.0f}' fill='#e3e7ef'/>", L, T,
                       X(static_cast<double>(band)) - L, H - T - B);
    svg += fmt::format("<text x='{:.1f}' y='{:.0f}' class='band'>warm-up</text>", L + 3, T + 11);
  }
  // Axes, with three value ticks and the first, first-judged and last cycles.
  svg += fmt::format("<path d='M{0:.0f} {1:.0f}V{2:.0f}H{3:.0f}' class='axis'/>", L, T, H - B, W - R);
  for (double f : {0.0, 0.5, 1.0}) {
    const double y = lo + (hi - lo) * f;
    svg += fmt::format("<text x='{:.0f}' y='{:.1f}' class='tick' text-anchor='end'>{}</text>", L - 4, Y(y) + 3,
                       esc(tick(y, lo, hi, bytes)));
    svg += fmt::format("<path d='M{:.0f} {:.1f}H{:.0f}' class='grid'/>", L, Y(y), W - R);
  }
  std::set<size_t> xt = {0, band, last};
  for (size_t i : xt)
    svg += fmt::format("<text x='{:.1f}' y='{:.0f}' class='tick' text-anchor='middle'>{}</text>",
                       X(static_cast<double>(i)), H - B + 12, i);
  svg += fmt::format("<text x='{:.0f}' y='{:.0f}' class='tick' text-anchor='middle'>cycle</text>", (L + W - R) / 2,
                     H - 6);
  std::string pts;
  for (size_t i = 0; i < v.size(); ++i) pts += fmt::format("{:.1f},{:.1f} ", X(static_cast<double>(i)), Y(v[i]));
  svg += fmt::format("<polyline points='{}' class='data{}'/>", pts, leaking ? " leak" : "");
  if (j.enough && judged) {
    const double x0 = static_cast<double>(warmup), x1 = static_cast<double>(last);
    svg += fmt::format("<g clip-path='url(#clip{})'>", id);
    svg += fmt::format("<line x1='{:.1f}' y1='{:.1f}' x2='{:.1f}' y2='{:.1f}' class='threshold'/>", X(x0),
                       Y(j.intercept), X(x1), Y(j.intercept + j.threshold * (x1 - x0)));
    svg += fmt::format("<line x1='{:.1f}' y1='{:.1f}' x2='{:.1f}' y2='{:.1f}' class='fit'/>", X(x0), Y(j.intercept),
                       X(x1), Y(j.intercept + j.slope * (x1 - x0)));
    svg += "</g>";
  }
  svg += "</svg>";
  std::string legend = "<span class='k data'></span>measured";
  if (band > 0) legend += fmt::format(" <span class='k band'></span>warm-up: cycles 0–{}, not judged", band - 1);
  if (j.enough && judged)
    legend += fmt::format(" <span class='k fit'></span>fit {}/cycle <span class='k threshold'></span>"
                          "leak threshold {}/cycle",
                          esc(human(j.slope, bytes)), esc(human(j.threshold, bytes)));
  svg += fmt::format("<figcaption><b>{}</b> ({}){}<br><span class='legend'>{}</span><br>"
                     "<span class='why'>{}</span></figcaption></figure>",
                     esc(name), bytes ? "bytes" : "count", leaking ? " — <b class='bad'>LEAK</b>" : "", legend,
                     esc(sentence));
  return svg;
}

std::string findings_table(const nlohmann::json& list, bool violations) {
  std::string h = fmt::format("<h3>{}</h3><table><tr><th>{}</th><th>what</th><th>thread</th><th>address</th>"
                              "<th>cycle</th></tr>",
                              violations ? "integrity violations" : "findings", violations ? "kind" : "verdict");
  for (auto& f : list) {
    auto num = [&](const char* k) { return f.contains(k) && f[k].is_number() ? f[k].dump() : std::string("—"); };
    h += fmt::format("<tr><td class='bad'>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                     esc(str(f, violations ? "kind" : "verdict")), esc(str(f, "what")), num("thread"),
                     esc(str(f, "address")), num("cycle"));
  }
  return h + "</table>";
}

std::string leaks_section(const nlohmann::json& leaks) {
  std::string h = "<h3>leaks</h3><ul>";
  for (auto& l : leaks) {
    const bool bytes = str(l, "unit") == "bytes";
    h += fmt::format("<li><b>{}</b> grew {}/cycle after {} warm-up cycle(s): {}", esc(str(l, "counter")),
                     esc(human(l.value("slope", 0.0), bytes)), l.value("warmup", 0),
                     esc(change(l.value("first", 0.0), l.value("last", 0.0), bytes)));
    if (l.contains("new") && !l["new"].empty()) {
      h += "<br>new since the first judged cycle:<pre>";
      for (auto& n : l["new"]) h += esc(n.get<std::string>()) + "\n";
      h += "</pre>";
    }
    h += "</li>";
  }
  return h + "</ul>";
}

std::string dump_section(const nlohmann::json& dump) {
  std::string h = "<h3>thread dump (watchdog)</h3>";
  if (!str(dump, "note").empty()) h += "<p class='note'>" + esc(str(dump, "note")) + "</p>";
  if (dump.contains("cycle") && dump["cycle"].is_array() && !dump["cycle"].empty()) {
    h += "<p><b>wait-for cycle:</b></p><ol class='cycle'>";
    for (auto& e : dump["cycle"])
      h += fmt::format("<li>thread {} waits for lock <code>{}</code> held by thread {}</li>",
                       e.contains("waiter") ? esc(e["waiter"].dump()) : "?", esc(str(e, "lock")),
                       e.contains("owner") ? esc(e["owner"].dump()) : "?");
    h += "</ol>";
  }
  h += "<table><tr><th>tid</th><th>name</th><th>kernel state</th><th>kernel wait</th><th>answered</th>"
       "<th>record</th><th>record state</th><th>record waits on</th></tr>";
  std::string traces;
  for (auto& t : dump.value("threads", nlohmann::json::array())) {
    const auto& rec = t.contains("record") ? t["record"] : nlohmann::json();
    const bool has = rec.is_object();
    const std::string tid = t.contains("tid") ? t["tid"].dump() : "?";
    h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td>"
                     "<td>{}</td><td>{}</td><td>{}</td></tr>",
                     esc(tid), esc(str(t, "name")), esc(str(t, "kernel_state")), esc(str(t, "waiting_on")),
                     t.value("answered", false) ? "yes" : "<b>no</b>",
                     has ? esc(fmt::format("#{} {}", rec.contains("id") ? rec["id"].dump() : "?", str(rec, "name")))
                         : "— (unknown to the runtime)",
                     has ? esc(str(rec, "state")) : "", has ? esc(str(rec, "waiting_on")) : "");
    traces += fmt::format("<details open><summary>thread {} ({}){}</summary><pre>", esc(tid), esc(str(t, "name")),
                          has ? esc(" — record " + str(rec, "state")) : "");
    const auto& bt = t.contains("backtrace") ? t["backtrace"] : nlohmann::json::array();
    if (bt.empty()) traces += "(no backtrace)";
    for (auto& f : bt) traces += esc(f.is_string() ? f.get<std::string>() : f.dump()) + "\n";
    traces += "</pre></details>";
  }
  return h + "</table><h4>backtraces</h4>" + traces;
}

std::string crash_section(const nlohmann::json& crash) {
  std::string d;
  for (auto& f : crash.value("backtrace", nlohmann::json::array()))
    d += (f.is_string() ? f.get<std::string>() : f.dump()) + "\n";
  return fmt::format("<h3>crash: {}</h3><pre>{}</pre>", esc(str(crash, "signal")), esc(d));
}

std::string counters_section(const nlohmann::json& run, size_t* plot_id) {
  if (!run.contains("counters") || run["counters"].empty()) return "";
  std::set<std::string> leaking;
  if (run["evidence"].contains("leaks"))
    for (auto& l : run["evidence"]["leaks"]) leaking.insert(str(l, "counter"));
  const size_t warmup =
      run.contains("params") ? static_cast<size_t>(std::max(0, run["params"].value("warmup", 0))) : 0;
  std::string plots, flat;
  for (auto& [name, s] : run["counters"].items()) {
    const auto& v = s["values"];
    if (v.empty()) continue;
    bool moved = false;
    for (auto& x : v) moved = moved || x.get<double>() != v[0].get<double>();
    if (!moved && !leaking.count(name)) {
      flat += fmt::format("{}{} ({})", flat.empty() ? "" : ", ", esc(name),
                          esc(human(v[0].get<double>(), str(s, "unit") == "bytes")));
      continue;
    }
    plots += plot((*plot_id)++, name, s, warmup, leaking.count(name) > 0);
  }
  std::string h = "<h3>leak counters</h3><div class='plots'>" + plots + "</div>";
  if (!flat.empty()) h += "<p class='flat'>Unchanged in every cycle: " + flat + ".</p>";
  return h;
}

const char* kStyle =
    "body{font-family:sans-serif;margin:1.5em;color:#222;max-width:75em}"
    "table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;"
    "vertical-align:top}th{background:#f3f3f3}.pass{color:#080;font-weight:bold}.skip{color:#888}"
    ".slow{color:#b60;font-weight:bold}.bad{color:#c00;font-weight:bold}"
    "pre{background:#f6f6f6;padding:4px;max-height:30em;overflow:auto;margin:.2em 0}"
    ".plots{display:flex;flex-wrap:wrap;gap:10px}figure{margin:0;border:1px solid #ddd;padding:4px;width:460px}"
    "figure.leaking{border-color:#c00}figcaption{font-size:12px}.legend{color:#555}.why{display:block;margin-top:2px}"
    "svg text{font-size:10px;fill:#444}svg .band{fill:#667;font-style:italic}.axis{fill:none;stroke:#888}"
    ".grid{stroke:#e4e4e4}.data{fill:none;stroke:#36c;stroke-width:1.8}.data.leak{stroke:#c00}"
    ".fit{stroke:#000;stroke-width:1.2;stroke-dasharray:5 3}.threshold{stroke:#d33;stroke-width:1.2;"
    "stroke-dasharray:2 2}.k{display:inline-block;width:18px;height:0;margin:0 3px 3px 6px;border-top:2px solid}"
    ".k.data{border-color:#36c}.k.band{height:8px;border:0;background:#e3e7ef;margin-bottom:0}"
    ".k.fit{border-top:2px dashed #000}.k.threshold{border-top:2px dotted #d33}.flat,.note{color:#555;font-size:13px}"
    ".reason{font-size:15px}.runs td:nth-child(-n+5){white-space:nowrap}";

}  // namespace

std::string render_html(const nlohmann::json& r) {
  std::string h = "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>threadlab report</title><style>";
  h += kStyle;
  h += "</style></head><body>";
  h += fmt::format("<h1>threadlab {}{}</h1>", esc(str(r, "verb")),
                   r.value("partial", false) ? " (PARTIAL: interrupted)" : "");
  const auto& sum = r["summary"];
  h += fmt::format("<p>started {} · {:.1f}s · {} run(s) · <span class='{}'>{} finding(s)</span> · {} {} {}</p>",
                   esc(str(r, "started_at")), r.value("duration_s", 0.0), sum.value("total", 0),
                   sum.value("findings", 0) ? "bad" : "pass", sum.value("findings", 0), esc(str(r["host"], "os")),
                   esc(str(r["host"], "arch")), esc(str(r["host"], "kernel")));
  h += "<table class='runs'><tr><th>scenario</th><th>adapter</th><th>seed</th><th>verdict</th><th>time</th><th>reason</th></tr>";
  size_t row = 0;
  for (auto& run : r["runs"]) {
    const std::string v = str(run, "verdict");
    const bool exec = run.contains("program");  // exec: no adapter, no seed
    h += fmt::format("<tr><td><a href='#run{}'>{}</a></td><td>{}</td><td>{}</td><td class='{}'>{}</td>"
                     "<td>{:.2f}s</td><td>{}</td></tr>",
                     row++, esc(str(run, "scenario")), exec ? "—" : esc(str(run, "adapter")),
                     exec ? "—" : run["seed"].dump(), verdict_class(v), esc(v), run.value("duration_s", 0.0),
                     esc(str(run, "reason")));
  }
  h += "</table>";
  size_t i = 0, plot_id = 0;
  for (auto& run : r["runs"]) {
    const std::string v = str(run, "verdict");
    const bool exec = run.contains("program");
    h += fmt::format("<section><h2 id='run{}'>{}{} · <span class='{}'>{}</span></h2>", i++,
                     esc(str(run, "scenario")), exec ? "" : " · " + esc(str(run, "adapter")), verdict_class(v),
                     esc(v));
    if (!exec)
      h += fmt::format("<p>seed {} · cycles run {}</p>", run["seed"].dump(),
                       run.contains("cycles_run") ? run["cycles_run"].dump() : "—");
    if (!str(run, "reason").empty()) h += "<p class='reason'><b>Why:</b> " + esc(str(run, "reason")) + "</p>";
    const auto& ev = run["evidence"];
    if (ev.contains("findings") && !ev["findings"].empty()) h += findings_table(ev["findings"], false);
    if (ev.contains("violations") && !ev["violations"].empty()) h += findings_table(ev["violations"], true);
    if (ev.contains("leaks") && !ev["leaks"].empty()) h += leaks_section(ev["leaks"]);
    if (ev.contains("progress") && ev["progress"].is_object()) {
      const auto& pr = ev["progress"];
      h += fmt::format("<p>heartbeat when the watchdog fired: {} cycle(s), {} operation(s), no progress for "
                       "{:.1f}s</p>",
                       pr.contains("cycles") ? pr["cycles"].dump() : "?",
                       pr.contains("operations") ? pr["operations"].dump() : "?", pr.value("stalled_s", 0.0));
    }
    if (ev.contains("dump")) h += dump_section(ev["dump"]);
    if (ev.contains("crash")) h += crash_section(ev["crash"]);
    h += counters_section(run, &plot_id);
    if (ev.contains("output") && !str(ev, "output").empty())
      h += "<details><summary>output</summary><pre>" + esc(str(ev, "output")) + "</pre></details>";
    h += "</section>";
  }
  h += "</body></html>\n";
  return h;
}

}  // namespace threadlab
