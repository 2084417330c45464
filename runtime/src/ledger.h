// ledger.h — the runtime's own resource ledger, reported to the harness as
// self-reported counters (tl_get_counters).
//
// Invariant: every acquisition of a record, stack, slot or altstack bumps its
// counter in the same function that acquires it, and every release in the
// function that releases it; the harness compares the ledger with what the
// OS shows (/proc/self/maps) to catch a ledger that lies.
#pragma once
#include <atomic>
#include <cstdint>

namespace tl {

struct Ledger {
  std::atomic<uint64_t> records_live{0};
  std::atomic<uint64_t> records_adopted{0};
  std::atomic<uint64_t> stacks_mapped{0};
  std::atomic<uint64_t> stack_bytes{0};
  std::atomic<uint64_t> altstacks{0};
  std::atomic<uint64_t> slots_cached{0};
  std::atomic<uint64_t> records_cached{0};
  std::atomic<uint64_t> adoptions_total{0};
  std::atomic<uint64_t> spawns_total{0};
  std::atomic<uint64_t> records_vanished{0};
  std::atomic<uint64_t> thread_handles{0};  // thread_handles.cpp
};

Ledger& ledger();

}  // namespace tl
