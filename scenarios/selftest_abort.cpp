// selftest_abort.cpp — the scenario calls abort(): `crash` with SIGABRT.
#include <cstdlib>

#include "common.h"

namespace threadlab {
namespace {
void cycle(Context&) { std::abort(); }
}  // namespace

extern const Scenario selftest_abort = {
    "selftest-abort", {"selftest", "broken"}, 0,
    "Deliberately broken: the scenario aborts. The runner must report crash (SIGABRT) with a backtrace.",
    {1, 1, 1, 0, 1}, Verdict::Crash, 10, nullptr, cycle, nullptr,
};
}  // namespace threadlab
