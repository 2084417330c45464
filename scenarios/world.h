// world.h — stopping the world through the adapter, as scenarios do it.
//
// Invariants:
//   - A stop that times out is a `deadlock` finding whose text is the
//     runtime's own diagnosis (who never answered, in which state); any
//     other failure is `fail`. The runtime restarted the world either way.
//   - snapshot/compare name the first thread that ran managed code while the
//     world was stopped, as an `invariant` finding.
#pragma once

#include <threadlab/scenario.h>

namespace threadlab::scn {

bool stop_world(Context& ctx, const char* why);
bool restart_world(Context& ctx);
// True when a finding of this verdict or worse was recorded (a scenario
// that saw a deadlock stops waiting for threads that may never return).
bool has_deadlock(Context& ctx);

}  // namespace threadlab::scn
