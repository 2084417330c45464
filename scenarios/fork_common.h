// fork_common.h — forking a scenario's process through the adapter
// (fork_prepare, fork(), fork_parent / fork_child: TL_CAP_FORK) and judging
// the child.
//
// Invariants:
//   - The child never reports through ctx (its channel to the harness is the
//     parent's): it runs body, writes at most one line saying what went
//     wrong into a pipe, and leaves with _exit (no atexit handler, no
//     stdio flush of the parent's buffers).
//   - The parent waits for the child up to a deadline, reading the pipe
//     meanwhile (poll, never a sleep); a child still there at the deadline
//     has its threads described (scenario_os.h) and is killed: a `deadlock`
//     finding with that dump. A child that exits non-zero is an `invariant`
//     finding with its line; one ended by a signal is a `crash`.
#pragma once
#include <functional>
#include <string>

#include <threadlab/scenario.h>

namespace threadlab::scn {

// body runs in the child and returns 0 when every check held; otherwise it
// sets why. Returns true when the child exited 0; false with a finding
// recorded otherwise (the fork's own failure included).
bool fork_child_checked(Context& ctx, const char* what, const std::function<int(std::string& why)>& body,
                        unsigned timeout_ms);

}  // namespace threadlab::scn
