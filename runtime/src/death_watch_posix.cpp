// death_watch_posix.cpp — the death watch as a robust mutex (see
// death_watch.h). The kernel walks a dying thread's robust-futex list and
// marks every mutex still held "owner died"; the next trylock answers
// EOWNERDEAD. That happens before the thread's id is cleared, so once
// pthread_join of the thread has returned, check() already says Dead.
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "death_watch.h"

namespace tl {

namespace {
// Whether the kernel walks this process's robust-futex lists at all. qemu-
// user answers ENOSYS to the robust-list calls (and the C library still
// makes robust mutexes, which then never report a dead owner).
bool kernel_walks_robust_lists() {
  static const bool yes = [] {
    void* head = nullptr;
    size_t len = 0;
    return syscall(SYS_get_robust_list, 0, &head, &len) == 0;
  }();
  return yes;
}
}  // namespace

namespace {
// Off (a plain mutex) where the kernel keeps no robust list (qemu-user),
// or the C library refuses robust mutexes.
bool init_watch_mutex(pthread_mutex_t* mu) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  const bool robust = kernel_walks_robust_lists() && pthread_mutex_init(mu, &a) == 0;
  if (!robust) pthread_mutex_init(mu, nullptr);
  pthread_mutexattr_destroy(&a);
  return robust;
}
}  // namespace

DeathWatch::DeathWatch() { robust = init_watch_mutex(&mu); }

void death_watch_after_fork(DeathWatch* w, bool survivor) {
  const bool was_armed = w->armed;
  // Held by a thread that is gone (or by this one under its old kernel id):
  // destroyed (ThreadSanitizer forgets its owner; ci/tsan.supp says why its
  // report of a locked mutex destroyed here is expected) and made anew.
  pthread_mutex_destroy(&w->mu);
  w->robust = init_watch_mutex(&w->mu);
  w->armed = false;
  if (survivor && was_armed) death_watch_arm(w);
}

bool death_watch_supported() {
  static const bool supported = [] {
    DeathWatch probe;
    return probe.robust;
  }();
  return supported;
}

DeathWatch::~DeathWatch() { pthread_mutex_destroy(&mu); }

bool death_watch_arm(DeathWatch* w) {
  if (!w->robust) return false;
  int e = pthread_mutex_lock(&w->mu);
  if (e == EOWNERDEAD) {
    // A previous owner died holding it and nobody claimed it: the record
    // was released by a reaper that had not yet run check(). Take it over.
    pthread_mutex_consistent(&w->mu);
    e = 0;
  }
  if (e != 0) return false;
  w->armed = true;
  return true;
}

void death_watch_disarm(DeathWatch* w) {
  if (!w->armed) return;
  w->armed = false;
  pthread_mutex_unlock(&w->mu);
}

Liveness death_watch_check(DeathWatch* w) {
  if (!w->robust) return Liveness::Unknown;
  const int e = pthread_mutex_trylock(&w->mu);
  if (e == EBUSY) return Liveness::Alive;
  if (e == EOWNERDEAD) {
    // Claimed: consistent again, unlocked, and disarmed, so the next check
    // answers Unknown and the record can be reused.
    pthread_mutex_consistent(&w->mu);
    w->armed = false;
    pthread_mutex_unlock(&w->mu);
    return Liveness::Dead;
  }
  if (e == 0) pthread_mutex_unlock(&w->mu);  // not armed: no owner to watch
  return Liveness::Unknown;
}

}  // namespace tl
