// fault_report.cpp — fault counters and kept scribble reports (see
// fault_report.h).
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "fault_report.h"

#include <cstdio>

#include "gc/barrier.h"
#include "globals.h"
#include "ledger.h"
#include "record.h"
#include "status.h"

namespace tl {
namespace {

constexpr unsigned kMaxScribbles = 8;
struct Kept {
  std::atomic<bool> published{false};
  uint64_t writer, owner;
  int64_t writer_tid;
  uintptr_t addr;
  char owner_name[TL_NAME_MAX];
  const char* what;
};
Kept g_kept[kMaxScribbles];
std::atomic<unsigned> g_claimed{0};

}  // namespace

namespace fault {
extern std::atomic<uint64_t> g_altstacks_kept;
}

FaultCounters& fault_counters() {
  static FaultCounters c;  // constant-initialised: no guard
  return c;
}

void note_scribble(uint64_t writer, int64_t writer_tid, const Record* owner, uintptr_t addr, const char* what) {
  fault_counters().scribbles.fetch_add(1, std::memory_order_relaxed);
  const unsigned i = g_claimed.fetch_add(1, std::memory_order_relaxed);
  if (i >= kMaxScribbles) return;
  Kept& k = g_kept[i];
  k.writer = writer;
  k.writer_tid = writer_tid;
  k.owner = owner ? owner->id : 0;
  k.addr = addr;
  k.what = what;
  unsigned n = 0;
  if (owner)
    for (; n + 1 < sizeof k.owner_name && owner->name[n]; ++n) k.owner_name[n] = owner->name[n];
  k.owner_name[n] = 0;
  k.published.store(true, std::memory_order_release);
}

int scribble_violations(tl_violation* out, size_t cap, int found) {
  for (unsigned i = 0; i < kMaxScribbles; ++i) {
    const Kept& k = g_kept[i];
    if (!k.published.load(std::memory_order_acquire)) continue;
    if (out && static_cast<size_t>(found) < cap) {
      out[found].thread = k.writer;
      out[found].address = k.addr;
      std::snprintf(out[found].what, sizeof out[found].what, "scribble: thread %llu (tid %lld) %s of thread %llu",
                    static_cast<unsigned long long>(k.writer), static_cast<long long>(k.writer_tid), k.what,
                    static_cast<unsigned long long>(k.owner));
    }
    ++found;
  }
  return found;
}

}  // namespace tl

using namespace tl;

extern "C" int tl_get_fault_stats(tl_fault_stats* out) {
  TL_REQUIRE_INIT();
  if (!out) return fail(TL_EINVAL, "tl_get_fault_stats: out is NULL");
  FaultCounters& c = fault_counters();
  out->overflows_recovered = c.overflows_recovered.load();
  out->barrier_faults = gc::barrier_faults();
  out->forwarded = c.forwarded.load();
  out->chained = c.chained.load();
  out->scribbles = c.scribbles.load();
  out->altstacks_mapped = ledger().altstacks.load();
  out->altstacks_kept = fault::g_altstacks_kept.load();
  return TL_OK;
}
