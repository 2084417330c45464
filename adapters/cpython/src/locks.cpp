// locks.cpp — runtime locks: CPython's own lock primitive (PyThread_type_lock,
// the lock under _thread.allocate_lock and threading), with the owner and the
// waiters kept by the adapter for the wait-for graph.
//
// Invariants:
//   - A lock is taken and waited for without the GIL (no adapter operation is
//     open around it), as CPython's own lock.acquire() releases the GIL
//     before it blocks.
//   - `owner` is the holder's id while held, 0 otherwise; a slot's `waiting`
//     is the handle it blocks on, 0 otherwise. wait_edges reads both with
//     atomics only (it runs from the watchdog while threads are stuck).
//   - Handles stay valid until lock_free; scenarios free a lock only after
//     joining its users.
#include <cstdio>
#include <new>

#include "internal.h"

namespace {
struct Lock {
  PyThread_type_lock lk = nullptr;
  std::atomic<uint64_t> owner{0};
  char name[32] = {};
};
}  // namespace

extern "C" int tlpy_lock_new(const char* name, tl_adapter_handle* out) {
  auto* l = new (std::nothrow) Lock();
  if (!l) return tlpy::fail(TL_ADAPTER_EFAIL, "lock_new: no memory");
  l->lk = PyThread_allocate_lock();
  if (!l->lk) {
    delete l;
    return tlpy::fail(TL_ADAPTER_EFAIL, "lock_new: PyThread_allocate_lock failed");
  }
  std::snprintf(l->name, sizeof l->name, "%s", name ? name : "lock");
  *out = reinterpret_cast<tl_adapter_handle>(l);
  return TL_ADAPTER_OK;
}

extern "C" int tlpy_lock(tl_adapter_handle h) {
  using namespace tlpy;
  auto* l = reinterpret_cast<Lock*>(h);
  if (!l) return fail(TL_ADAPTER_EFAIL, "lock: no lock");
  if (tls().held > 0) return fail(TL_ADAPTER_EFAIL, "lock inside an adapter operation");
  Slot* s = claim("foreign");
  if (!s) return fail(TL_ADAPTER_EFAIL, "lock: thread table full");
  if (l->owner.load() == s->id.load()) return fail(TL_ADAPTER_EFAIL, "lock: already held by the calling thread");
  if (PyThread_acquire_lock(l->lk, NOWAIT_LOCK) != PY_LOCK_ACQUIRED) {
    s->waiting.store(h);
    const State before = static_cast<State>(s->state.load());
    set_state(State::LockWait);
    PyLockStatus r;
    do r = PyThread_acquire_lock_timed(l->lk, -1, 0);
    while (r != PY_LOCK_ACQUIRED);
    set_state(before);
    s->waiting.store(0);
  }
  l->owner.store(s->id.load());
  return TL_ADAPTER_OK;
}

extern "C" int tlpy_unlock(tl_adapter_handle h) {
  auto* l = reinterpret_cast<Lock*>(h);
  if (!l || l->owner.load() == 0 || l->owner.load() != tlpy_self())
    return tlpy::fail(TL_ADAPTER_EFAIL, "unlock by a thread that is not the owner");
  l->owner.store(0);
  PyThread_release_lock(l->lk);
  return TL_ADAPTER_OK;
}

extern "C" int tlpy_lock_free(tl_adapter_handle h) {
  auto* l = reinterpret_cast<Lock*>(h);
  if (!l) return tlpy::fail(TL_ADAPTER_EFAIL, "lock_free: no lock");
  if (l->owner.load() != 0) return tlpy::fail(TL_ADAPTER_EFAIL, "lock_free: the lock is held");
  PyThread_free_lock(l->lk);
  delete l;
  return TL_ADAPTER_OK;
}

extern "C" int tlpy_wait_edges(tl_adapter_wait_edge* out, size_t cap, size_t* count) {
  using namespace tlpy;
  size_t n = 0;
  for (auto& s : g_slots) {
    uint64_t id = s.id.load(std::memory_order_acquire);
    uint64_t w = s.waiting.load();
    if (id == 0 || id == UINT64_MAX || w == 0) continue;
    auto* l = reinterpret_cast<Lock*>(w);
    if (n < cap) {
      out[n] = tl_adapter_wait_edge{};
      out[n].waiter = id;
      out[n].owner = l->owner.load();
      out[n].lock = w;
      std::snprintf(out[n].lock_name, sizeof out[n].lock_name, "%s", l->name);
    }
    ++n;
  }
  if (count) *count = n;
  return TL_ADAPTER_OK;
}

const char* tlpy_lock_name(uint64_t h) { return h ? reinterpret_cast<Lock*>(h)->name : ""; }
