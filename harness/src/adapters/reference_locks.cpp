// reference_locks.cpp — the reference adapter's locks: runtime tl_locks
// (owner recorded, released by kill) with a name, and the wait-for graph
// from tl_wait_edges.
//
// Invariants:
//   - A handle is the address of a RefLock whose first member is the
//     runtime's tl_lock, so a wait edge's lock address is the handle.
//   - Live locks are listed in a fixed table of atomic pointers; lock_name
//     and wait_edges read it without a lock (the watchdog calls them while
//     threads are stuck). A lock is freed only after its users are joined.
#include <threadlab/runtime.h>

#include <atomic>
#include <cstdio>
#include <new>

#include "adapters/reference_ops.h"

namespace threadlab::ref {
namespace {

struct RefLock {
  tl_lock lock = TL_LOCK_INIT;
  char name[32] = {};
};
constexpr size_t kMaxLocks = 1024;
std::atomic<RefLock*> g_locks[kMaxLocks];

RefLock* of(tl_adapter_handle h) { return reinterpret_cast<RefLock*>(static_cast<uintptr_t>(h)); }

}  // namespace

const char* lock_name(uintptr_t addr) {
  for (auto& slot : g_locks) {
    RefLock* l = slot.load(std::memory_order_acquire);
    if (l && reinterpret_cast<uintptr_t>(&l->lock) == addr) return l->name;
  }
  return "";
}

int lock_new(const char* name, tl_adapter_handle* out) {
  auto* l = new (std::nothrow) RefLock;
  if (!l) return st(TL_ENOMEM, "lock_new");
  std::snprintf(l->name, sizeof l->name, "%s", name ? name : "lock");
  for (auto& slot : g_locks) {
    RefLock* expect = nullptr;
    if (slot.compare_exchange_strong(expect, l, std::memory_order_acq_rel)) {
      *out = reinterpret_cast<uintptr_t>(l);
      return TL_ADAPTER_OK;
    }
  }
  delete l;
  return st(TL_ENOMEM, "lock_new (more than 1024 live locks)");
}

int lock(tl_adapter_handle h) { return st(tl_lock_acquire(&of(h)->lock), "tl_lock_acquire"); }
int unlock(tl_adapter_handle h) { return st(tl_lock_release(&of(h)->lock), "tl_lock_release"); }

int lock_free(tl_adapter_handle h) {
  RefLock* l = of(h);
  for (auto& slot : g_locks) {
    RefLock* expect = l;
    if (slot.compare_exchange_strong(expect, nullptr, std::memory_order_acq_rel)) {
      delete l;
      return TL_ADAPTER_OK;
    }
  }
  return st(TL_EINVAL, "lock_free (not a live lock)");
}

int wait_edges(tl_adapter_wait_edge* out, size_t cap, size_t* count) {
  tl_wait_edge e[256];
  size_t n = tl_wait_edges(e, 256);
  size_t k = 0;
  for (size_t i = 0; i < n && i < 256 && k < cap; ++i, ++k) {
    out[k] = tl_adapter_wait_edge{};
    out[k].waiter = e[i].waiter;
    out[k].owner = e[i].owner;
    out[k].lock = e[i].lock;
    const char* name = lock_name(e[i].lock);
    if (*name)
      std::snprintf(out[k].lock_name, sizeof out[k].lock_name, "%s", name);
    else
      std::snprintf(out[k].lock_name, sizeof out[k].lock_name, "lock@%#lx", static_cast<unsigned long>(e[i].lock));
  }
  if (count) *count = n;
  return TL_ADAPTER_OK;
}

}  // namespace threadlab::ref
