// lifecycle.h — the end of a thread's life: teardown on the thread itself,
// and freeing once nothing can see the record.
//
// Invariants:
//   - The teardown runs on the thread the record describes, from the
//     pthread key destructor (so after other keys' destructors had their
//     chance to call back), and moves the record to EXITING then DEAD; an
//     adopted thread's stacks are retired only once it is DEAD.
//   - Adopted records are retired by teardown; spawned records by tl_join
//     (the joiner must still find them); the initial record lives forever.
//   - An adopted thread that dies without its teardown (its first callback
//     came from a key destructor in the C library's last round, or it left
//     through a raw exit) is released by reap_vanished on its behalf, at the
//     next stop, thread list or counter read: never while it can still run.
//   - Freeing returns a spawned record to its slot (slot.h) and an adopted
//     one, its stacks still retired, to the adoption cache (adopt_cache.h);
//     only what those caches do not keep is unmapped and deleted.
#pragma once

namespace tl {

struct Record;

// The two halves of the teardown (current.cpp runs them from the key
// destructor): leave for EXITING, after which no stopper waits for this
// thread, then retire the stacks and release the record.
void thread_leave_for_exit(Record* r);
void thread_release(Record* r);

// True when r is adopted and its thread died without its teardown (the
// death watch said so, now or to an earlier caller, who kept the answer in
// r->vanished: a watch reports a death once). Never blocks or allocates.
bool record_vanished(Record* r);

// Release the records of adopted threads that died without their teardown
// (the death watch said so: death_watch.h). Takes the registry lock; call
// with no stop in progress, or as the stopper before it asks anyone.
void reap_vanished();

}  // namespace tl
