// selftest_flood.cpp — prints 8 MiB to stdout and stderr, then passes.
// Proves an output flood neither blocks the child nor swamps the runner
// (the report keeps a bounded head and tail and the byte count).
#include <unistd.h>

#include <string>

#include "common.h"

namespace threadlab {
namespace {
void cycle(Context&) {
  std::string line(1023, 'x');
  line += '\n';
  for (int i = 0; i < 8 * 1024; ++i) (void)!write(i % 2 ? 2 : 1, line.data(), line.size());
}
}  // namespace

const RegisterScenario registered{{
    .name = "selftest-flood",
    .tags = scn::kSelftestTags,
    .description = "Deliberately noisy: prints 8 MiB on stdout and stderr and passes. The runner must drain it, "
        "keep a bounded head and tail, and record the byte count.",
    .defaults = scn::one_cycle(1),
    .timeout_s = 20,
    .cycle = cycle,
}};
}  // namespace threadlab
