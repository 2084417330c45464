// leak_analysis.h — per-counter series over lifecycles, and the leak verdict.
//
// Invariants:
//   - Warm-up cycles are excluded: caches, arenas and lazily created threads
//     settle there. The verdict looks only at samples after them.
//   - A counter leaks when, after warm-up, its least-squares slope per cycle
//     reaches the unit's threshold (0.3 per cycle for counts, one page per
//     cycle for bytes), it rose in at least half of the steps more often
//     than it fell (rises − falls; two thirds for bytes), and it ended
//     higher than it started. A single step of a lazily built pool is not a
//     leak; nor is a count that wanders up and down by one and now and then
//     jumps to a new high-water mark (mappings split and merged as a cache
//     of guarded stacks is reopened and retired). Fewer than 4 post-warm-up samples give no verdict.
//   - Evidence names what is new: items (fds, mappings, ports) present in
//     the last sample but not in the first post-warm-up sample.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "probes/probes.h"

namespace threadlab {

struct Series {
  Unit unit = Unit::Count;
  bool judged = true;
  std::vector<double> values;
};

class SeriesSet {
 public:
  // Items are kept for two samples only — the first after warm-up and the
  // latest — so sampling itself does not grow the heap it measures.
  explicit SeriesSet(size_t warmup) : warmup_(warmup) {}
  void add(const ProbeSample& s);
  void add_counter(const std::string& name, double value, Unit unit, bool judged);
  // Call once per cycle after add()/add_counter() so item snapshots line up.
  void end_sample(const ProbeSample* with_items);
  size_t samples() const { return n_; }
  const std::map<std::string, Series>& series() const { return series_; }

  // Leak findings as JSON objects (counter, unit, slope, first, last, new).
  nlohmann::json leaks() const;
  // Every series as JSON: name -> {unit, judged, values, slope}.
  nlohmann::json to_json() const;

 private:
  std::map<std::string, Series> series_;
  using Items = std::map<std::string, std::map<std::string, std::string>>;
  Items base_items_, last_items_;
  size_t warmup_;
  size_t n_ = 0;
};

// Least-squares slope of values[from..] against their index.
double slope(const std::vector<double>& v, size_t from);

// The leak rule applied to one series, with every quantity it looked at, so
// a report can say why a counter passed or leaked (report_html.cpp).
struct LeakJudgement {
  bool enough = false;        // at least 4 samples after warm-up
  double slope = 0;           // least-squares slope per cycle after warm-up
  double intercept = 0;       // the fit's value at the first post-warm-up cycle
  double threshold = 0;       // slope at which a leak starts (per cycle)
  size_t rises = 0, falls = 0, steps = 0;
  size_t rises_needed = 0;    // rises − falls the rule asks for out of `steps`
  double first = 0, last = 0; // first post-warm-up sample and the last one
  bool leaking = false;
};
LeakJudgement judge_series(const std::vector<double>& v, Unit unit, size_t warmup);

}  // namespace threadlab
