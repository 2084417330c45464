// fault_classify.h — what a SIGSEGV/SIGBUS address is, for the thread whose
// record is `self` (nullptr: a thread without one).
//
// Invariants:
//   - classify() allocates nothing and takes no lock: it walks the registry
//     lock-free (registry.h) and reads only fields written before a record
//     is registered (stack bounds, zones); it is correct for any `self`,
//     including one found by native id on another thread (forwarded mode).
//   - Order: write-barrier region, then every record's value/temp zones and
//     guard pages and every spawned thread's control-stack guard page, then
//     self's control-stack guard range (the pages an adopted thread's
//     native stack overflows into). Anything else is Chain. [signal path]
#pragma once
#include <cstdint>

#include "fault_state.h"

namespace tl {

struct Record;

enum class FaultKind : uint8_t {
  Chain,               // not the runtime's: the previous handler, or a crash report
  Barrier,             // a write-barrier page: mark, unprotect, resume
  Overflow,            // self's yellow zone or control guard: unwind with TL_EOVERFLOW
  OverflowInRecovery,  // self's red zone while its yellow zone is open: crash report
  Scribble,            // another thread's guard zone, or self's red zone with yellow "closed"
};

struct Decision {
  FaultKind kind = FaultKind::Chain;
  Record* owner = nullptr;                 // whose zone or guard
  Record* writer = nullptr;                // the record the decider classified for (self)
  Recovering stack = Recovering::None;     // which of owner's stacks
};

Decision classify(Record* self, uintptr_t addr);
// The kernel could not deliver another signal on self's stack (a handler
// installed without SA_ONSTACK met a full stack): an overflow of self's
// control stack when the interrupted sp is at its low end, else Chain.
Decision classify_failed_delivery(Record* self, uintptr_t sp);

}  // namespace tl
