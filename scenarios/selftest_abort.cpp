// selftest_abort.cpp — the scenario calls abort(): `crash` with SIGABRT.
#include <cstdlib>

#include "common.h"

namespace threadlab {
namespace {
void cycle(Context&) { std::abort(); }
}  // namespace

const RegisterScenario registered{{
    .name = "selftest-abort",
    .tags = scn::kSelftestTags,
    .description = "Deliberately broken: the scenario aborts. The runner must report crash (SIGABRT) with a "
        "backtrace.",
    .defaults = scn::one_cycle(1),
    .expected = Verdict::Crash,
    .timeout_s = 10,
    .cycle = cycle,
}};
}  // namespace threadlab
