// probes.h — leak counters sampled from a process (the harness child itself,
// or a program under `exec`), behind one narrow platform interface.
//
// Invariants:
//   - A sample is a set of named counters plus, for the counters whose growth
//     needs naming, the items behind them (fd -> link target, mappings), so a
//     leak report can say which fds or mappings are new.
//   - Counters a process's own noise makes meaningless as leak evidence
//     (RSS, the per-user queued-signal count) are sampled but not judged.
//   - The probe's own transient fds are excluded from what it reports.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace threadlab {

enum class Unit { Count, Bytes };

struct CounterValue {
  std::string name;
  double value = 0;
  Unit unit = Unit::Count;
  bool judged = true;  // may produce a `leak` verdict
};

struct ProbeSample {
  std::vector<CounterValue> counters;
  // Items behind counters, by family ("fds", "maps", "ports"): key -> label.
  std::map<std::string, std::map<std::string, std::string>> items;
};

// Sample process `pid` (0 = this process). Returns false with *err set when
// the process cannot be read.
bool probe_sample(int pid, ProbeSample* out, std::string* err);

// Which counter family an item family feeds ("fds" feeds every fd_* counter).
std::string item_family_for(const std::string& counter);

// Classify an fd link target ("anon_inode:[eventfd]" -> "eventfd").
std::string fd_kind(const std::string& link_target);

}  // namespace threadlab
