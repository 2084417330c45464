// fork.h — the runtime across fork(): the pthread_atfork handlers
// (fork.cpp) and what each owner of runtime state gives them.
//
// Invariants:
//   - install() runs once, from tl_init; the handlers do nothing in a
//     process whose runtime is not initialised.
//   - prepare takes every runtime-internal lock, in the one order of
//     docs/architecture.md ("Fork"): tick, lifecycle (exclusive: no stop in
//     progress, none begins), registry, heap, roots, then every leaf lock
//     (one rank entry for all of them, taken only here together); parent
//     and child release them in reverse (in the child the forking thread
//     still holds them, and nobody else does); the lifecycle rwlock, whose
//     writer glibc records by kernel id, is made anew in the child.
//   - In the child only the forking thread exists. Before the child
//     handler returns, every other record is released on its thread's
//     behalf (stacks, altstack, kernel handle, death watch, interrupts,
//     without-GC scopes), its runtime locks are taken over (free, marked
//     abandoned) and reported, and the surviving record is re-keyed by its
//     new kernel ids with suspension, interrupt and kill state reset.
//   - The accessors below hand fork.cpp the leaf mutexes; nothing but
//     fork.cpp takes two of them at once.
#pragma once
#include <pthread.h>

#include "threadlab/runtime.h"

namespace tl {

struct Record;

namespace forking {
// Register the handlers (once per process).
void install();
// Add a lock taken over in the child to the report (lock_fork.cpp).
void report_lock(tl_lock* l, tl_thread_id owner);
}  // namespace forking

// Leaf mutexes, one accessor per owning file.
pthread_mutex_t* slot_cache_mutex();   // slot.cpp
pthread_mutex_t* adopt_cache_mutex();  // adopt_cache.cpp
pthread_mutex_t* names_mutex();        // names.cpp
pthread_mutex_t* lock_order_mutex();   // lock_order.cpp
pthread_mutex_t* tick_mutex();         // thread_handles.cpp (taken before the registry)
pthread_mutex_t* roots_mutex();        // gc/collect.cpp

// Mailboxes (mailbox.cpp): the list lock and every box's lock, taken and
// released around fork(); in the child (locks still held), the sleeper
// counts of boxes whose sleepers vanished reset (returns how many boxes).
void mailboxes_fork_lock();
void mailboxes_fork_unlock();
unsigned mailboxes_fork_child();

// Runtime locks (lock_fork.cpp), in the child only: free every lock the
// vanished record r held (marked abandoned, reported) and empty the queue
// of the lock it waited on; returns how many locks it took over.
unsigned locks_fork_take_over(Record* r);
// The survivor's held locks stay held, their queues emptied (every waiter
// vanished).
void locks_fork_survivor(Record* self);

}  // namespace tl
