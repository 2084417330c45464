// selftest_crash.cpp — a managed thread writes through a null pointer.
// Proves the runner reports `crash` with the signal and the crashing
// thread's backtrace, and that the other runs survive it.
#include "common.h"

namespace threadlab {
namespace {
int* volatile g_null = nullptr;  // volatile: the compiler cannot prove the store away
[[gnu::noinline]] void write_through_null() { *g_null = 42; }
void cycle(Context& ctx) {
  scn::run_managed(ctx, 1, "crasher", [](int) { write_through_null(); });
}
}  // namespace

const RegisterScenario registered{{
    .name = "selftest-crash",
    .tags = scn::kSelftestTags,
    .caps = TL_CAP_SPAWN,
    .description = "Deliberately broken: a managed thread writes through a null pointer. The runner must report "
        "crash (SIGSEGV) with the crashing thread's backtrace and keep every other run's result.",
    .defaults = scn::one_cycle(1),
    .expected = Verdict::Crash,
    .timeout_s = 10,
    .cycle = cycle,
}};
}  // namespace threadlab
