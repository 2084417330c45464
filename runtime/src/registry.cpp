// registry.cpp — the record list, its lock, lookups and deferred freeing.
#include "registry.h"
#include "race_point.h"
#include "lock_rank.h"

#include <cstdio>
#include <cstring>

#include "blocking.h"
#include "inject.h"

namespace tl {

Registry::Registry() {
  pthread_mutex_init(&mu_, nullptr);
  pthread_mutex_init(&grave_mu_, nullptr);
}

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: threads outlive statics
  return *r;
}

namespace {
// The stopper holds the registry lock for a whole stop-the-world and calls
// code that takes it again (thread lists, the collector): re-entrant for
// its holder.
thread_local int t_depth = 0;
}  // namespace

void Registry::lock() {
  if (t_depth++ > 0) return;
  rank_taken(Rank::Registry, "registry");
  if (pthread_mutex_trylock(&mu_) == 0) return;
  BlockedScope wait;  // contended (perhaps by a stopper): wait as BLOCKED
  pthread_mutex_lock(&mu_);
}
void Registry::unlock() {
  if (--t_depth > 0) return;
  pthread_mutex_unlock(&mu_);
  rank_dropped(Rank::Registry);
}
bool Registry::locked_by_anyone() {
  if (pthread_mutex_trylock(&mu_) == 0) {
    pthread_mutex_unlock(&mu_);
    return false;
  }
  return true;
}

void Registry::insert(Record* r) {
  lock();
  r->magic = kRecordMagic;
  r->prev = tail_;
  r->next.store(nullptr, std::memory_order_relaxed);
  if (tail_)
    tail_->next.store(r, std::memory_order_release);
  else
    head_.store(r, std::memory_order_release);
  tail_ = r;
  count_.fetch_add(1, std::memory_order_relaxed);
  unlock();
}

void Registry::retire(Record* r) {
  lock();
  Record* next = r->next.load(std::memory_order_relaxed);
  if (r->prev)
    r->prev->next.store(next, std::memory_order_release);
  else
    head_.store(next, std::memory_order_release);
  if (next)
    next->prev = r->prev;
  else
    tail_ = r->prev;
  count_.fetch_sub(1, std::memory_order_relaxed);
  r->magic = kDeadMagic;
  unlock();
  TL_RACE_POINT();  // unlinked, not yet in the graveyard: walkers stand on it
  // r->next stays intact for walkers that stand on r.
  NoStopScope no_stop;
  lock_ranked(&grave_mu_, Rank::Leaf, "graveyard");
  r->prev = graveyard_;
  graveyard_ = r;
  graveyard_count_.fetch_add(1, std::memory_order_relaxed);
  unlock_ranked(&grave_mu_, Rank::Leaf);
  reap();
}

void Registry::reap() {
  // The free_record_while_suspended defect (marked in world.cpp): dead
  // records are left for the stopper, which frees them while the world is
  // stopped, where a stopped thread may hold the allocator's lock.
  if (TL_INJECT(free_record_while_suspended)) return;
  if (world_stopped()) return;
  reap_now();
}

void Registry::reap_now() {
  if (walkers_.load(std::memory_order_seq_cst) != 0) return;
  NoStopScope no_stop;
  lock_ranked(&grave_mu_, Rank::Leaf, "graveyard");
  if (walkers_.load(std::memory_order_seq_cst) != 0) {
    unlock_ranked(&grave_mu_, Rank::Leaf);
    return;
  }
  Record* list = graveyard_;
  graveyard_ = nullptr;
  graveyard_count_.store(0, std::memory_order_relaxed);
  unlock_ranked(&grave_mu_, Rank::Leaf);
  while (list) {
    Record* prev = list->prev;
    record_free(list);
    list = prev;
  }
}

void Registry::set_world_stopped(bool stopped) {
  world_stopped_.store(stopped, std::memory_order_release);
  if (!stopped) reap();
}

Record* Registry::find_by_id_locked(tl_thread_id id) {
  for (Record* r = head_.load(std::memory_order_relaxed); r; r = r->next.load(std::memory_order_relaxed))
    if (r->id == id) return r;
  return nullptr;
}

Record* Registry::find_by_kernel_tid(int64_t tid) {
  // Async-signal-safe: atomics only. Announce ourselves first (seq_cst) so a
  // concurrent reap sees us before it frees anything we could reach.
  walkers_.fetch_add(1, std::memory_order_seq_cst);
  Record* found = nullptr;
  for (Record* r = head_.load(std::memory_order_seq_cst); r; r = r->next.load(std::memory_order_acquire)) {
    if (r->kernel_tid.load(std::memory_order_acquire) == tid && r->current_state() != State::Dead) {
      found = r;
      break;
    }
  }
  walkers_.fetch_sub(1, std::memory_order_seq_cst);
  return found;
}

static int add_violation(tl_violation* out, size_t cap, int found, const Record* r, uintptr_t addr,
                         const char* what) {
  if (out && static_cast<size_t>(found) < cap) {
    out[found].thread = r ? r->id : 0;
    out[found].address = addr;
    std::snprintf(out[found].what, sizeof out[found].what, "%s", what);
  }
  return found + 1;
}

int Registry::check_locked(tl_violation* out, size_t cap, int found) {
  size_t n = 0;
  Record* prev = nullptr;
  for (Record* r = head_.load(std::memory_order_relaxed); r; r = r->next.load(std::memory_order_relaxed)) {
    if (++n > count_.load() + 1) {
      return add_violation(out, cap, found, r, reinterpret_cast<uintptr_t>(r), "registry: cycle in the record list");
    }
    if (r->magic != kRecordMagic)
      found = add_violation(out, cap, found, r, reinterpret_cast<uintptr_t>(&r->magic), "registry: record magic damaged");
    if (r->prev != prev)
      found = add_violation(out, cap, found, r, reinterpret_cast<uintptr_t>(&r->prev), "registry: prev link does not match");
    if (static_cast<unsigned>(r->current_state()) >= kStateCount)
      found = add_violation(out, cap, found, r, reinterpret_cast<uintptr_t>(&r->state), "registry: invalid state");
    prev = r;
  }
  if (prev != tail_)
    found = add_violation(out, cap, found, prev, reinterpret_cast<uintptr_t>(tail_), "registry: tail does not match the last record");
  if (n != count_.load())
    found = add_violation(out, cap, found, nullptr, n, "registry: count does not match the list");
  return found;
}

void Registry::after_fork_child() {
  // Only the forking thread runs: a walker counted here was another thread,
  // now gone, and would keep the graveyard from being freed for good.
  walkers_.store(0, std::memory_order_seq_cst);
  world_stopped_.store(false, std::memory_order_release);
}

}  // namespace tl
