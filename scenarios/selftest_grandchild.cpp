// selftest_grandchild.cpp — forks a grandchild that sleeps forever, then
// passes. Proves the runner kills the whole process group and reports the
// stray process (verdict fail) instead of hanging or leaking it.
#include <signal.h>
#include <unistd.h>

#include "common.h"

namespace threadlab {
namespace {
void cycle(Context& ctx) {
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  if (pid < 0) ctx.finding(Verdict::Fail, "fork failed");
}
}  // namespace

const RegisterScenario registered{{
    .name = "selftest-grandchild",
    .tags = scn::kSelftestTags,
    .description = "Deliberately broken: leaves a grandchild process sleeping forever. The runner must kill the "
        "process group and report the stray process.",
    .defaults = scn::one_cycle(1),
    .expected = Verdict::Fail,
    .timeout_s = 10,
    .cycle = cycle,
}};
}  // namespace threadlab
