// fork.cpp — the runtime across fork(): pthread_atfork handlers, tl_fork
// and tl_fork_report (see fork.h for the invariants, docs/architecture.md
// "Fork" for the lock order and what the child resets).
//
// Invariants (beyond fork.h):
//   - prepare, parent and child run on the forking thread; which locks
//     prepare took is kept in that thread's thread-locals, which the child
//     inherits, so the child undoes exactly what its prepare did.
//   - Two forks are serialised by the lifecycle lock; a stop in progress
//     ends before prepare gets it, and none begins until the fork is done.
//     The thread holding the world stopped already holds it (and the
//     registry lock): its fork goes ahead, and in the child the stop ends,
//     the threads it stopped being gone. tl_fork refuses that thread.
//   - The child handler allocates and frees (records, interrupt nodes):
//     the C library's allocator is made fork-safe by the C library itself.
//     It never waits: every lock it takes was re-initialised first and no
//     other thread exists.
#include "fork.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <new>
#include <string>
#include <vector>

#include "current.h"
#include "death_watch.h"
#include "fault.h"
#include "fault_forward.h"
#include "gc/heap.h"
#include "gc/inhibit.h"
#include "globals.h"
#include "inject.h"
#include "interrupt.h"
#include "ledger.h"
#include "lock_rank.h"
#include "os.h"
#include "record.h"
#include "registry.h"
#include "status.h"
#include "thread_handles.h"
#include "world.h"

namespace tl {

void retire_stacks(Record* r);  // lifecycle.cpp

namespace {

tl_fork_info g_report{};
std::atomic<uint64_t> g_forks{0};

// What this thread's prepare took, for its parent or child handler.
thread_local bool t_prepared = false;
thread_local bool t_by_stopper = false;
thread_local bool t_heap_taken = false;

void lock_leaves() {
  // One rank entry for every leaf lock: only this handler holds several.
  rank_taken(Rank::Leaf, "every leaf lock (fork)");
  pthread_mutex_lock(slot_cache_mutex());
  pthread_mutex_lock(adopt_cache_mutex());
  pthread_mutex_lock(registry().graveyard_mutex());
  pthread_mutex_lock(names_mutex());
  pthread_mutex_lock(lock_order_mutex());
  mailboxes_fork_lock();
}

void unlock_leaves() {
  mailboxes_fork_unlock();
  pthread_mutex_unlock(lock_order_mutex());
  pthread_mutex_unlock(names_mutex());
  pthread_mutex_unlock(registry().graveyard_mutex());
  pthread_mutex_unlock(adopt_cache_mutex());
  pthread_mutex_unlock(slot_cache_mutex());
  rank_dropped(Rank::Leaf);
}

void prepare() {
  if (!initialized() || t_prepared) return;  // t_prepared: fork_prepared() took the locks already
  // The tick lock first: tl_set_cpu_tick holds it while it walks the
  // registry, so it ranks above the lifecycle lock here. The thread holding
  // the world stopped, which holds the lifecycle and registry locks already,
  // takes neither: the tick lock's holder may be a thread it stopped, and
  // the child makes the tick lock anew.
  t_by_stopper = world::caller_is_stopper();
  if (!t_by_stopper) {
    pthread_mutex_lock(tick_mutex());
    world::fork_lock();  // a stop in progress ends first
  }
  registry().lock();
  // DEFECT child_lock_not_reinitialized: the heap lock is neither taken
  // before the fork nor made anew in the child; a thread that was refilling
  // its allocation buffer at the fork holds it there for good (bdwgc
  // #816/#909: the child's first allocation blocks).
  t_heap_taken = !TL_INJECT(child_lock_not_reinitialized);
  if (t_heap_taken) lock_ranked(&gc::heap().lock, Rank::Heap, "heap");
  lock_ranked(roots_mutex(), Rank::Roots, "roots");
  lock_leaves();
  g_forks.fetch_add(1, std::memory_order_relaxed);
  t_prepared = true;
}

// The mutexes prepare took, released by the thread that took them (in the
// child too: it is the same thread there, and no other thread holds any of
// them, so releasing is all the child needs — and what ThreadSanitizer,
// which tracks owners, needs to see).
void release_mutexes() {
  unlock_leaves();
  unlock_ranked(roots_mutex(), Rank::Roots);
  if (t_heap_taken) unlock_ranked(&gc::heap().lock, Rank::Heap);
  registry().unlock();
}

void parent() {
  if (!t_prepared) return;
  t_prepared = false;
  release_mutexes();
  if (!t_by_stopper) {
    world::fork_unlock();
    pthread_mutex_unlock(tick_mutex());
  }
}

// Every lock prepare took released; the lifecycle lock made anew (its
// writer is recorded by the parent thread's kernel id); the stopper's own
// holds given up too: its stop ends here. The forking thread then holds none.
void reinit_locks() {
  g_report.mailboxes_reset = mailboxes_fork_child();  // boxes still locked: sleepers uncounted
  release_mutexes();
  world::fork_child(t_by_stopper);
  if (t_by_stopper)
    pthread_mutex_init(tick_mutex(), nullptr);  // not taken: a thread that is gone may hold it
  else
    pthread_mutex_unlock(tick_mutex());
  registry().after_fork_child();
  rank_reset_after_fork();
}

// r's thread did not survive: do what its teardown would have done, on its
// behalf (the reaper's release_vanished, lifecycle.cpp, for a thread that
// cannot have run since: nothing of it is destroyed in the kernel, where it
// never existed for this process).
void drop(Record* r) {
  r->state.fetch_and(~kStopBit, std::memory_order_acq_rel);
  State s = r->current_state();
  if (s == State::Blocked) {
    transition(r->state, State::Blocked, State::Managed, r->id);
    s = State::Managed;
  }
  if (s == State::Managed || s == State::Foreign) {
    transition(r->state, s, State::Exiting, r->id);
    s = State::Exiting;
  }
  if (s == State::Creating || s == State::Exiting) transition(r->state, s, State::Dead, r->id);
  r->callback_depth.store(0, std::memory_order_relaxed);
  r->suspend_count.store(0, std::memory_order_relaxed);
  r->target_gen = 0;
  drop_interrupts(r);
  g_report.locks_taken_over += locks_fork_take_over(r);
  if (r->gc_inhibit_depth > 0) ++g_report.scopes_closed;
  gc::close_scopes_of_leaving_pending(r);
  r->no_interrupt_depth.store(0, std::memory_order_relaxed);
  handles_after_fork(r, false);
  fault::forget_after_fork(r);
  death_watch_after_fork(&r->death, false);
  r->join_handle_valid = false;  // nothing to join: the thread never existed here
  if (r->flags & TL_FLAG_ADOPTED) {
    retire_stacks(r);
    ledger().records_adopted.fetch_sub(1, std::memory_order_relaxed);
  }
  registry().retire(r);
}

// The forking thread's record: its new kernel ids, no stop, no interrupt or
// kill pending (they were asked by threads that are gone).
void rekey(Record* self) {
  self->pthread = pthread_self();
  self->kernel_tid.store(os::kernel_tid(), std::memory_order_release);
  self->mach_port = os::mach_thread_port(self->pthread);
  self->state.fetch_and(~kStopBit, std::memory_order_acq_rel);
  self->suspend_count.store(0, std::memory_order_relaxed);
  self->target_gen = 0;
  self->signalled_gen = 0;
  self->stopped_in_handler.store(false, std::memory_order_relaxed);
  self->suspend_pending.store(false, std::memory_order_relaxed);
  drop_interrupts(self);
  self->kill_requested.store(false, std::memory_order_relaxed);
  self->kill_hard.store(false, std::memory_order_relaxed);
  self->kill_done.store(false, std::memory_order_relaxed);
  self->waiting_on.store(nullptr, std::memory_order_relaxed);
  locks_fork_survivor(self);
  handles_after_fork(self, true);
  death_watch_after_fork(&self->death, true);
}

void child() {
  if (!t_prepared) return;
  t_prepared = false;
  g_forks.store(0, std::memory_order_relaxed);  // this process has made none
  g_report = tl_fork_info{};
  g_report.in_child = 1;
  g_report.by_stopper = t_by_stopper ? 1 : 0;
  reinit_locks();
  Record* self = current_record();
  if (self && self->magic != kRecordMagic) self = nullptr;  // released already (a late destructor forked)
  g_report.survivor = self ? self->id : 0;
  g_report.forwarding_stopped = fault::forward_after_fork() ? 1 : 0;
  gc::collect_after_fork();
  if (self) rekey(self);
  // DEFECT child_keeps_vanished_records: the records of threads that did
  // not survive stay registered, as if those threads were only slow to
  // die (seed 003); whoever waits for them in the child waits for good.
  if (!TL_INJECT(child_keeps_vanished_records)) {
    std::vector<Record*> gone;
    registry().lock();
    registry().for_each_locked([&](Record* r) {
      if (r != self) gone.push_back(r);
    });
    for (Record* r : gone) drop(r);
    registry().unlock();
    g_report.records_dropped = static_cast<unsigned>(gone.size());
  }
  rt().initial = self;
}

// fork() with the runtime's locks taken before it rather than from its
// prepare handler. ThreadSanitizer's fork() locks its allocator before the
// C library runs the prepare handlers (the C library itself takes malloc's
// locks after them), so a prepare handler that waits for a stop to end can
// wait for a stopper that is waiting for that allocator: a deadlock seen
// under tsan. Taken first, the wait happens before any of that.
pid_t fork_prepared() {
  prepare();
  const pid_t p = fork();
  const int e = errno;
  if (p != 0 && t_prepared) parent();  // fork failed before its handlers ran
  errno = e;
  return p;
}

}  // namespace

namespace forking {

void install() {
  static bool done = false;  // under tl_init's lock
  if (done) return;
  done = pthread_atfork(prepare, parent, child) == 0;
}

void report_lock(tl_lock* l, tl_thread_id owner) {
  if (g_report.nlocks >= TL_FORK_LOCKS_MAX) return;
  tl_fork_lock& e = g_report.locks[g_report.nlocks++];
  e.lock = reinterpret_cast<uintptr_t>(l);
  e.owner = owner;
  e.name = l->name;
}

}  // namespace forking
}  // namespace tl

using namespace tl;

extern "C" int tl_fork_check(void) {
  TL_REQUIRE_INIT();
  if (world::caller_is_stopper())
    return fail(TL_EDEADLK, "tl_fork: the calling thread holds the world stopped; fork after tl_resume_others");
  return TL_OK;
}

extern "C" int tl_fork(int* pid) {
  TL_REQUIRE_INIT();
  if (!pid) return fail(TL_EINVAL, "tl_fork: pid is NULL");
  if (int rc = tl_fork_check(); rc != TL_OK) return rc;
  const pid_t p = fork_prepared();
  if (p < 0) return fail(TL_EAGAIN, "tl_fork: fork: %s", strerror(errno));
  *pid = static_cast<int>(p);
  return TL_OK;
}

namespace {

// One fork-to-dump, shared by the caller and the interrupt that forks on
// the initial thread; the last of the two to let go deletes it (the
// interrupt may run after the caller gave up waiting for it).
struct SaveJob {
  std::string path;
  int pipe_rd = -1, pipe_wr = -1;
  std::atomic<int> refs{1};  // the caller's; +1 while an interrupt may still run
  std::atomic<int> claim{0};  // 0 pending, 1 the interrupt forks, 2 the caller gave up
  uint32_t forked = 0;  // futex word: 1 once pid is set
  int pid = -1;
  int fork_errno = 0;
  void unref() {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
};

// In the child: single-threaded by construction. Report the outcome
// through the pipe (the runtime's message on failure) and leave.
[[noreturn]] void save_in_child(SaveJob* job) {
  const int rc = tl_save_image(job->path.c_str());
  if (rc != TL_OK) {
    const char* why = tl_last_error();
    const ssize_t n = write(job->pipe_wr, why, strlen(why));
    (void)n;
  }
  _exit(rc == TL_OK ? 0 : 1);
}

void fork_for_job(SaveJob* job) {
  int pending = 0;
  if (job->claim.compare_exchange_strong(pending, 1, std::memory_order_acq_rel)) {
    const pid_t pid = fork_prepared();
    if (pid == 0) save_in_child(job);
    job->fork_errno = pid < 0 ? errno : 0;
    job->pid = static_cast<int>(pid);
  }
  __atomic_store_n(&job->forked, 1u, __ATOMIC_RELEASE);
  os::futex_wake(&job->forked, 1);
}

// The interrupt on the initial thread: fork, then let go of its reference.
void fork_interrupt(void* p) {
  auto* job = static_cast<SaveJob*>(p);
  fork_for_job(job);
  job->unref();
}

uint64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

}  // namespace

extern "C" int tl_fork_and_save(const char* path, unsigned timeout_ms, int* status) {
  TL_REQUIRE_INIT();
  if (status) *status = -1;
  if (!path || !*path) return fail(TL_EINVAL, "tl_fork_and_save: path is %s", path ? "empty" : "NULL");
  if (int rc = tl_fork_check(); rc != TL_OK) return rc;
  if (timeout_ms == 0) timeout_ms = 30000;
  const uint64_t deadline = now_ms() + timeout_ms;
  auto* job = new (std::nothrow) SaveJob();
  if (!job) return fail(TL_ENOMEM, "tl_fork_and_save: no memory");
  job->path = path;
  int fds[2];
  if (pipe(fds) != 0) {
    const int e = errno;
    delete job;
    return fail(TL_EAGAIN, "tl_fork_and_save: pipe: %s", strerror(e));
  }
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  job->pipe_rd = fds[0];
  job->pipe_wr = fds[1];
  // The seed's recipe: fork on the initial thread, at its next safe point.
  Record* initial = rt().initial;
  Record* self = current_record();
  bool here = !initial || initial == self || initial->current_state() == State::Dead;
  if (!here) {
    job->refs.store(2, std::memory_order_relaxed);  // the interrupt's, dropped when it has run
    if (tl_interrupt(initial->id, fork_interrupt, job) != TL_OK) {
      job->refs.store(1, std::memory_order_relaxed);  // it will never run: fork here
      here = true;
    }
  }
  if (here) fork_for_job(job);
  // Wait for the fork (the interrupt runs when the initial thread polls).
  for (;;) {
    if (__atomic_load_n(&job->forked, __ATOMIC_ACQUIRE)) break;
    const uint64_t t = now_ms();
    int pending = 0;
    if (t >= deadline && job->claim.compare_exchange_strong(pending, 2, std::memory_order_acq_rel)) {
      close(fds[0]);
      close(fds[1]);
      job->pipe_rd = job->pipe_wr = -1;
      job->unref();
      return fail(TL_ETIMEDOUT,
                  "tl_fork_and_save: the initial thread (%llu) reached no safe point in %u ms; nothing was forked",
                  static_cast<unsigned long long>(initial ? initial->id : 0), timeout_ms);
    }
    const uint64_t wait_ms = t < deadline ? std::min<uint64_t>(deadline - t, 20) : 20;  // past it: the fork is under way
    os::futex_wait_for(&job->forked, 0, static_cast<unsigned>(wait_ms * 1000));
  }
  close(fds[1]);
  const int pid = job->pid;
  const int fork_errno = job->fork_errno;
  job->unref();
  if (pid < 0) {
    close(fds[0]);
    return fail(TL_EAGAIN, "tl_fork_and_save: fork: %s", strerror(fork_errno));
  }
  // The child's message, then EOF when it exits (or the deadline).
  char why[512];
  size_t got = 0;
  bool eof = false;
  while (!eof) {
    const uint64_t t = now_ms();
    if (t >= deadline) break;
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(std::min<uint64_t>(deadline - t, 100))) <= 0) continue;
    const ssize_t n = read(fds[0], why + got, sizeof why - 1 - got);
    if (n > 0)
      got += static_cast<size_t>(n);
    else if (n == 0 || errno != EINTR)
      eof = true;
  }
  close(fds[0]);
  why[got] = 0;
  int ws = 0;
  if (!eof && waitpid(pid, &ws, WNOHANG) != pid) {
    char threads[1024];
    os::describe_threads(pid, threads, sizeof threads);
    kill(pid, SIGKILL);
    waitpid(pid, &ws, 0);
    if (status) *status = 128 + SIGKILL;
    return fail(TL_ETIMEDOUT, "tl_fork_and_save: the child (pid %d) still ran after %u ms and was killed; its threads: %s",
                pid, timeout_ms, threads[0] ? threads : "(not shown on this system)");
  }
  if (eof) waitpid(pid, &ws, 0);
  const int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  if (status) *status = code;
  if (code != 0)
    return fail(TL_ESTATE, "tl_fork_and_save: the child (pid %d) exited %d: %s", pid, code,
                got ? why : "(no message)");
  return TL_OK;
}

extern "C" int tl_fork_report(tl_fork_info* out) {
  TL_REQUIRE_INIT();
  if (!out) return fail(TL_EINVAL, "tl_fork_report: out is NULL");
  if (g_report.in_child) {
    *out = g_report;
  } else {
    *out = tl_fork_info{};
  }
  out->forks = g_forks.load(std::memory_order_relaxed);
  return TL_OK;
}
