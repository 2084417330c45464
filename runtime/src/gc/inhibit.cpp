// inhibit.cpp — without_gcing scopes and deferred collections (inhibit.h).
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "inhibit.h"

#include <atomic>
#include <cstdint>

#include "../current.h"
#include "../globals.h"
#include "../inject.h"
#include "../record.h"
#include "../status.h"
#include "heap.h"

namespace tl::gc {
namespace {
std::atomic<uint64_t> g_word{0};  // scopes << 1 | pending
constexpr uint64_t kPending = 1, kScope = 2;

// Remove `scopes` scopes; returns true if that ended the last one with a
// collection pending (and claims it).
bool leave(uint64_t scopes) {
  uint64_t cur = g_word.load(std::memory_order_acquire);
  for (;;) {
    uint64_t next = cur - scopes * kScope;
    bool run = (next >> 1) == 0 && (next & kPending);
    if (run) next &= ~kPending;
    if (g_word.compare_exchange_weak(cur, next, std::memory_order_acq_rel)) return run;
  }
}
}  // namespace

int request_collection() {
  uint64_t cur = g_word.load(std::memory_order_acquire);
  for (;;) {
    if ((cur >> 1) == 0) return collect_now();
    if (g_word.compare_exchange_weak(cur, cur | kPending, std::memory_order_acq_rel)) {
      __atomic_fetch_add(&heap().deferred, 1, __ATOMIC_RELAXED);
      return TL_GC_DEFERRED;
    }
  }
}

// Signal path: atomics only.
bool close_scopes_of_leaving_pending(Record* r) {
  int n = r->gc_inhibit_depth;
  if (n <= 0) return false;
  r->gc_inhibit_depth = 0;
  if (!leave(static_cast<uint64_t>(n))) return false;
  g_word.fetch_or(kPending, std::memory_order_acq_rel);  // whoever calls run_pending_if_uninhibited runs it
  return true;
}

void close_scopes_of_and_collect(Record* r) {
  int n = r->gc_inhibit_depth;
  if (n <= 0) return;
  r->gc_inhibit_depth = 0;
  if (leave(static_cast<uint64_t>(n))) collect_now();
}

void run_pending_if_uninhibited() {
  uint64_t cur = g_word.load(std::memory_order_acquire);
  while (cur == kPending) {
    if (g_word.compare_exchange_weak(cur, 0, std::memory_order_acq_rel)) {
      collect_now();
      return;
    }
  }
}

}  // namespace tl::gc

using namespace tl;

extern "C" int tl_without_gcing_begin(void) {
  TL_REQUIRE_INIT();
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_without_gcing_begin: the calling thread has no record");
  ++r->gc_inhibit_depth;
  gc::g_word.fetch_add(gc::kScope, std::memory_order_acq_rel);
  return TL_OK;
}

extern "C" int tl_without_gcing_end(void) {
  TL_REQUIRE_INIT();
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_without_gcing_end: the calling thread has no record");
  if (r->gc_inhibit_depth <= 0)
    return fail(TL_EUNBALANCED, "tl_without_gcing_end: thread %llu has no open without-GC scope", static_cast<unsigned long long>(r->id));
  --r->gc_inhibit_depth;
  if (gc::leave(1)) {
    // DEFECT deferred_gc_dropped: the pending collection is forgotten.
    if (TL_INJECT(deferred_gc_dropped)) return TL_OK;
    int rc = gc::collect_now();
    if (rc < 0) return rc;
  }
  return TL_OK;
}
