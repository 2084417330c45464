// spawn.cpp — managed threads: raw pthreads that call in.
//
// A spawned thread takes a thread state with PyGILState_Ensure as its first
// act and gives it back with PyGILState_Release as its last (CPython's own
// way for a C thread to run Python), and releases the GIL in between except
// inside adapter operations. Raw pthreads rather than `threading`: a
// threading.Thread would run its body under the eval loop, holding the GIL
// through native code the scenario runs, and its start()/join() themselves
// need the GIL; the adapter's spawn and join then would serialise on it.
//
// Invariants:
//   - spawn returns once the child is attached and has its id (self() in the
//     child is its id from its first instruction of fn on).
//   - join finds the pthread under a mutex held only for the map lookup;
//     pthread_join runs without any lock and without the GIL.
#include <sched.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <new>

#include "internal.h"

namespace {

pthread_mutex_t g_map_mu = PTHREAD_MUTEX_INITIALIZER;
std::map<uint64_t, pthread_t> g_spawned;  // spawned, not yet joined

struct Start {
  tl_adapter_fn fn;
  void* arg;
  char name[32];
  uint64_t id = 0;
  std::atomic<bool> ready{false};
};

void* trampoline(void* p) {
  using namespace tlpy;
  auto* s = static_cast<Start*>(p);
  Slot* slot = claim(s->name);
  tl_adapter_fn fn = s->fn;
  void* arg = s->arg;
  if (!slot) {
    s->ready.store(true, std::memory_order_release);
    return nullptr;
  }
  set_state(State::GilWait);
  PyGILState_STATE st = PyGILState_Ensure();
  tls().saved = PyEval_SaveThread();
  set_state(State::Native);
  s->id = slot->id.load();
  s->ready.store(true, std::memory_order_release);  // the spawner frees s after this
  fn(arg);
  Tls& t = tls();
  set_state(State::GilWait);
  PyEval_RestoreThread(t.saved);
  t.saved = nullptr;
  PyGILState_Release(st);
  set_state(State::Detached);
  return nullptr;
}

}  // namespace

extern "C" int tlpy_spawn(const char* name, tl_adapter_fn fn, void* arg, tl_adapter_thread_id* out) {
  using tlpy::fail;
  auto* s = new (std::nothrow) Start{fn, arg, {}};
  if (!s) return fail(TL_ADAPTER_EFAIL, "spawn: no memory");
  std::snprintf(s->name, sizeof s->name, "%s", name ? name : "spawned");
  pthread_t t;
  if (int e = pthread_create(&t, nullptr, trampoline, s)) {
    delete s;
    return fail(TL_ADAPTER_EFAIL, "spawn: pthread_create: %s", std::strerror(e));
  }
  // The child needs the GIL to attach: the caller never holds it here (no
  // adapter operation is open on it).
  while (!s->ready.load(std::memory_order_acquire)) sched_yield();
  uint64_t id = s->id;
  delete s;
  if (id == 0) {
    pthread_join(t, nullptr);
    return fail(TL_ADAPTER_EFAIL, "spawn: thread table full");
  }
  pthread_mutex_lock(&g_map_mu);
  g_spawned[id] = t;
  pthread_mutex_unlock(&g_map_mu);
  if (out) *out = id;
  return TL_ADAPTER_OK;
}

extern "C" int tlpy_join(tl_adapter_thread_id id) {
  pthread_mutex_lock(&g_map_mu);
  auto it = g_spawned.find(id);
  if (it == g_spawned.end()) {
    pthread_mutex_unlock(&g_map_mu);
    return tlpy::fail(TL_ADAPTER_EFAIL, "join: no such thread, or already joined");
  }
  pthread_t t = it->second;
  g_spawned.erase(it);
  pthread_mutex_unlock(&g_map_mu);
  int e = pthread_join(t, nullptr);
  return e ? tlpy::fail(TL_ADAPTER_EFAIL, "join: %s", std::strerror(e)) : TL_ADAPTER_OK;
}

extern "C" uint64_t tlpy_unjoined(void) {
  pthread_mutex_lock(&g_map_mu);
  uint64_t n = g_spawned.size();
  pthread_mutex_unlock(&g_map_mu);
  return n;
}

// Fork: the map's lock is held across fork(), and the child keeps no
// thread but the forking one.
namespace tlpy {
void spawn_fork_prepare() { pthread_mutex_lock(&g_map_mu); }
void spawn_fork_parent() { pthread_mutex_unlock(&g_map_mu); }
void spawn_fork_child() {
  pthread_mutex_init(&g_map_mu, nullptr);
  g_spawned.clear();
}
}  // namespace tlpy
