// fault_report.h — what the fault handler tells the rest of the world:
// counters, and scribble reports kept for tl_check_integrity.
//
// Invariants:
//   - note_scribble is async-signal-safe (atomics into a fixed table); the
//     first kMaxScribbles reports are kept, later ones only counted.
//   - A kept report is complete before it is published (its sequence word
//     is stored last, release); readers copy only published ones.
#pragma once
#include <atomic>
#include <cstdint>

#include "threadlab/runtime.h"

namespace tl {

struct Record;

struct FaultCounters {
  std::atomic<uint64_t> overflows_recovered{0};
  std::atomic<uint64_t> barrier_faults{0};
  std::atomic<uint64_t> forwarded{0};
  std::atomic<uint64_t> chained{0};
  std::atomic<uint64_t> scribbles{0};
};
FaultCounters& fault_counters();

// `writer`: the faulting thread's id (0: unknown, or no record); `owner`:
// the record whose zone was hit. [signal path]
void note_scribble(uint64_t writer, int64_t writer_tid, const Record* owner, uintptr_t addr, const char* what);
// Append the kept reports as violations (tl_check_integrity).
int scribble_violations(tl_violation* out, size_t cap, int found);

}  // namespace tl
