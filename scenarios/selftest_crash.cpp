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

extern const Scenario selftest_crash = {
    "selftest-crash", {"selftest", "broken"}, TL_CAP_SPAWN,
    "Deliberately broken: a managed thread writes through a null pointer. The runner must report crash "
    "(SIGSEGV) with the crashing thread's backtrace and keep every other run's result.",
    {1, 1, 1, 0, 1}, Verdict::Crash, 10, nullptr, cycle, nullptr,
};
}  // namespace threadlab
