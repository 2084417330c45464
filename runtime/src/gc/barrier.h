// barrier.h — the write barrier: a region of the managed heap whose pages
// are write-protected while armed, so the first write to a page after a
// collection faults, marks that page's card and unprotects it (a card-marking
// barrier done with page protection, as Boehm GC's incremental mode and
// CCL's do).
//
// Invariants:
//   - A card is marked before its page is unprotected, so a page that is
//     writable while armed always has its card marked: no write is missed.
//   - Arming (at tl_gc_barrier_arm, and at the end of every collection,
//     with the world stopped) clears the cards and protects every page.
//     Marking runs on the faulting thread, inside its fault handler, where
//     a stop cannot land (async signals stay blocked there): arming never
//     interleaves with a mark of a thread that has a record.
//   - barrier_on_fault is async-signal-safe: atomics and one mprotect.
//     [signal path]
#pragma once
#include <cstdint>

namespace tl::gc {

// True (after marking and unprotecting) when addr is in the armed region.
bool barrier_on_fault(uintptr_t addr);
// True when addr lies in the region at all (armed or not).
bool barrier_contains(uintptr_t addr);
// For the collector (world stopped): scan the region, then re-arm it.
void barrier_scan(void (*scan)(uintptr_t lo, uintptr_t hi));
void barrier_rearm();
uint64_t barrier_faults();

}  // namespace tl::gc
