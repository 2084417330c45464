// registry.h — every context record, in one intrusive doubly-linked list.
//
// Invariants:
//   - Insertion, unlinking and every locked walk hold the registry lock
//     (runtime lock order: see docs/architecture.md, "Lock order"). It is
//     re-entrant for its holder (the stopper keeps it for a whole stop).
//   - Lock-free walkers (signal handlers, the fatal path) announce themselves
//     in `walkers_`; an unlinked record keeps its `next`, so a walker standing
//     on it can go on.
//   - A retired record goes to the graveyard and is freed only when there is
//     no walker and the world is not stopped (a stopped thread may hold the
//     allocator's lock — CCL's free_freed_tcrs); reap() is retried at every
//     retire and whenever the world restarts.
//   - count_ equals the number of records on the list.
#pragma once
#include <pthread.h>

#include <atomic>
#include <cstddef>

#include "record.h"

namespace tl {

class Registry {
 public:
  Registry();

  void lock();
  void unlock();
  bool locked_by_anyone();  // diagnostics only

  // Add a record (magic set, state CREATING or MANAGED).
  void insert(Record* r);
  // Unlink and queue for freeing with `free_fn` once nothing can see it.
  void retire(Record* r);

  // Call fn(r) for each registered record, under the lock.
  template <typename F>
  void for_each(F&& fn) {
    lock();
    for (Record* r = head_.load(std::memory_order_relaxed); r; r = r->next.load(std::memory_order_relaxed)) fn(r);
    unlock();
  }
  // As for_each, with the lock already held.
  template <typename F>
  void for_each_locked(F&& fn) {
    for (Record* r = head_.load(std::memory_order_relaxed); r; r = r->next.load(std::memory_order_relaxed)) fn(r);
  }

  // Lock-free, async-signal-safe walk (see find_by_kernel_tid).
  template <typename F>
  void for_each_lockfree(F&& fn) {
    walkers_.fetch_add(1, std::memory_order_seq_cst);
    for (Record* r = head_.load(std::memory_order_seq_cst); r; r = r->next.load(std::memory_order_acquire)) fn(r);
    walkers_.fetch_sub(1, std::memory_order_seq_cst);
  }

  // Lookups; the *_locked ones need the lock held.
  Record* find_by_id_locked(tl_thread_id id);
  // Lock-free, async-signal-safe lookup by kernel tid (for code that runs on
  // another thread than the one it is about).
  Record* find_by_kernel_tid(int64_t tid);

  size_t count() const { return count_.load(std::memory_order_relaxed); }
  size_t graveyard_size() const { return graveyard_count_.load(std::memory_order_relaxed); }

  // The world-stopped flag blocks freeing; clearing it reaps.
  void set_world_stopped(bool stopped);
  bool world_stopped() const { return world_stopped_.load(std::memory_order_acquire); }

  // Free graveyard records if nothing can see them and the world runs.
  void reap();
  // Free graveyard records if no walker can see them, whether or not the
  // world is stopped: only the free_record_while_suspended defect calls
  // this while it is.
  void reap_now();

  // Check links, magic, states and count; returns violations written.
  int check_locked(tl_violation* out, size_t cap, int found);

  // Fork (fork.h): the graveyard's leaf lock, for the prepare handler; in
  // the child, once the forking thread released its holds, the walkers of
  // vanished threads uncounted and the world not stopped.
  pthread_mutex_t* graveyard_mutex() { return &grave_mu_; }
  void after_fork_child();

  Record* head_locked() { return head_.load(std::memory_order_relaxed); }

 private:
  pthread_mutex_t mu_;
  std::atomic<Record*> head_{nullptr};
  Record* tail_ = nullptr;
  std::atomic<size_t> count_{0};
  std::atomic<int> walkers_{0};
  std::atomic<bool> world_stopped_{false};
  Record* graveyard_ = nullptr;  // chained through Record::prev
  std::atomic<size_t> graveyard_count_{0};
  pthread_mutex_t grave_mu_;
};

Registry& registry();

// Frees a retired record (slot back to its cache, an adopted record to the
// adoption cache, or stacks unmapped and the record deleted). Installed by
// the runtime; never called with a walker or a stopped world.
void record_free(Record* r);

}  // namespace tl
