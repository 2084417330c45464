// selftest_stack_overflow.cpp — a foreign thread (the runtime does not know
// it, so the fault reaches the harness's handler) recurses until its stack
// runs out. Proves the crash handler runs on an alternate stack on threads
// other than the main one (the overflowing stack has no room for it) and
// reports `crash` with the overflowing thread's backtrace.
#include <cstdint>

#include "common.h"

namespace threadlab {
namespace {

// Each frame keeps a page-sized buffer alive past the recursion, so the
// compiler can neither turn the recursion into a loop nor drop the frames.
// The depth test never ends it (the stack runs out first); it only keeps the
// compiler from calling the recursion infinite.
[[gnu::noinline]] uint64_t overflow_stack(uint64_t depth) {
  if (depth == UINT64_MAX) return 0;
  volatile char frame[4096];
  frame[0] = static_cast<char>(depth);
  return overflow_stack(depth + 1) + static_cast<uint64_t>(frame[0]);
}

void cycle(Context&) {
  scn::run_foreign(1, [](int) { (void)overflow_stack(0); });
}

}  // namespace

const RegisterScenario registered{{
    .name = "selftest-stack-overflow",
    .tags = scn::kSelftestTags,
    .description = "Deliberately broken: a foreign thread recurses until its stack overflows. The runner must "
        "report crash (SIGSEGV) with the overflowing thread's backtrace: the crash handler needs an alternate "
        "stack on that thread.",
    .defaults = scn::one_cycle(1),
    .expected = Verdict::Crash,
    .timeout_s = 10,
    .cycle = cycle,
}};

}  // namespace threadlab
