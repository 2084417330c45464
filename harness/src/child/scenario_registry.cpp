// scenario_registry.cpp — the list of scenarios (scenarios/list.def), verdict
// names and ranks, and the Context helpers every scenario shares.
//
// Invariant: scenarios are listed explicitly, not registered by static
// constructors, so no linker ever drops one silently.
#include <threadlab/scenario.h>

#include <fmt/format.h>

namespace threadlab {

#define S(ident) extern const Scenario ident;
#include "list.def"
#undef S

const std::vector<const Scenario*>& all_scenarios() {
  static const std::vector<const Scenario*> all = {
#define S(ident) &(ident),
#include "list.def"
#undef S
  };
  return all;
}

const Scenario* find_scenario(const std::string& name) {
  for (auto* s : all_scenarios())
    if (name == s->name) return s;
  return nullptr;
}

namespace {
constexpr const char* kNames[] = {"pass", "skip", "fail", "leak", "invariant", "scribble", "deadlock", "crash"};
}
const char* verdict_name(Verdict v) { return kNames[static_cast<int>(v)]; }
bool verdict_from_name(const std::string& s, Verdict* out) {
  for (int i = 0; i < 8; ++i)
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

}  // namespace threadlab
