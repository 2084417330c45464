// barrier.cpp — the write-barrier region and its cards (see barrier.h).
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "barrier.h"

#include <errno.h>
#include <string.h>

#include <atomic>

#include "../globals.h"
#include "../os.h"
#include "../status.h"

namespace tl::gc {

static std::atomic<uintptr_t> g_lo{0}, g_hi{0};  // hi published last: lo is valid when hi is
static std::atomic<uint8_t>* g_cards = nullptr;  // one per page, mmap'd
static std::atomic<bool> g_armed{false};
static std::atomic<uint64_t> g_faults{0};
static std::atomic<bool> g_claimed{false};

static bool arm() {
  const uintptr_t lo = g_lo.load(std::memory_order_acquire), hi = g_hi.load(std::memory_order_acquire);
  if (!hi) return false;
  const size_t pages = (hi - lo) / os::page_size();
  g_armed.store(false, std::memory_order_seq_cst);
  for (size_t i = 0; i < pages; ++i) g_cards[i].store(0, std::memory_order_relaxed);
  if (!os::protect(reinterpret_cast<void*>(lo), hi - lo, os::Prot::Read)) return false;
  g_armed.store(true, std::memory_order_seq_cst);
  return true;
}

bool barrier_contains(uintptr_t addr) {
  const uintptr_t hi = g_hi.load(std::memory_order_acquire);
  return hi && addr >= g_lo.load(std::memory_order_relaxed) && addr < hi;
}

bool barrier_on_fault(uintptr_t addr) {
  if (!barrier_contains(addr)) return false;
  const uintptr_t ps = os::page_size();
  const uintptr_t lo = g_lo.load(std::memory_order_relaxed);
  const size_t page = (addr - lo) / ps;
  g_cards[page].store(1, std::memory_order_seq_cst);  // marked before writable
  if (!os::protect(reinterpret_cast<void*>(lo + page * ps), ps, os::Prot::ReadWrite)) return false;
  g_faults.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void barrier_scan(void (*scan)(uintptr_t lo, uintptr_t hi)) {
  const uintptr_t hi = g_hi.load(std::memory_order_acquire);
  if (hi) scan(g_lo.load(std::memory_order_relaxed), hi);
}

void barrier_rearm() {
  if (g_armed.load(std::memory_order_acquire)) arm();
}

uint64_t barrier_faults() { return g_faults.load(std::memory_order_relaxed); }

}  // namespace tl::gc

using namespace tl;
using namespace tl::gc;

extern "C" int tl_gc_barrier_region(size_t bytes, void** out) {
  TL_REQUIRE_INIT();
  if (!out || bytes == 0 || bytes > (size_t{1} << 32))
    return fail(TL_EINVAL, "tl_gc_barrier_region: bad size %zu or NULL out", bytes);
  if (g_claimed.exchange(true)) return fail(TL_ESTATE, "tl_gc_barrier_region: the process already has its region");
  const size_t ps = os::page_size();
  bytes = (bytes + ps - 1) & ~(ps - 1);
  const size_t pages = bytes / ps;
  const size_t card_bytes = (pages + ps - 1) & ~(ps - 1);
  void* m = os::map(bytes, os::Prot::ReadWrite);
  void* c = m ? os::map(card_bytes, os::Prot::ReadWrite) : nullptr;
  if (!m || !c) {
    const int e = errno;
    if (m) os::unmap(m, bytes);
    g_claimed.store(false);
    return fail(TL_ENOMEM, "tl_gc_barrier_region: mmap of %zu bytes failed: %s", bytes, strerror(e));
  }
  g_cards = static_cast<std::atomic<uint8_t>*>(c);
  g_lo.store(reinterpret_cast<uintptr_t>(m), std::memory_order_relaxed);
  g_hi.store(reinterpret_cast<uintptr_t>(m) + bytes, std::memory_order_release);
  *out = m;
  return TL_OK;
}

extern "C" int tl_gc_barrier_arm(void) {
  TL_REQUIRE_INIT();
  if (!g_hi.load(std::memory_order_acquire)) return fail(TL_ESTATE, "tl_gc_barrier_arm: no region (tl_gc_barrier_region)");
  if (!arm()) return fail(TL_ENOMEM, "tl_gc_barrier_arm: mprotect failed: %s", strerror(errno));
  return TL_OK;
}

extern "C" int tl_gc_barrier_card_dirty(const void* addr) {
  const auto a = reinterpret_cast<uintptr_t>(addr);
  if (!barrier_contains(a)) return fail(TL_EINVAL, "tl_gc_barrier_card_dirty: %p is outside the region", addr);
  return g_cards[(a - g_lo.load(std::memory_order_relaxed)) / os::page_size()].load(std::memory_order_acquire) ? 1 : 0;
}
