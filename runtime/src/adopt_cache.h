// adopt_cache.h — released records of adopted threads, kept for the next
// adoption.
//
// When an adopted thread has exited and its record is freed, the record and
// its value and temp stacks wait here for the next foreign thread's first
// callback, which then maps nothing (the slot cache does the same for
// spawned threads, slot.h).
//
// Invariants:
//   - A cached record is unregistered (magic kDeadMagic), is not counted in
//     records_live, and its stacks stay retired (PROT_NONE, guards intact)
//     until adopt_cache_take reopens them, so a late access by the thread
//     that owned it still faults. Its stacks are still mapped: they stay in
//     stacks_mapped and stack_bytes, and records_cached counts the records.
//   - At most the configured number of records is kept; the rest are
//     unmapped and deleted at once. adopt_cache_trim (tl_trim) empties it.
//   - The cache lock is a leaf lock, held only inside a no-stop scope.
#pragma once
#include <cstddef>

namespace tl {

struct Record;

// Configure once, before the first adoption.
void adopt_cache_configure(size_t cap);
// A cached record with its stacks read-write again and reset for a new
// life (record_reset), or nullptr if none is cached.
Record* adopt_cache_take();
// Keep r (retired stacks, unregistered); false if the cache is full.
bool adopt_cache_put(Record* r);
// Unmap and delete every cached record.
void adopt_cache_trim();

}  // namespace tl
