// death_watch.h — learning that an adopted thread died without tearing its
// record down.
//
// A foreign thread's record is released by the pthread key destructor
// (current.cpp). The C library runs key destructors a fixed number of rounds
// (PTHREAD_DESTRUCTOR_ITERATIONS), so a thread whose first callback comes
// from a late round of another library's destructor may exit without the
// runtime's destructor ever running again; a thread that leaves through a
// raw exit system call runs none at all. The watch is the backstop: the
// owner holds a robust mutex (POSIX) from adoption to teardown, and the
// kernel marks it "owner died" when the thread dies holding it. Nothing is
// polled on the owner's side; checking costs one compare-and-swap.
//
// Invariants:
//   - arm() and disarm() run on the owner only, arm() before the record is
//     registered and disarm() once the record left MANAGED/FOREIGN for
//     EXITING: a record the watch reports dead can never be torn down by its
//     owner as well.
//   - check() never blocks and allocates nothing; Dead is reported only when
//     the kernel said the owner died (no guess from a thread id, which the
//     kernel reuses). Where the platform has no such notice (Apple; qemu-user,
//     where the C library refuses robust mutexes), check() answers Unknown
//     and dead records are found only by their teardown.
//   - A record reported Dead is claimed by the caller: later checks answer
//     Unknown, so two reapers never release it twice.
#pragma once
#include <pthread.h>

namespace tl {

struct DeathWatch {
  pthread_mutex_t mu;
  bool robust = false;  // the platform made mu a robust mutex
  bool armed = false;   // [owner, under mu]
  DeathWatch();
  ~DeathWatch();
  DeathWatch(const DeathWatch&) = delete;
  DeathWatch& operator=(const DeathWatch&) = delete;
};

enum class Liveness { Alive, Dead, Unknown };

// On the owner thread. arm() returns false when the platform has no watch.
bool death_watch_arm(DeathWatch* w);
void death_watch_disarm(DeathWatch* w);
// From any thread.
Liveness death_watch_check(DeathWatch* w);
// In a fork child, for every record: the mutex made anew (the C library
// empties the child's robust list, so no mutex held in the parent is
// watched there, and a vanished owner's would never be released); the
// forking thread's own watch, if armed, is armed again on it.
void death_watch_after_fork(DeathWatch* w, bool survivor);
// Whether this process gets the kernel's notice at all (not on Apple, nor
// under qemu-user, which does not implement robust futex lists).
bool death_watch_supported();

}  // namespace tl
