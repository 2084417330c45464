// death_watch_darwin.cpp — Apple has no robust mutexes: the watch is off and
// dead adopted records are found only through their teardown (see
// death_watch.h; docs/architecture.md, "Foreign threads").
#include "death_watch.h"

namespace tl {

DeathWatch::DeathWatch() { pthread_mutex_init(&mu, nullptr); }
DeathWatch::~DeathWatch() { pthread_mutex_destroy(&mu); }
bool death_watch_arm(DeathWatch*) { return false; }
void death_watch_disarm(DeathWatch*) {}
Liveness death_watch_check(DeathWatch*) { return Liveness::Unknown; }
bool death_watch_supported() { return false; }
void death_watch_after_fork(DeathWatch* w, bool) { pthread_mutex_init(&w->mu, nullptr); }

}  // namespace tl
