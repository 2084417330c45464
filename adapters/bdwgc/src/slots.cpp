// slots.cpp — the adapter's thread table: one Slot per thread it knows.
//
// Invariants:
//   - A slot is claimed by compare-and-swap of id 0 -> kClaiming, filled,
//     and published by storing its id last (release); readers skip 0 and
//     kClaiming, so thread_list never sees a half-filled slot and takes no
//     lock.
//   - Ids come from one counter and are never reused within a process.
//   - A spawned thread releases its slot as its start routine returns; an
//     adopted foreign thread at its exit (callbacks.cpp's key destructor);
//     the initial thread never.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include "internal.h"

namespace tlgc {

namespace {
Slot g_slots[kSlots];
std::atomic<uint64_t> g_next_id{1};
std::atomic<uint64_t> g_live{0};
std::atomic<uint64_t> g_adopted{0};
thread_local Slot* t_slot = nullptr;
}  // namespace

Slot* slot_claim(const char* name, Kind kind) {
  for (auto& s : g_slots) {
    uint64_t expect = 0;
    if (!s.id.compare_exchange_strong(expect, kClaiming)) continue;
    std::snprintf(s.name, sizeof s.name, "%s", name ? name : "thread");
    s.tid.store(static_cast<int64_t>(syscall(SYS_gettid)));
    s.kind.store(static_cast<int>(kind));
    s.depth.store(0);
    s.id.store(g_next_id.fetch_add(1), std::memory_order_release);
    g_live.fetch_add(1);
    return &s;
  }
  return nullptr;
}

void slot_release(Slot* s) {
  if (!s) return;
  s->tid.store(-1);
  s->depth.store(0);
  s->id.store(0, std::memory_order_release);
  g_live.fetch_sub(1);
}

Slot* my_slot() { return t_slot; }
void set_my_slot(Slot* s) { t_slot = s; }
uint64_t threads_live() { return g_live.load(); }
uint64_t threads_adopted() { return g_adopted.load(); }
void adopted_add(int delta) { g_adopted.fetch_add(static_cast<uint64_t>(static_cast<int64_t>(delta))); }
Slot* slot_table() { return g_slots; }

void slots_after_fork_child() {
  // Only the forking thread goes on in the child.
  for (auto& s : g_slots) {
    const uint64_t id = s.id.load();
    if (&s == t_slot || id == 0) continue;
    if (static_cast<Kind>(s.kind.load()) == Kind::Foreign && id != kClaiming) g_adopted.fetch_sub(1);
    s.tid.store(-1);
    s.id.store(0);
    if (id != kClaiming) g_live.fetch_sub(1);
  }
  if (t_slot) t_slot->tid.store(static_cast<int64_t>(syscall(SYS_gettid)));
}

int thread_list(tl_adapter_thread* out, size_t cap, size_t* count) {
  size_t n = 0;
  for (auto& s : g_slots) {
    const uint64_t id = s.id.load(std::memory_order_acquire);
    if (id == 0 || id == kClaiming) continue;
    if (n < cap && out) {
      out[n] = tl_adapter_thread{};
      out[n].id = id;
      out[n].kernel_tid = s.tid.load();
      const auto kind = static_cast<Kind>(s.kind.load());
      const int64_t stopper = world_stopper_tid();
      // Every thread with a slot is registered with bdwgc: while another
      // thread holds the world stopped, bdwgc has it suspended.
      const char* state = stopper != 0 && stopper != out[n].kernel_tid ? "stopped"
                          : s.depth.load()                              ? "callback"
                          : kind == Kind::Foreign ? "foreign"
                                                  : "registered";
      std::snprintf(out[n].state, sizeof out[n].state, "%s", state);
      std::snprintf(out[n].name, sizeof out[n].name, "%s", s.name);
    }
    ++n;
  }
  if (count) *count = n;
  return TL_ADAPTER_OK;
}

}  // namespace tlgc
