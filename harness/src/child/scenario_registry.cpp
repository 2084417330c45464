// scenario_registry.cpp — the scenarios registered by their own files
// (RegisterScenario), verdict names and ranks, and the Context helpers every
// scenario shares.
//
// Invariants:
//   - The harness names no scenario: each scenario file registers itself
//     during static initialisation, and the build links scenario files as
//     objects, so none is dropped (scenarios/CMakeLists.txt).
//   - Registration only appends; all_scenarios() is first called from main,
//     after static initialisation, and sorts by name once.
//   - A name registered twice ends the process with a message at start-up,
//     before any scenario runs.
#include <threadlab/scenario.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace threadlab {
namespace {
std::vector<const Scenario*>& registered() {
  static std::vector<const Scenario*> all;
  return all;
}
}  // namespace

RegisterScenario::RegisterScenario(Scenario s) : scenario(std::move(s)) {
  for (const Scenario* other : registered())
    if (std::strcmp(other->name, scenario.name) == 0) {
      std::fprintf(stderr, "threadlab: scenario '%s' is registered twice\n", scenario.name);
      std::exit(2);
    }
  registered().push_back(&scenario);
}

const std::vector<const Scenario*>& all_scenarios() {
  static const std::vector<const Scenario*> sorted = [] {
    auto all = registered();
    std::sort(all.begin(), all.end(), [](const Scenario* a, const Scenario* b) { return std::strcmp(a->name, b->name) < 0; });
    return all;
  }();
  return sorted;
}

const Scenario* find_scenario(const std::string& name) {
  for (auto* s : all_scenarios())
    if (name == s->name) return s;
  return nullptr;
}

namespace {
constexpr const char* kNames[] = {"pass",      "skip",     "fail",     "timeout", "leak",
                                   "invariant", "scribble", "deadlock", "crash"};
constexpr int kVerdicts = static_cast<int>(sizeof kNames / sizeof kNames[0]);
static_assert(kVerdicts == static_cast<int>(Verdict::Crash) + 1, "a name for every verdict");
}
const char* verdict_name(Verdict v) { return kNames[static_cast<int>(v)]; }
bool verdict_from_name(const std::string& s, Verdict* out) {
  for (int i = 0; i < kVerdicts; ++i)
    if (s == kNames[i]) {
      *out = static_cast<Verdict>(i);
      return true;
    }
  return false;
}
int verdict_rank(Verdict v) { return static_cast<int>(v); }

bool Context::ok(int rc, const char* call) {
  if (rc == TL_ADAPTER_OK) return true;
  const char* why = rt && rt->last_error ? rt->last_error() : "";
  finding(Verdict::Fail, fmt::format("{} failed with status {}: {}", call, rc, why ? why : ""));
  return false;
}

const tl_adapter* CheckedCalls::rt() const { return ctx_->rt; }

bool CheckedCalls::check(int rc, const char* op) const {
  // TL_ADAPTER_OWNER_DIED: the lock is held; a scenario that cares asks rt->lock.
  if (rc == TL_ADAPTER_OK || rc == TL_ADAPTER_OWNER_DIED) return true;
  return ctx_->ok(rc, note_ ? fmt::format("{} ({})", op, note_).c_str() : op);
}

bool CheckedCalls::collect(bool* deferred) const {
  const int rc = rt()->collect();
  if (deferred) *deferred = rc == TL_ADAPTER_DEFERRED;
  if (rc == TL_ADAPTER_ETIMEDOUT) {  // the world could not be stopped
    const char* why = rt()->last_error ? rt()->last_error() : "";
    ctx_->finding(Verdict::Deadlock, fmt::format("collect could not stop the world: {}", why ? why : ""));
    return false;
  }
  return rc == TL_ADAPTER_DEFERRED || check(rc, "collect");
}

}  // namespace threadlab
