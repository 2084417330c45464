// slot.h — thread slots: the memory of a runtime-created thread.
//
// A slot is one power-of-two sized, equally aligned region:
//
//   base ─► [Slot header + Record][guard page][control stack ........]  base+size
//                                              ▲ canaries    grows down ▲
//
// so `sp & ~(size-1)` is the slot header for any address on the thread's
// stack (current.h, strategy 3). Slots are carved from chunks: large
// PROT_NONE reservations kept on a lock-free, append-only list that is never
// unmapped, which makes "is this address in a slot?" safe in a signal
// handler. There is no fixed cap: a new chunk is reserved when the others
// are full.
//
// Invariants:
//   - A slot is in exactly one of: in use (its record registered or being
//     torn down), cached (committed, stacks kept, record not registered),
//     decommitted (stack pages returned, value/temp stacks unmapped; the
//     header page stays so the free list can live in it).
//   - Cached slots are at most the configured cache size; the rest are
//     decommitted at release, so memory use follows the live thread count.
#pragma once
#include <cstddef>
#include <cstdint>

#include "record.h"

namespace tl {

constexpr uint64_t kSlotMagic = 0x536c6f7448647221ull;

struct Chunk;

struct Slot {
  uint64_t magic;
  Record* record;  // placement-new'd right after this header
  Chunk* chunk;
  Slot* next_free;
  uintptr_t stack_lo;  // first usable byte of the control stack
  uintptr_t stack_hi;  // one past the last
  bool committed;
};

// Configure once, before the first acquire: slot size (power of two,
// >= 64 KiB) and how many spare slots to keep.
void slots_configure(size_t slot_bytes, size_t cache_cap, size_t value_bytes, size_t temp_bytes);
size_t slot_bytes();

// A committed slot with its record constructed and value/temp stacks
// mapped; nullptr with errno ENOMEM when memory runs out.
Slot* slot_acquire();
// Return a slot whose thread has been joined.
void slot_release(Slot* s);
// Drop every cached slot (pages back to the OS).
void slots_trim();
size_t slots_cached();

// The slot containing addr, or nullptr. Async-signal-safe.
Slot* slot_containing(uintptr_t addr);

}  // namespace tl
