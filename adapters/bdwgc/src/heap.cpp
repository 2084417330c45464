// heap.cpp — alloc (GC_MALLOC), is_live and heap_stats.
//
// is_live cannot ask bdwgc: a conservative collector puts a freed object on
// a free list, where GC_base still finds it and its memory stays mapped,
// and GC_is_marked speaks only of the last collection's mark bits. So each
// object alloc hands out gets a weak reference of bdwgc's own: an Entry
// (adapter memory, never scanned) whose `link` holds the object's hidden
// address (GC_HIDE_POINTER), registered with
// GC_general_register_disappearing_link. bdwgc clears the link in the
// collection that finds the object unreachable, before it can reuse the
// memory; a cleared link therefore means "freed". An object is live while
// its link is set; an address inside no object alloc handed out, or inside
// one whose link was cleared, is not live.
//
// Invariants:
//   - g_objects maps hidden object bases to Entries, under g_mu. g_mu is
//     never held while calling into bdwgc (registration happens before the
//     Entry is published), so a thread stopped while holding it never
//     stalls a collection; the thread holding the world stopped only
//     try-locks it (TL_ADAPTER_EBUSY when busy).
//   - An Entry whose link was cleared is pruned (counted in g_freed) by the
//     next heap_stats, or replaced when alloc hands out the same base again.
#include <pthread.h>

#include <cstdlib>
#include <new>
#include <unordered_map>

#include "gc_include.h"
#include "internal.h"

namespace tlgc {

namespace {

struct Entry {
  GC_hidden_pointer link;  // cleared by bdwgc when the object dies
};

pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
auto* g_objects = new std::unordered_map<GC_hidden_pointer, Entry*>();
uint64_t g_freed = 0;

bool link_set(const Entry* e) { return __atomic_load_n(&e->link, __ATOMIC_ACQUIRE) != 0; }

// g_mu, without waiting when this thread holds the world stopped.
bool lock() {
  if (world_stopped_by_me()) return pthread_mutex_trylock(&g_mu) == 0;
  pthread_mutex_lock(&g_mu);
  return true;
}

// Drop entries whose object died; g_mu held.
void prune() {
  for (auto it = g_objects->begin(); it != g_objects->end();) {
    if (link_set(it->second)) {
      ++it;
      continue;
    }
    delete it->second;
    it = g_objects->erase(it);
    ++g_freed;
  }
}

}  // namespace

void* alloc(size_t bytes) {
  if (world_stopped_by_me()) {
    fail(TL_ADAPTER_EFAIL, "alloc while this thread holds the world stopped (bdwgc's lock is held)");
    return nullptr;
  }
  if (!registered()) {
    // A thread must be registered before it allocates (gc.h): an object on
    // an unregistered stack would not be traced.
    fail(TL_ADAPTER_EFAIL, "alloc on a thread bdwgc does not know (outside a callback)");
    return nullptr;
  }
  void* obj = GC_MALLOC(bytes ? bytes : 1);  // zeroed
  if (!obj) {
    fail(TL_ADAPTER_EFAIL, "GC_MALLOC returned NULL");
    return nullptr;
  }
  auto* e = new (std::nothrow) Entry{GC_HIDE_POINTER(obj)};
  if (!e) {
    fail(TL_ADAPTER_EFAIL, "no memory for the object's entry");
    return nullptr;
  }
  if (GC_general_register_disappearing_link(reinterpret_cast<void**>(&e->link), obj) != GC_SUCCESS) {
    delete e;
    fail(TL_ADAPTER_EFAIL, "GC_general_register_disappearing_link failed");
    return nullptr;
  }
  Entry* old = nullptr;
  pthread_mutex_lock(&g_mu);
  auto [it, fresh] = g_objects->try_emplace(GC_HIDE_POINTER(obj), e);
  if (!fresh) {
    old = it->second;  // a dead object at the same base: its link was cleared
    it->second = e;
    ++g_freed;
  }
  pthread_mutex_unlock(&g_mu);
  if (old && link_set(old)) GC_unregister_disappearing_link(reinterpret_cast<void**>(&old->link));
  delete old;
  return obj;
}

int is_live(const void* p) {
  if (!p) return 0;
  void* base = GC_base(const_cast<void*>(p));
  if (!base) return 0;
  if (!lock()) return fail(TL_ADAPTER_EBUSY, "is_live: object table busy while the world is stopped");
  auto it = g_objects->find(GC_HIDE_POINTER(base));
  const bool live = it != g_objects->end() && link_set(it->second);
  pthread_mutex_unlock(&g_mu);
  return live ? 1 : 0;
}

int heap_stats(tl_adapter_heap_stats* out) {
  if (!out) return fail(TL_ADAPTER_EFAIL, "heap_stats: null out");
  if (!lock()) return fail(TL_ADAPTER_EBUSY, "heap_stats: object table busy while the world is stopped");
  prune();
  out->live_objects = g_objects->size();
  out->freed_objects = g_freed;
  pthread_mutex_unlock(&g_mu);
  out->collections = GC_get_gc_no();
  return TL_ADAPTER_OK;
}

bool heap_objects_live(uint64_t* n) {
  if (!lock()) return false;
  prune();
  *n = g_objects->size();
  pthread_mutex_unlock(&g_mu);
  return true;
}

void heap_lock_for_fork() { pthread_mutex_lock(&g_mu); }

void heap_unlock_after_fork(bool child) {
  if (child)
    pthread_mutex_init(&g_mu, nullptr);
  else
    pthread_mutex_unlock(&g_mu);
}

}  // namespace tlgc
