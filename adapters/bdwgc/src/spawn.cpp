// spawn.cpp — spawn/join/self: threads created through GC_pthread_create,
// so bdwgc registers each one before its start routine runs and
// unregisters it when it ends; joined through GC_pthread_join.
//
// Invariants:
//   - spawn returns only once the new thread holds its slot (its id is
//     known); it fails, leaving nothing behind, when the table is full.
//   - A spawned thread releases its slot when fn returns, before bdwgc's
//     own exit handler unregisters it.
//   - g_spawned maps ids to pthread_t for threads not yet joined; its lock
//     is never held while calling into bdwgc.
#include <pthread.h>
#include <sched.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <new>

#include "gc_include.h"
#include "internal.h"

namespace tlgc {

namespace {

pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
std::map<uint64_t, pthread_t>* g_spawned = new std::map<uint64_t, pthread_t>();

struct Start {
  tl_adapter_fn fn;
  void* arg;
  char name[32];
  std::atomic<uint64_t> id{0};
  std::atomic<bool> ready{false};
};

void* trampoline(void* p) {
  auto* s = static_cast<Start*>(p);
  Slot* slot = slot_claim(s->name, Kind::Spawned);
  set_my_slot(slot);
  const tl_adapter_fn fn = s->fn;
  void* arg = s->arg;
  s->id.store(slot ? slot->id.load() : 0);
  s->ready.store(true, std::memory_order_release);  // the spawner frees s after this
  if (!slot) return nullptr;
  fn(arg);
  set_my_slot(nullptr);
  slot_release(slot);
  return nullptr;
}

}  // namespace

int spawn(const char* name, tl_adapter_fn fn, void* arg, tl_adapter_thread_id* out) {
  if (world_stopped_by_me())
    return fail(TL_ADAPTER_EFAIL, "spawn while this thread holds the world stopped (bdwgc's lock is held)");
  auto* s = new (std::nothrow) Start{fn, arg, {}};
  if (!s) return fail(TL_ADAPTER_EFAIL, "no memory");
  std::snprintf(s->name, sizeof s->name, "%s", name ? name : "spawned");
  pthread_t t;
  if (int e = GC_pthread_create(&t, nullptr, trampoline, s)) {
    delete s;
    return fail(TL_ADAPTER_EFAIL, std::strerror(e));
  }
  while (!s->ready.load(std::memory_order_acquire)) sched_yield();
  const uint64_t id = s->id.load();
  delete s;
  if (id == 0) {
    GC_pthread_join(t, nullptr);
    return fail(TL_ADAPTER_EFAIL, "thread table full");
  }
  pthread_mutex_lock(&g_mu);
  (*g_spawned)[id] = t;
  pthread_mutex_unlock(&g_mu);
  if (out) *out = id;
  return TL_ADAPTER_OK;
}

int join(tl_adapter_thread_id id) {
  pthread_mutex_lock(&g_mu);
  auto it = g_spawned->find(id);
  if (it == g_spawned->end()) {
    pthread_mutex_unlock(&g_mu);
    return fail(TL_ADAPTER_EFAIL, "no such thread, or already joined");
  }
  const pthread_t t = it->second;
  g_spawned->erase(it);
  pthread_mutex_unlock(&g_mu);
  const int e = GC_pthread_join(t, nullptr);
  return e ? fail(TL_ADAPTER_EFAIL, std::strerror(e)) : TL_ADAPTER_OK;
}

tl_adapter_thread_id self() {
  Slot* s = my_slot();
  return s ? s->id.load() : 0;
}

bool threads_unjoined(uint64_t* n) {
  // The thread holding the world stopped must not wait on a lock a stopped
  // thread may hold.
  if (world_stopped_by_me()) {
    if (pthread_mutex_trylock(&g_mu) != 0) return false;
  } else {
    pthread_mutex_lock(&g_mu);
  }
  *n = g_spawned->size();
  pthread_mutex_unlock(&g_mu);
  return true;
}

void spawn_lock_for_fork() { pthread_mutex_lock(&g_mu); }

void spawn_unlock_after_fork(bool child) {
  if (child) {
    pthread_mutex_init(&g_mu, nullptr);
    g_spawned->clear();  // the child has none of the parent's threads to join
  } else {
    pthread_mutex_unlock(&g_mu);
  }
}

}  // namespace tlgc
