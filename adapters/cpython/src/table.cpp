// table.cpp — the adapter's thread table: one slot per thread that touched
// the adapter, readable without a lock (thread_list runs from the watchdog
// while threads may be stuck holding the GIL or waiting for it).
//
// Invariants:
//   - A slot's fields are written by its owner before `id` is published
//     (release store); readers skip ids 0 and UINT64_MAX.
//   - Ids come from one counter and are never reused.
//   - A slot is released when its thread exits (a thread_local destructor),
//     under its mutex, so an interrupt either lands before the release (and
//     is dropped with the slot) or finds the id gone.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include "internal.h"

namespace tlpy {

Slot g_slots[kSlots];
std::atomic<uint64_t> g_live{0};

namespace {
std::atomic<uint64_t> g_next_id{1};

struct Me {
  Slot* slot = nullptr;
  ~Me() {
    if (!slot) return;
    pthread_mutex_lock(&slot->mu);
    drop_pending(slot);
    slot->tid.store(-1);
    slot->waiting.store(0);
    slot->id.store(0, std::memory_order_release);
    pthread_mutex_unlock(&slot->mu);
    g_live.fetch_sub(1);
  }
};
thread_local Me g_me;
}  // namespace

const char* state_name(State s) {
  switch (s) {
    case State::Native: return "native";
    case State::Python: return "python";
    case State::GilWait: return "gil-wait";
    case State::Blocking: return "blocking";
    case State::Foreign: return "foreign";
    case State::Detached: return "detached";
    case State::LockWait: return "lock-wait";
  }
  return "?";
}

Slot* current() { return g_me.slot; }

Slot* claim(const char* name) {
  if (g_me.slot) return g_me.slot;
  for (auto& s : g_slots) {
    uint64_t expect = 0;
    if (!s.id.compare_exchange_strong(expect, UINT64_MAX)) continue;
    std::snprintf(s.name, sizeof s.name, "%s", name ? name : "foreign");
    s.tid.store(static_cast<int64_t>(syscall(SYS_gettid)));
    s.state.store(static_cast<int>(State::Detached));
    s.py_ident.store(PyThread_get_thread_ident());
    s.npending.store(0);
    s.waiting.store(0);
    s.id.store(g_next_id.fetch_add(1), std::memory_order_release);
    g_me.slot = &s;
    g_live.fetch_add(1);
    return &s;
  }
  return nullptr;
}

void set_state(State st) {
  if (Slot* s = g_me.slot) s->state.store(static_cast<int>(st), std::memory_order_relaxed);
}

void forget_others() {
  for (auto& s : g_slots) {
    pthread_mutex_init(&s.mu, nullptr);  // a thread that is gone may have held it
    if (&s == g_me.slot) continue;
    uint64_t id = s.id.load();
    if (id == 0) continue;
    delete s.pending;
    s.pending = nullptr;
    s.npending.store(0);
    s.id.store(0);
    if (id != UINT64_MAX) g_live.fetch_sub(1);
  }
}

}  // namespace tlpy

extern "C" tl_adapter_thread_id tlpy_self(void) {
  tlpy::Slot* s = tlpy::current();
  return s ? s->id.load() : 0;
}
