// state.h — the record state machine. Its edges, exactly the table in
// state.cpp (state_test checks that these lines and the table agree):
//
//   CREATING -> MANAGED | DEAD
//   MANAGED  -> FOREIGN | BLOCKED | EXITING
//   FOREIGN  -> MANAGED | EXITING
//   BLOCKED  -> MANAGED
//   EXITING  -> DEAD
//   DEAD     -> (none)
//
// (CREATING -> DEAD only when a spawn fails; BLOCKED leaves only for
// MANAGED, so a blocked thread that exits passes through MANAGED.)
//
// Invariants:
//   - Only the owning thread moves its own record between MANAGED, FOREIGN,
//     BLOCKED and EXITING; the creator moves CREATING→DEAD when a spawn
//     fails. Every move goes through transition(), which checks it against
//     the table and reports a bad move through the fatal path.
//   - The state lives in the low byte of an atomic word; the upper bits are
//     reserved for suspension flags, so other threads read the state and the
//     stop request together.
#pragma once
#include <atomic>
#include <cstdint>

#include "threadlab/runtime.h"

namespace tl {

enum class State : uint8_t {
  Creating = TL_STATE_CREATING,
  Managed = TL_STATE_MANAGED,
  Foreign = TL_STATE_FOREIGN,
  Blocked = TL_STATE_BLOCKED,
  Exiting = TL_STATE_EXITING,
  Dead = TL_STATE_DEAD,
};
constexpr int kStateCount = 6;

constexpr uint32_t kStateMask = 0xffu;
// Set by a stopper on a record it is stopping (world.h); cleared at resume.
constexpr uint32_t kStopBit = 0x100u;

const char* state_name(State s);

// True when moving from `from` to `to` is one of the table's edges.
bool transition_allowed(State from, State to);

inline State state_of(uint32_t word) { return static_cast<State>(word & kStateMask); }

// Move *word from `from` to `to`, keeping the flag bits. A move that is not
// in the table, or a word that is not in `from`, is a fatal invariant error
// naming both states and `who`. Returns false, changing nothing, when the
// stop bit is set and `through_stop` is false.
bool try_transition(std::atomic<uint32_t>& word, State from, State to, uint64_t who,
                    bool through_stop);
inline void transition(std::atomic<uint32_t>& word, State from, State to, uint64_t who) {
  try_transition(word, from, to, who, true);
}

}  // namespace tl
