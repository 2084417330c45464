// threadlab scenario API (C++).
//
// A scenario is one file in scenarios/ defining a `threadlab::Scenario` and
// listed in scenarios/list.def. It drives a runtime only through the adapter
// (ctx.rt), in lifecycles: setup once, `cycle` N times, teardown once. The
// harness samples every leak counter after each cycle and checks integrity.
//
// Invariants:
//   - A scenario declares every capability it uses in `caps`; the harness
//     skips it (with the reason) on an adapter that lacks one.
//   - Findings go through ctx.finding(); the first cycle that reports one is
//     the last cycle run. Findings are thread-safe to report.
//   - `cycle` returns with every thread it started joined, so the process is
//     back in its steady state and the probes measure leaks, not work.
#pragma once

#include <threadlab/adapter.h>

#include <cstdint>
#include <string>
#include <vector>

namespace threadlab {

enum class Verdict { Pass, Skip, Fail, Leak, Invariant, Scribble, Deadlock, Crash };
const char* verdict_name(Verdict v);
bool verdict_from_name(const std::string& s, Verdict* out);
// Higher is worse: a run's verdict is the worst of its findings.
int verdict_rank(Verdict v);

struct Params {
  int threads = 4;      // worker threads per cycle
  int iterations = 50;  // work per thread per cycle
  int cycles = 20;      // lifecycles per run
  int warmup = 4;       // cycles excluded from the leak fit
  uint64_t seed = 1;
};

class Context {
 public:
  virtual ~Context() = default;
  const tl_adapter* rt = nullptr;
  Params params;
  int cycle_index = 0;

  // Record a finding. `thread` and `address` are 0 when unknown.
  virtual void finding(Verdict v, const std::string& what, uint64_t thread = 0,
                       uintptr_t address = 0) = 0;
  virtual bool has_findings() const = 0;
  // Deterministic per-stream random numbers (stream 0 for the driver,
  // stream i+1 for worker i).
  virtual uint64_t random(uint64_t stream) = 0;
  // Check an adapter status; on failure record a `fail` finding naming the
  // call and the adapter's last_error. Returns true when rc == OK.
  bool ok(int rc, const char* call);
};

struct Scenario {
  const char* name;
  std::vector<std::string> tags;
  uint64_t caps;             // TL_CAP_* the scenario needs
  const char* description;   // one paragraph: the bug class it guards against
  Params defaults;
  Verdict expected;          // on the reference runtime without injection
  int timeout_s;             // per run; --timeout overrides
  void (*setup)(Context&);   // may be null
  void (*cycle)(Context&);   // required
  void (*teardown)(Context&);// may be null
};

// Every scenario listed in scenarios/list.def, in that order.
const std::vector<const Scenario*>& all_scenarios();
const Scenario* find_scenario(const std::string& name);

}  // namespace threadlab
