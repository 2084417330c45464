// cpu_judge.h — is a program that is still running at its time-up stuck or
// busy? Judged from two task_cpu samples (tasks.h) taken `window_s` apart.
//
// The rule (docs/report-schema.md, "Deadlock or timeout"): a thread is busy
// when it gained at least one clock tick (10 ms) in the window; the program
// is busy when a thread is and its threads together used at least
// kBusyCpuShare of the window. A program whose threads all sleep (futex,
// read, a join) uses none.
//
// Invariants:
//   - Pure (no clock, no /proc), header-only: unit-testable on any platform.
//   - A thread's time never counts negative: a thread that exists only in
//     `after`, or whose tid was reused, counts with all its CPU time.
#pragma once

#include <algorithm>
#include <map>
#include <vector>

#include "probes/tasks.h"

namespace threadlab {

constexpr double kBusyCpuShare = 0.02;

struct CpuJudgement {
  bool busy = false;
  int threads = 0, busy_threads = 0;
  double cpu_s = 0, window_s = 0;
};

inline CpuJudgement judge_cpu(const std::vector<TaskCpu>& before, const std::vector<TaskCpu>& after, double window_s) {
  constexpr double kTick = 0.01;
  std::map<int64_t, double> start;
  for (auto& t : before) start[t.tid] = t.cpu_s;
  CpuJudgement j;
  j.window_s = window_s;
  j.threads = static_cast<int>(after.size());
  for (auto& t : after) {
    auto it = start.find(t.tid);
    double used = it == start.end() || t.cpu_s < it->second ? t.cpu_s : t.cpu_s - it->second;
    j.cpu_s += used;
    if (used >= kTick - 1e-9) ++j.busy_threads;
  }
  j.busy = j.busy_threads > 0 && j.cpu_s >= std::max(kTick, kBusyCpuShare * window_s);
  return j;
}

}  // namespace threadlab
