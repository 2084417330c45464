// leak_analysis.cpp — series bookkeeping and the leak rule (see header).
#include "probes/leak_analysis.h"

#include <algorithm>
#include <cmath>

namespace threadlab {

double slope(const std::vector<double>& v, size_t from) {
  if (v.size() < from + 2) return 0;
  const double n = static_cast<double>(v.size() - from);
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = from; i < v.size(); ++i) {
    double x = static_cast<double>(i - from), y = v[i];
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  double den = n * sxx - sx * sx;
  return den == 0 ? 0 : (n * sxy - sx * sy) / den;
}

LeakJudgement judge_series(const std::vector<double>& v, Unit unit, size_t warmup) {
  LeakJudgement j;
  j.threshold = unit == Unit::Bytes ? 4096.0 : 0.3;
  if (v.size() < warmup + 4) return j;
  j.enough = true;
  j.slope = slope(v, warmup);
  double mean_y = 0;
  for (size_t i = warmup; i < v.size(); ++i) mean_y += v[i];
  const double n = static_cast<double>(v.size() - warmup);
  mean_y /= n;
  j.intercept = mean_y - j.slope * (n - 1) / 2;  // the fit passes through (mean x, mean y)
  for (size_t i = warmup + 1; i < v.size(); ++i, ++j.steps)
    if (v[i] > v[i - 1])
      ++j.rises;
    else if (v[i] < v[i - 1])
      ++j.falls;
  // A leak grows in most cycles; a cache that reaches a new high-water
  // mark once (malloc arenas, slot chunks, a brk heap) is a step, not a
  // slope; a count that falls as often as it rises is wandering, not
  // growing. Bytes move with such marks more often than counts do.
  j.rises_needed = unit == Unit::Bytes ? (j.steps * 2 + 2) / 3 : (j.steps + 1) / 2;
  j.first = v[warmup];
  j.last = v.back();
  j.leaking = j.slope >= j.threshold && j.rises >= j.falls + j.rises_needed && j.last > j.first;
  return j;
}

void SeriesSet::add(const ProbeSample& s) {
  for (auto& c : s.counters) add_counter(c.name, c.value, c.unit, c.judged);
}

void SeriesSet::add_counter(const std::string& name, double value, Unit unit, bool judged) {
  auto& s = series_[name];
  s.unit = unit;
  s.judged = judged;
  s.values.resize(n_, value);  // a counter that appeared late starts flat
  s.values.push_back(value);
}

void SeriesSet::end_sample(const ProbeSample* with_items) {
  ++n_;
  for (auto& [name, s] : series_)
    if (s.values.size() < n_) s.values.resize(n_, s.values.empty() ? 0 : s.values.back());
  last_items_ = with_items ? with_items->items : Items{};
  if (n_ == warmup_ + 1) base_items_ = last_items_;
}

nlohmann::json SeriesSet::leaks() const {
  const size_t warmup = warmup_;
  nlohmann::json out = nlohmann::json::array();
  if (n_ < warmup + 4) return out;
  for (auto& [name, s] : series_) {
    if (!s.judged) continue;
    const LeakJudgement j = judge_series(s.values, s.unit, warmup);
    if (!j.leaking) continue;
    const double k = j.slope, first = j.first, last = j.last;
    nlohmann::json leak = {{"counter", name},
                           {"unit", s.unit == Unit::Bytes ? "bytes" : "count"},
                           {"slope", k},
                           {"first", first},
                           {"last", last},
                           {"warmup", warmup},
                           {"new", nlohmann::json::array()}};
    const std::string fam = item_family_for(name);
    if (!fam.empty()) {
      auto a = base_items_.find(fam), b = last_items_.find(fam);
      if (b != last_items_.end()) {
        std::string kind = name.rfind("fd_", 0) == 0 ? "(" + name.substr(3) + ")" : "";
        for (auto& [key, label] : b->second) {
          bool old = a != base_items_.end() && a->second.count(key) && a->second.at(key) == label;
          if (old) continue;
          if (!kind.empty() && label.find(kind) == std::string::npos) continue;
          if (label.find("[malloc arena]") != std::string::npos) continue;  // not in maps_count (maps_linux.h)
          if (leak["new"].size() >= 20) break;
          leak["new"].push_back(key + " -> " + label);
        }
      }
    }
    out.push_back(leak);
  }
  // Most specific evidence first: named fds, the runtime's own ledger,
  // threads, then mappings and bytes.
  auto rank = [](const std::string& n) {
    if (n.rfind("fd_", 0) == 0 || n.rfind("mach_port_", 0) == 0 || n == "posix_timers") return 0;
    if (n.rfind("rt_", 0) == 0) return 1;
    if (n == "threads") return 2;
    if (n == "maps_count") return 3;
    return 4;
  };
  std::stable_sort(out.begin(), out.end(), [&](const nlohmann::json& a, const nlohmann::json& b) {
    return rank(a["counter"].get<std::string>()) < rank(b["counter"].get<std::string>());
  });
  return out;
}

nlohmann::json SeriesSet::to_json() const {
  const size_t warmup = warmup_;
  nlohmann::json out = nlohmann::json::object();
  for (auto& [name, s] : series_)
    out[name] = {{"unit", s.unit == Unit::Bytes ? "bytes" : "count"},
                 {"judged", s.judged},
                 {"values", s.values},
                 {"slope", std::isfinite(slope(s.values, warmup)) ? slope(s.values, warmup) : 0.0}};
  return out;
}

}  // namespace threadlab
