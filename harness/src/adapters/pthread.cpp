// pthread.cpp — the baseline adapter: raw POSIX threads, no runtime at all.
//
// It offers only what plain pthreads can honestly do: spawn/join, callbacks
// from any thread (nothing to adopt), owner-tracking locks with a wait-for
// graph, bounded mailboxes, a thread_local value stack, fork hooks around its
// own table lock, and its own ledger. No kill, interrupt, suspension, GC or
// fault recovery — those bits stay clear.
//
// Invariants:
//   - Every thread that touches the adapter owns one slot in a fixed table;
//     a slot's fields are atomics, published by storing `id` last, so
//     thread_list and wait_edges read the table without any lock (they run
//     from the watchdog while other threads are stuck).
//   - A slot is released by a thread_local destructor when its thread exits.
//   - Lock handles stay valid until lock_free; wait_edges must not race a
//     lock_free (scenarios free locks only after joining their users).
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <new>

#include "adapters/builtin.h"
#include "child/altstack.h"
#include "runner/process.h"

namespace {

constexpr size_t kSlots = 1024;
constexpr size_t kValueWords = 4096;

struct Slot {
  std::atomic<uint64_t> id{0};
  std::atomic<int64_t> tid{-1};
  std::atomic<uint64_t> waiting{0};  // lock handle this thread blocks on
  std::atomic<unsigned> depth{0};    // callback depth
  char name[32];
};
Slot g_slots[kSlots];
std::atomic<uint64_t> g_next_id{1};
std::atomic<uint64_t> g_live{0};

pthread_mutex_t g_table_mu = PTHREAD_MUTEX_INITIALIZER;  // spawn map
std::map<uint64_t, pthread_t>* g_spawned;

thread_local char g_err[128];
thread_local uintptr_t g_stack[kValueWords];
thread_local size_t g_sp;

int fail(int rc, const char* what) {
  std::snprintf(g_err, sizeof g_err, "%s", what);
  return rc;
}

struct Me {
  Slot* slot = nullptr;
  ~Me() {
    if (!slot) return;
    slot->waiting.store(0);
    slot->tid.store(-1);
    slot->id.store(0, std::memory_order_release);
    g_live.fetch_sub(1);
  }
};
thread_local Me g_me;

Slot* me(const char* name = nullptr) {
  if (g_me.slot) return g_me.slot;
  for (auto& s : g_slots) {
    uint64_t expect = 0;
    // Claim with a sentinel so no reader sees a half-filled slot.
    if (s.id.compare_exchange_strong(expect, UINT64_MAX)) {
      std::snprintf(s.name, sizeof s.name, "%s", name ? name : "foreign");
      s.tid.store(threadlab::current_kernel_tid());
      s.id.store(g_next_id.fetch_add(1), std::memory_order_release);
      g_me.slot = &s;
      g_live.fetch_add(1);
      return &s;
    }
  }
  return nullptr;
}

struct Start {
  tl_adapter_fn fn;
  void* arg;
  char name[32];
  uint64_t id = 0;
  std::atomic<bool> ready{false};
};

void* trampoline(void* p) {
  threadlab::ensure_altstack();  // the harness's crash report covers this thread's overflow too
  auto* s = static_cast<Start*>(p);
  Slot* slot = me(s->name);
  tl_adapter_fn fn = s->fn;
  void* arg = s->arg;
  s->id = slot ? slot->id.load() : 0;
  s->ready.store(true, std::memory_order_release);  // the spawner frees s after this
  if (slot) fn(arg);
  return nullptr;
}

int pt_init() {
  g_spawned = new std::map<uint64_t, pthread_t>();
  return me("initial") ? TL_ADAPTER_OK : fail(TL_ADAPTER_EFAIL, "thread table full");
}
const char* pt_last_error() { return g_err; }

int pt_spawn(const char* name, tl_adapter_fn fn, void* arg, tl_adapter_thread_id* out) {
  auto* s = new (std::nothrow) Start{fn, arg, {}};
  if (!s) return fail(TL_ADAPTER_EFAIL, "no memory");
  std::snprintf(s->name, sizeof s->name, "%s", name ? name : "spawned");
  pthread_t t;
  if (int e = pthread_create(&t, nullptr, trampoline, s)) {
    delete s;
    return fail(TL_ADAPTER_EFAIL, std::strerror(e));
  }
  while (!s->ready.load(std::memory_order_acquire)) sched_yield();
  uint64_t id = s->id;
  delete s;
  if (id == 0) {
    pthread_join(t, nullptr);
    return fail(TL_ADAPTER_EFAIL, "thread table full");
  }
  pthread_mutex_lock(&g_table_mu);
  (*g_spawned)[id] = t;
  pthread_mutex_unlock(&g_table_mu);
  if (out) *out = id;
  return TL_ADAPTER_OK;
}

int pt_join(tl_adapter_thread_id id) {
  pthread_mutex_lock(&g_table_mu);
  auto it = g_spawned->find(id);
  if (it == g_spawned->end()) {
    pthread_mutex_unlock(&g_table_mu);
    return fail(TL_ADAPTER_EFAIL, "no such thread, or already joined");
  }
  pthread_t t = it->second;
  g_spawned->erase(it);
  pthread_mutex_unlock(&g_table_mu);
  Slot* m = me();
  if (m) m->waiting.store(0);
  int e = pthread_join(t, nullptr);
  return e ? fail(TL_ADAPTER_EFAIL, std::strerror(e)) : TL_ADAPTER_OK;
}

tl_adapter_thread_id pt_self() {
  Slot* s = g_me.slot;
  return s ? s->id.load() : 0;
}

int pt_enter() {
  Slot* s = me();
  if (!s) return fail(TL_ADAPTER_EFAIL, "thread table full");
  s->depth.fetch_add(1);
  return TL_ADAPTER_OK;
}
int pt_exit() {
  Slot* s = g_me.slot;
  if (!s || s->depth.load() == 0) return fail(TL_ADAPTER_EFAIL, "callback_exit without enter");
  s->depth.fetch_sub(1);
  return TL_ADAPTER_OK;
}

// ---- locks ---------------------------------------------------------------
struct Lock {
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  std::atomic<uint64_t> owner{0};
  char name[32];
};

int pt_lock_new(const char* name, tl_adapter_handle* out) {
  auto* l = new (std::nothrow) Lock();
  if (!l) return fail(TL_ADAPTER_EFAIL, "no memory");
  std::snprintf(l->name, sizeof l->name, "%s", name ? name : "lock");
  *out = reinterpret_cast<tl_adapter_handle>(l);
  return TL_ADAPTER_OK;
}
int pt_lock(tl_adapter_handle h) {
  auto* l = reinterpret_cast<Lock*>(h);
  Slot* s = me();
  if (!s) return fail(TL_ADAPTER_EFAIL, "thread table full");
  s->waiting.store(h);
  pthread_mutex_lock(&l->mu);
  s->waiting.store(0);
  l->owner.store(s->id.load());
  return TL_ADAPTER_OK;
}
int pt_unlock(tl_adapter_handle h) {
  auto* l = reinterpret_cast<Lock*>(h);
  if (l->owner.load() != pt_self()) return fail(TL_ADAPTER_EFAIL, "unlock by a thread that is not the owner");
  l->owner.store(0);
  pthread_mutex_unlock(&l->mu);
  return TL_ADAPTER_OK;
}
int pt_lock_free(tl_adapter_handle h) {
  delete reinterpret_cast<Lock*>(h);
  return TL_ADAPTER_OK;
}
int pt_wait_edges(tl_adapter_wait_edge* out, size_t cap, size_t* count) {
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

// ---- mailboxes -----------------------------------------------------------
struct Mailbox {
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
  pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
  size_t capacity;
  std::deque<uint64_t> q;
};
int pt_mb_new(size_t cap, tl_adapter_handle* out) {
  if (cap == 0) return fail(TL_ADAPTER_EFAIL, "mailbox capacity 0");
  auto* m = new (std::nothrow) Mailbox();
  if (!m) return fail(TL_ADAPTER_EFAIL, "no memory");
  m->capacity = cap;
  *out = reinterpret_cast<tl_adapter_handle>(m);
  return TL_ADAPTER_OK;
}
int pt_mb_send(tl_adapter_handle h, uint64_t w) {
  auto* m = reinterpret_cast<Mailbox*>(h);
  pthread_mutex_lock(&m->mu);
  while (m->q.size() >= m->capacity) pthread_cond_wait(&m->not_full, &m->mu);
  m->q.push_back(w);
  pthread_cond_signal(&m->not_empty);
  pthread_mutex_unlock(&m->mu);
  return TL_ADAPTER_OK;
}
int pt_mb_receive(tl_adapter_handle h, uint64_t* w) {
  auto* m = reinterpret_cast<Mailbox*>(h);
  pthread_mutex_lock(&m->mu);
  while (m->q.empty()) pthread_cond_wait(&m->not_empty, &m->mu);
  *w = m->q.front();
  m->q.pop_front();
  pthread_cond_signal(&m->not_full);
  pthread_mutex_unlock(&m->mu);
  return TL_ADAPTER_OK;
}
int pt_mb_free(tl_adapter_handle h) {
  delete reinterpret_cast<Mailbox*>(h);
  return TL_ADAPTER_OK;
}

// ---- fork hooks, value stack, ledger -------------------------------------
int pt_fork_prepare() { return pthread_mutex_lock(&g_table_mu) ? TL_ADAPTER_EFAIL : TL_ADAPTER_OK; }
int pt_fork_parent() { return pthread_mutex_unlock(&g_table_mu) ? TL_ADAPTER_EFAIL : TL_ADAPTER_OK; }
int pt_fork_child() {
  pthread_mutex_init(&g_table_mu, nullptr);
  // Only the forking thread survives: forget the others' slots.
  for (auto& s : g_slots)
    if (&s != g_me.slot && s.id.load()) {
      s.id.store(0);
      g_live.fetch_sub(1);
    }
  g_spawned->clear();
  return TL_ADAPTER_OK;
}

int pt_push(uintptr_t w) {
  if (g_sp >= kValueWords) return fail(TL_ADAPTER_EFAIL, "value stack overflow");
  g_stack[g_sp++] = w;
  return TL_ADAPTER_OK;
}
int pt_pop(uintptr_t* w) {
  if (g_sp == 0) return fail(TL_ADAPTER_EFAIL, "value stack underflow");
  *w = g_stack[--g_sp];
  return TL_ADAPTER_OK;
}

int pt_counters(tl_adapter_counter* out, size_t cap, size_t* count) {
  pthread_mutex_lock(&g_table_mu);
  uint64_t unjoined = g_spawned->size();
  pthread_mutex_unlock(&g_table_mu);
  const tl_adapter_counter all[] = {{"threads_live", g_live.load(), TL_UNIT_COUNT},
                                    {"threads_unjoined", unjoined, TL_UNIT_COUNT}};
  for (size_t i = 0; i < 2 && i < cap; ++i) out[i] = all[i];
  if (count) *count = 2;
  return TL_ADAPTER_OK;
}

int pt_integrity(tl_adapter_violation* out, size_t cap) {
  int found = 0;
  // A thread takes its slot and counts itself in two steps: a scan that
  // lands between them (other threads start and end while the check runs)
  // is not a violation. Only a mismatch that lasts over a few scans is.
  uint64_t live = 0, ledger = 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (attempt) sched_yield();
    live = 0;
    for (auto& s : g_slots) {
      uint64_t id = s.id.load();
      if (id && id != UINT64_MAX) ++live;
    }
    ledger = g_live.load();
    if (live == ledger) break;
  }
  if (live != ledger) {
    if (cap > 0) {
      out[0] = tl_adapter_violation{};
      out[0].kind = TL_VIOLATION_INVARIANT;
      std::snprintf(out[0].what, sizeof out[0].what, "invariant: %llu slots in use but ledger says %llu",
                    static_cast<unsigned long long>(live), static_cast<unsigned long long>(ledger));
    }
    ++found;
  }
  return found;
}

int pt_thread_list(tl_adapter_thread* out, size_t cap, size_t* count) {
  size_t n = 0;
  for (auto& s : g_slots) {
    uint64_t id = s.id.load(std::memory_order_acquire);
    if (id == 0 || id == UINT64_MAX) continue;
    if (n < cap) {
      out[n] = tl_adapter_thread{};
      out[n].id = id;
      out[n].kernel_tid = s.tid.load();
      std::snprintf(out[n].state, sizeof out[n].state, "%s", s.depth.load() ? "callback" : "running");
      std::snprintf(out[n].name, sizeof out[n].name, "%s", s.name);
      if (uint64_t w = s.waiting.load())
        std::snprintf(out[n].waiting_on, sizeof out[n].waiting_on, "lock %s",
                      reinterpret_cast<Lock*>(w)->name);
    }
    ++n;
  }
  if (count) *count = n;
  return TL_ADAPTER_OK;
}

tl_adapter make_pthread() {
  tl_adapter a{};
  a.abi_version = TL_ADAPTER_ABI_VERSION;
  a.struct_size = sizeof(tl_adapter);
  a.name = "pthread";
  a.description = "baseline: raw POSIX threads, no runtime";
  a.caps = TL_CAP_SPAWN | TL_CAP_FOREIGN_CALLBACK | TL_CAP_LOCKS | TL_CAP_MAILBOXES | TL_CAP_FORK |
           TL_CAP_COUNTERS | TL_CAP_INTEGRITY | TL_CAP_VALUE_STACK | TL_CAP_THREAD_LIST;
  a.init = pt_init;
  a.last_error = pt_last_error;
  a.spawn = pt_spawn;
  a.join = pt_join;
  a.self = pt_self;
  a.callback_enter = pt_enter;
  a.callback_exit = pt_exit;
  a.fork_prepare = pt_fork_prepare;
  a.fork_parent = pt_fork_parent;
  a.fork_child = pt_fork_child;
  a.lock_new = pt_lock_new;
  a.lock = pt_lock;
  a.unlock = pt_unlock;
  a.lock_free = pt_lock_free;
  a.wait_edges = pt_wait_edges;
  a.mailbox_new = pt_mb_new;
  a.mailbox_send = pt_mb_send;
  a.mailbox_receive = pt_mb_receive;
  a.mailbox_free = pt_mb_free;
  a.value_push = pt_push;
  a.value_pop = pt_pop;
  a.counters = pt_counters;
  a.check_integrity = pt_integrity;
  a.thread_list = pt_thread_list;
  return a;
}

}  // namespace

extern "C" const tl_adapter tl_pthread_adapter = make_pthread();
