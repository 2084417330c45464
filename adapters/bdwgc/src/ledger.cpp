// ledger.cpp — counters: levels bdwgc and the adapter keep, every one a
// quantity that returns to its baseline when nothing leaks (the harness
// judges each counter's slope over cycles, so cumulative totals such as
// GC_get_gc_no or GC_get_total_bytes are not counters here: heap_stats
// carries the collection count).
//
//   threads_live      slots in use (initial, spawned, adopted)
//   threads_adopted   foreign threads registered by callback_enter and not
//                     yet released by their exit
//   threads_unjoined  spawned threads not joined
//   objects_live      objects alloc handed out whose disappearing link is
//                     still set (heap.cpp)
//   heap_bytes        GC_prof_stats_s.heapsize_full - unmapped_bytes: the
//                     heap bdwgc holds mapped (it grows to a plateau under a
//                     steady load; a heap still growing is retention)
//
// The thread holding the world stopped holds bdwgc's lock: it reads the
// statistics with GC_get_prof_stats_unsafe (which expects the lock held)
// and answers TL_ADAPTER_EBUSY rather than wait on an adapter lock.
#include "gc_include.h"
#include "internal.h"

namespace tlgc {

int counters(tl_adapter_counter* out, size_t cap, size_t* count) {
  uint64_t unjoined = 0, objects = 0;
  if (!threads_unjoined(&unjoined) || !heap_objects_live(&objects))
    return fail(TL_ADAPTER_EBUSY, "counters: a table is busy while the world is stopped");
  GC_prof_stats_s ps{};
  if (world_stopped_by_me())
    GC_get_prof_stats_unsafe(&ps, sizeof ps);
  else
    GC_get_prof_stats(&ps, sizeof ps);
  const tl_adapter_counter all[] = {
      {"threads_live", threads_live(), TL_UNIT_COUNT},
      {"threads_adopted", threads_adopted(), TL_UNIT_COUNT},
      {"threads_unjoined", unjoined, TL_UNIT_COUNT},
      {"objects_live", objects, TL_UNIT_COUNT},
      {"heap_bytes", ps.heapsize_full - ps.unmapped_bytes, TL_UNIT_BYTES},
  };
  constexpr size_t n = sizeof all / sizeof all[0];
  for (size_t i = 0; i < n && i < cap && out; ++i) out[i] = all[i];
  if (count) *count = n;
  return TL_ADAPTER_OK;
}

}  // namespace tlgc
