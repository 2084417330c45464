// internal.h — what the bdwgc adapter's files share.
//
// Invariants:
//   - Every thread the adapter knows (the initial thread, spawned threads,
//     foreign threads that called back) owns one Slot of a fixed table whose
//     fields are atomics, published by storing `id` last; thread_list reads
//     it without a lock (the watchdog calls it while threads may be stuck).
//   - bdwgc's allocation lock is held by the thread that stopped the world
//     (GC_stop_world_external .. GC_start_world_external). That thread must
//     not call into bdwgc's locking entry points (allocation, collection,
//     registration, most statistics) nor wait on an adapter lock a stopped
//     thread may hold: world_stopped_by_me() guards those paths.
//   - The adapter never calls a bdwgc function that takes the allocation
//     lock while it holds an adapter lock, except GC_gcollect under
//     collect.cpp's scope lock (whose holders never wait on anything a
//     collection waits on).
#pragma once

#include <threadlab/adapter.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tlgc {

// ---- error.cpp: the calling thread's last failure
int fail(int rc, const char* what);
const char* last_error();

// ---- slots.cpp: the thread table
constexpr size_t kSlots = 4096;
constexpr uint64_t kClaiming = UINT64_MAX;  // id while a slot is being filled

enum class Kind : int { Initial, Spawned, Foreign };

struct Slot {
  std::atomic<uint64_t> id{0};
  std::atomic<int64_t> tid{-1};
  std::atomic<int> kind{0};       // Kind
  std::atomic<unsigned> depth{0};  // callback nesting
  char name[32];
};

Slot* slot_claim(const char* name, Kind kind);  // nullptr: table full
void slot_release(Slot* s);
Slot* my_slot();                 // the calling thread's slot, or nullptr
void set_my_slot(Slot* s);
uint64_t threads_live();         // slots in use
uint64_t threads_adopted();      // foreign threads registered by callback_enter, not yet released
void adopted_add(int delta);
Slot* slot_table();              // kSlots entries
void slots_after_fork_child();  // forget every slot but the calling thread's

// ---- callbacks.cpp
int callbacks_init();  // the key whose destructor releases an adopted thread
int callback_enter();
int callback_exit();
bool registered();  // the calling thread is registered with bdwgc
// fn(arg) on a thread registered with bdwgc: the calling thread, registered
// for the call if it is not. false: it could not be registered.
bool run_registered(void (*fn)(void*), void* arg);

// ---- spawn.cpp
int spawn(const char* name, tl_adapter_fn fn, void* arg, tl_adapter_thread_id* out);
int join(tl_adapter_thread_id id);
tl_adapter_thread_id self();
bool threads_unjoined(uint64_t* n);  // false: busy (would block)
void spawn_lock_for_fork();
void spawn_unlock_after_fork(bool child);
int thread_list(tl_adapter_thread* out, size_t cap, size_t* count);

// ---- world.cpp
int suspend_all();
int resume_all();
bool world_stopped_by_me();
void world_collect_at_resume();  // collect once the outermost resume_all restarted the world
int64_t world_stopper_tid();  // kernel tid of the thread holding the world stopped, 0 if none
void world_after_fork_child();

// ---- collect.cpp
int collect();
int without_gc_begin();
int without_gc_end();
void collect_lock_for_fork();
void collect_unlock_after_fork(bool child);

// ---- heap.cpp
void* alloc(size_t bytes);
int is_live(const void* p);
int heap_stats(tl_adapter_heap_stats* out);
bool heap_objects_live(uint64_t* n);  // objects whose link is still set; false: busy
void heap_lock_for_fork();
void heap_unlock_after_fork(bool child);

// ---- fork.cpp
int fork_prepare();
int fork_parent();
int fork_child();

// ---- ledger.cpp
int counters(tl_adapter_counter* out, size_t cap, size_t* count);

}  // namespace tlgc
