// guard_zone.h — the yellow and red zones of a value or temp stack: how an
// overflow of a runtime stack becomes a recoverable error (HotSpot's yellow
// zone) instead of a write into the canaries or the next mapping.
//
//   lo ............ limit=zone [ yellow ][  red  ][canaries]hi [guard page]
//   grows up ─►                 1 page    1 page
//
// Invariants:
//   - Both zones are PROT_NONE whenever no overflow is being recovered. The
//     yellow zone opens only for its own thread's recovery (fault.cpp), and
//     is closed again after the unwind lands (catch.cpp): a later overflow
//     faults in it exactly like the first.
//   - The red zone never opens: an overflow while the yellow zone is open
//     (overflow during recovery) faults there and ends in a crash report,
//     and one with the yellow zone believed closed proves the zone was open
//     anyway — a scribble.
//   - Nothing but an unchecked push (tl_value_push_unchecked) can reach a
//     zone: checked pushes stop at limit().
//   - zone_hit and the open/close calls are async-signal-safe (one mprotect
//     at most). [signal path]
#pragma once
#include <cstdint>

#include "stack.h"

namespace tl {

enum class ZoneHit { None, Yellow, Red, Guard };

// Carve the zones out of a freshly placed stack (stack.cpp); true when the
// stack is too small for them (no zones) or they are closed.
bool zone_place(GuardedStack& s);
// Close both zones again (after reopen made the whole range read-write).
bool zone_close_all(GuardedStack& s);
bool zone_open_yellow(GuardedStack& s);
bool zone_close_yellow(GuardedStack& s);
// Which protected part of s holds addr.
ZoneHit zone_hit(const GuardedStack& s, uintptr_t addr);

}  // namespace tl
