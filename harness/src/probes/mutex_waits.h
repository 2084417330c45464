// mutex_waits.h — the wait-for graph of any program whose threads hang on
// glibc pthread_mutex_t locks, read from outside (for `threadlab exec`).
//
// A glibc mutex keeps its owner's kernel tid in the word after its lock
// word and its count (`__owner`, 8 bytes past `__lock`, on every Linux ABI
// glibc supports), and a thread blocked in pthread_mutex_lock sleeps in
// futex() on `__lock`. So: each thread asleep in futex on address A, where
// A+8 holds the tid of a thread of the same process, waits on the mutex at
// A held by that thread.
//
// Invariants:
//   - Read-only (/proc/PID/task/TID/syscall and /proc/PID/mem); a word that
//     does not name a live thread of the process is not a mutex owner, so a
//     condition variable or a raw futex never makes an edge.
//   - Where the OS offers no such view, the result is empty and the note
//     says so (mutex_waits_darwin.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace threadlab {

struct MutexWait {
  int64_t waiter = 0;  // kernel tid
  int64_t owner = 0;   // kernel tid
  uintptr_t mutex = 0;
};
std::vector<MutexWait> pthread_mutex_waits(long pid, std::string* note);

}  // namespace threadlab
