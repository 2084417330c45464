// state.cpp — the transition table and checked transitions.
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "state.h"

#include "fatal.h"
#include "sigsafe_buf.h"

namespace tl {

namespace {
// kAllowed[from][to]
constexpr bool kAllowed[kStateCount][kStateCount] = {
    //            Creat  Manag  Forei  Block  Exit   Dead
    /*Creating*/ {false, true, false, false, false, true},
    /*Managed */ {false, false, true, true, true, false},
    /*Foreign */ {false, true, false, false, true, false},
    /*Blocked */ {false, true, false, false, false, false},
    /*Exiting */ {false, false, false, false, false, true},
    /*Dead    */ {false, false, false, false, false, false},
};
}  // namespace

const char* state_name(State s) { return tl_state_name(static_cast<int>(s)); }

bool transition_allowed(State from, State to) {
  auto f = static_cast<unsigned>(from), t = static_cast<unsigned>(to);
  return f < kStateCount && t < kStateCount && kAllowed[f][t];
}

bool try_transition(std::atomic<uint32_t>& word, State from, State to, uint64_t who,
                    bool through_stop) {
  uint32_t cur = word.load(std::memory_order_acquire);
  for (;;) {
    if (!transition_allowed(from, to) || state_of(cur) != from) {
      SigsafeBuf<192> m;
      m.str("invalid state transition ").str(state_name(state_of(cur))).str(" (expected ")
          .str(state_name(from)).str(") -> ").str(state_name(to)).str(" for thread ")
          .dec(static_cast<int64_t>(who));
      fatal_error(m.c_str());
    }
    if ((cur & kStopBit) && !through_stop) return false;
    uint32_t next = (cur & ~kStateMask) | static_cast<uint32_t>(to);
    if (word.compare_exchange_weak(cur, next, std::memory_order_acq_rel)) return true;
  }
}

}  // namespace tl

extern "C" const char* tl_state_name(int state) {
  switch (state) {
    case TL_STATE_CREATING: return "creating";
    case TL_STATE_MANAGED: return "managed";
    case TL_STATE_FOREIGN: return "foreign";
    case TL_STATE_BLOCKED: return "blocked";
    case TL_STATE_EXITING: return "exiting";
    case TL_STATE_DEAD: return "dead";
    default: return "invalid";
  }
}
