// reference_locks.cpp — the reference adapter's locks: runtime tl_locks
// (owner recorded, released and marked abandoned by kill) with a name, the
// wait-for graph from tl_wait_edges, hand-off, and the lock-order cycles
// the runtime predicted (tl_lock_order_cycles; init switches checking on).
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
  tl_lock_init(&l->lock, l->name, 0);
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

int lock(tl_adapter_handle h) {
  const int rc = tl_lock_acquire(&of(h)->lock);
  return rc == TL_EOWNERDEAD ? TL_ADAPTER_OWNER_DIED : st(rc, "tl_lock_acquire");
}
int lock_handoff(tl_adapter_handle h, tl_adapter_thread_id successor) {
  return st(tl_lock_handoff(&of(h)->lock, successor), "tl_lock_handoff");
}
int lock_waiters(tl_adapter_handle h, tl_adapter_thread_id* out, size_t cap, size_t* count) {
  const size_t n = tl_lock_waiters(&of(h)->lock, out, cap);
  if (count) *count = n;
  return TL_ADAPTER_OK;
}
int lock_order_cycles(tl_adapter_lock_cycle* out, size_t cap, size_t* count) {
  tl_lock_cycle c[16];
  const size_t n = tl_lock_order_cycles(c, 16);
  for (size_t i = 0; i < n && i < 16 && i < cap; ++i) {
    out[i] = tl_adapter_lock_cycle{};
    out[i].n = c[i].n;
    for (unsigned k = 0; k < c[i].n && k < TL_ADAPTER_CYCLE_MAX; ++k) {
      out[i].locks[k] = c[i].locks[k];  // a handle is its tl_lock's address
      out[i].threads[k] = c[i].threads[k];
      std::snprintf(out[i].lock_names[k], sizeof out[i].lock_names[k], "%s", c[i].names[k]);
    }
  }
  if (count) *count = n;
  return TL_ADAPTER_OK;
}
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
