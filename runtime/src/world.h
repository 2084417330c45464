// world.h — stop-the-world: stopping every other thread that has a record,
// under one of two policies, and starting them again.
//
// Policies (chosen at tl_init):
//   preemptive — every running target (managed, foreign, blocked) is sent
//     the suspend signal and acknowledges from its handler, saving its
//     registers and stack pointer (suspend_signal_posix.cpp; Mach
//     thread_suspend on Apple, suspend_darwin.cpp).
//   hybrid — targets in foreign or blocking code, or still being created,
//     are stopped by setting kStopBit on their state word, with no signal;
//     managed targets get kStopBit as a request, stop themselves at their
//     next safepoint, and are signalled only after the grace period.
//
// Invariants:
//   - One stopper at a time: it holds the lifecycle lock exclusively from
//     suspend to resume. Spawn, adoption and the move to EXITING hold it
//     shared, so no thread is created, adopted or starts exiting while the
//     world is stopped, and no thread is stopped inside pthread_create.
//   - The stopper also holds the registry lock throughout (taken before any
//     target is asked to stop, so no stopped thread can hold it), and
//     allocates nothing while the world is stopped: a stopped thread may
//     hold the allocator's lock.
//   - Generations: each stop has a new stop_gen; a target acknowledges by
//     raising acked_gen to it (Record::ack: never lowered, so a late
//     acknowledgement of an older stop cannot undo a newer one), and waits
//     until resume_gen reaches it — so a resume that arrives early is never
//     lost and a stale or repeated signal is ignored.
//   - A record with kStopBit cannot leave FOREIGN, BLOCKED or CREATING until
//     the resume; leaving MANAGED with kStopBit acknowledges the stop that
//     set the bit (acknowledge_left_managed), not the current generation.
//   - A target that never answers is named, with its state, after
//     suspend_timeout_ms; the stop is then abandoned and the world resumed.
//   - Every wait for a resume (in the handler, at a safepoint, leaving a
//     stopped state) sleeps on one futex word that the restart bumps, and
//     holds no lock: a thread stopped again as it wakes holds nothing
//     another thread needs. (Waiting under a mutex let a thread be stopped
//     holding it under ThreadSanitizer, which then never delivered the next
//     stop to a thread queued on that mutex.)
#pragma once
#include <pthread.h>

#include <atomic>
#include <cstdint>

#include "record.h"

namespace tl::world {

void init(int policy, unsigned timeout_ms, unsigned resend_ms, unsigned grace_us);

// Lifecycle lock, shared side: spawn, adoption and teardown.
void lifecycle_enter();
void lifecycle_leave();

// Fork (fork.h). The exclusive side for the prepare handler: waits, as
// BLOCKED if the caller is MANAGED, for a stop in progress to end, and then
// no stop begins until fork_unlock (parent) or fork_child (child).
void fork_lock();
void fork_unlock();
// In the child: the lifecycle lock released and made anew, no stopper (a
// stop the forking thread held, by_stopper, ends: the threads it stopped
// are gone, and its registry hold is given up), every generation answered.
void fork_child(bool by_stopper);

int set_policy(int policy);
// r is exiting: if it holds the world stopped, restart the world (every
// nesting level) so the threads it stopped are not left waiting.
void end_stop_of_exiting(Record* r);
int suspend_others();
int resume_others();
bool stopped();
Record* stopper();
// True when the calling thread holds the world stopped. Calls that allocate
// or free, or wait for another thread (spawn, join, kill, interrupt, trim),
// refuse such a caller with TL_EDEADLK: a stopped thread may hold the
// allocator's lock, and the thread waited for cannot run.
bool caller_is_stopper();

// Called by a target (not in a signal handler) to stop itself: save
// registers and sp, acknowledge, and wait for the resume.
void stop_self(Record* r);
// Park until r's kStopBit is cleared (leaving a stopped state).
void park_until_clear(Record* r);

// Generations, for the signal handler.
uint64_t stop_gen();
uint64_t resume_gen();
// Sleep until resume_gen reaches gen. Async-signal-safe: atomics and a
// raw futex wait, no lock.
void wait_for_resume(uint64_t gen);
// The futex word behind it (the resume_without_generation defect waits on
// it directly).
uint32_t* resume_word();
// Acknowledge from anywhere (signal-safe): publish acked_gen and wake the
// stopper.
void acknowledge(Record* r, uint64_t gen);

// r has just left MANAGED, with kStopBit set, for a state that is stopped
// by itself: acknowledge the stop whose bit is on r, never a later stop that
// has not asked r yet (r could then return to MANAGED while that stop holds
// the world). Nothing to do when the bit is gone: that stop has ended.
void acknowledge_left_managed(Record* r);

// Spill callee-saved registers and record the stack pointer in r.
void save_own_context(Record* r);

struct Stats {
  std::atomic<uint64_t> stops{0}, signals_sent{0}, resends{0}, by_state{0}, at_safepoint{0},
      by_signal{0}, deferred{0}, timeouts{0};
};
Stats& stats();

// Lost-signal simulation and the drop_every_nth_signal defect.
extern std::atomic<unsigned> g_drop_every;
bool drop_this_signal();

}  // namespace tl::world
