// lock_rank.h — the runtime's lock order, checked (in the manner of Go's
// lockrank) wherever bug injection is compiled in (every preset but
// `release`).
//
// Invariants:
//   - Every runtime-internal lock has a rank; a thread takes locks only in
//     increasing rank, and holds at most one leaf lock, taking nothing
//     under it. The order is the one docs/architecture.md ("Lock order")
//     gives: lifecycle < registry < heap < roots < leaf (slot cache,
//     adoption cache, graveyard). The fork prepare handler (fork.cpp) is
//     the one holder of several leaf locks: it takes them all as one entry.
//   - A violation is fatal at once, naming both locks, on the path that
//     took them: it does not wait for the deadlock a second thread would
//     need to make of it.
//   - The held-rank stack is initial-exec TLS and plain stores: safe on
//     the signal path (a hard kill releases ranks from its handler).
//   - Re-entrant locks (the registry's) report only their outermost take.
#pragma once
#include <pthread.h>

namespace tl {

enum class Rank : unsigned char { Lifecycle = 1, Registry = 2, Heap = 3, Roots = 4, Leaf = 5 };

#if TL_INJECTION_COMPILED
void rank_taken(Rank r, const char* name);
void rank_dropped(Rank r);
// In a fork child: the locks the forking thread held are re-initialised
// unlocked, so it holds none.
void rank_reset_after_fork();
#else
inline void rank_taken(Rank, const char*) {}
inline void rank_dropped(Rank) {}
inline void rank_reset_after_fork() {}
#endif

// A pthread mutex taken and released with its rank checked.
inline void lock_ranked(pthread_mutex_t* mu, Rank r, const char* name) {
  rank_taken(r, name);
  pthread_mutex_lock(mu);
}
inline void unlock_ranked(pthread_mutex_t* mu, Rank r) {
  pthread_mutex_unlock(mu);
  rank_dropped(r);
}

}  // namespace tl
