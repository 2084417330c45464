// threads.cpp — spawn, join, exit and the thread list.
//
// Invariants:
//   - A spawned thread starts with every async signal blocked and unblocks
//     only once its record is bound (set_current), so no handler ever runs
//     on a runtime thread that cannot find its record. From then on, exit
//     path included, it runs with its spawner's mask.
//   - The record is registered before pthread_create and retired only by
//     tl_join after pthread_join returned, when the kernel no longer touches
//     the slot's stack — so the slot can be reused at once.
//   - join_claimed makes join single-shot: a second join is TL_ENOTHREAD.
//   - Spawn holds no runtime lock across pthread_create, which allocates
//     (the thread's TLS vector; under load, behind a malloc arena lock that
//     other threads hammer): a stopper never waits for a spawn that waits
//     for malloc. The record is registered under the registry lock, which a
//     stopper holds for a whole stop, and is CREATING until the new thread
//     binds it, so a stop that begins meanwhile stops it by state.
//   - The thread holding the world stopped may neither spawn nor join
//     (TL_EDEADLK): pthread_create and pthread_join allocate and free, and a
//     stopped thread may hold the allocator's lock; a join of a thread it
//     stopped would never return.
#include <errno.h>
#include <signal.h>
#include <string.h>

#include <cstdio>

#include "blocking.h"
#include "current.h"
#include "fatal.h"
#include "fault.h"
#include "kill.h"
#include "lifecycle.h"
#include "safepoint.h"
#include "world.h"
#include "globals.h"
#include "ledger.h"
#include "os.h"
#include "registry.h"
#include "slot.h"
#include "status.h"
#include "thread_handles.h"

namespace tl {
namespace {

void* thread_main(void* p) {
  auto* r = static_cast<Record*>(p);
  r->pthread = pthread_self();
  r->kernel_tid.store(os::kernel_tid(), std::memory_order_release);
  r->mach_port = os::mach_thread_port(r->pthread);
  set_current(r);
  if (fault::thread_attach(r) != TL_OK) fatal_error(tl_last_error());  // altstack and per-thread hooks (fault.h)
  // Through the state gate: a thread created while the world is stopped
  // waits here, before running any managed code.
  r->move(State::Creating, State::Managed);
  // The mask is not saved in exit_env (that would cost a system call per
  // thread): a jump back here sets the thread's own mask again instead.
  if (sigsetjmp(r->exit_env, 0) == 0) {
    pthread_sigmask(SIG_SETMASK, &r->start_mask, nullptr);
    // Its kernel handle, made on the thread itself (thread_handles.h);
    // without it fn never runs and tl_join says why.
    if (handles_acquire(r) == TL_OK) {
      safepoint_poll(r);  // a kill or interrupt sent while it was created
      r->fn(r->arg);
    }
  } else {
    // tl_exit, or a kill that may have jumped out of a signal handler with
    // the handler's mask: back to the mask fn ran with.
    pthread_sigmask(SIG_SETMASK, &r->start_mask, nullptr);
  }
  // fn returned, or tl_exit / a kill jumped here. What runs from now on (C++
  // thread_local destructors, other keys' destructors) is foreign code; the
  // key destructor finishes the teardown.
  r->callback_depth.store(0, std::memory_order_relaxed);
  r->no_interrupt_depth.store(0, std::memory_order_relaxed);
  r->waiting_on.store(nullptr, std::memory_order_relaxed);
  State s = r->current_state();
  if (s == State::Blocked) {
    r->move(State::Blocked, State::Managed);
    s = State::Managed;
  }
  if (s == State::Managed) {
    world::save_own_context(r);
    r->move(State::Managed, State::Foreign);
  }
  return nullptr;
}

}  // namespace
}  // namespace tl

using namespace tl;

extern "C" int tl_spawn(const char* name, tl_thread_fn fn, void* arg, tl_thread_id* out) {
  TL_REQUIRE_INIT();
  if (!fn) return fail(TL_EINVAL, "tl_spawn: fn is NULL");
  if (world::caller_is_stopper())
    return fail(TL_EDEADLK, "tl_spawn: the calling thread holds the world stopped; spawn after tl_resume_others");
  Slot* s = slot_acquire();
  if (!s)
    return fail(TL_ENOMEM, "tl_spawn: could not map a thread slot (%zu-byte control stack plus value and temp stacks): %s",
                slot_bytes(), strerror(errno));
  Record* r = s->record;
  r->id = rt().next_id.fetch_add(1, std::memory_order_relaxed);
  if (name) {
    strncpy(r->name, name, TL_NAME_MAX - 1);
    r->name[TL_NAME_MAX - 1] = 0;
  } else {
    snprintf(r->name, TL_NAME_MAX, "thread-%llu", static_cast<unsigned long long>(r->id));
  }
  r->flags = TL_FLAG_SPAWNED;
  r->fn = fn;
  r->arg = arg;
  r->control_lo = s->stack_lo;
  r->control_hi = s->stack_hi;
  arm_canaries_at(s->stack_lo);
  r->control_canaries = true;
  ledger().records_live.fetch_add(1, std::memory_order_relaxed);
  registry().insert(r);

  pthread_attr_t attr;
  pthread_attr_init(&attr);
  // The canary words sit below the range pthread is given: only an overflow
  // past the thread's own stack limit can touch them.
  uintptr_t usable_lo = s->stack_lo + kControlCanaryBytes;
  pthread_attr_setstack(&attr, reinterpret_cast<void*>(usable_lo), s->stack_hi - usable_lo);
  pthread_t pt;
  // Its altstack is mapped here, so running out of memory is this call's
  // ENOMEM, not a fatal error on the new thread (fault.h).
  if (int rc = fault::prepare_altstack(r); rc != TL_OK) {
    pthread_attr_destroy(&attr);
    transition(r->state, State::Creating, State::Dead, r->id);
    registry().retire(r);
    return rc;
  }
  // Starts with every signal blocked; start_mask gets the spawner's mask,
  // which the thread sets once its record is bound.
  int e = os::thread_create(&pt, &attr, thread_main, r, &r->start_mask);
  pthread_attr_destroy(&attr);
  if (e != 0) {
    fault::release_altstack(r);
    transition(r->state, State::Creating, State::Dead, r->id);
    registry().retire(r);
    return fail(TL_EAGAIN, "tl_spawn: pthread_create: %s", strerror(e));
  }
  registry().lock();
  r->join_handle = pt;
  r->join_handle_valid = true;
  registry().unlock();
  ledger().spawns_total.fetch_add(1, std::memory_order_relaxed);
  if (out) *out = r->id;
  return TL_OK;
}

extern "C" int tl_join(tl_thread_id id) {
  TL_REQUIRE_INIT();
  Record* self = current_record();
  if (self && self->id == id) return fail(TL_EDEADLK, "tl_join: thread %llu cannot join itself", static_cast<unsigned long long>(id));
  if (world::caller_is_stopper())
    return fail(TL_EDEADLK, "tl_join: the calling thread holds the world stopped; join after tl_resume_others");
  registry().lock();
  Record* r = registry().find_by_id_locked(id);
  if (r && !(r->flags & TL_FLAG_SPAWNED)) {
    registry().unlock();
    return fail(TL_EINVAL, "tl_join: thread %llu was not spawned by the runtime (adopted or initial threads are not joinable)",
                static_cast<unsigned long long>(id));
  }
  if (!r || !r->join_handle_valid) {
    registry().unlock();
    return fail(TL_ENOTHREAD, "tl_join: no joinable thread %llu (never spawned, or already joined)",
                static_cast<unsigned long long>(id));
  }
  if (r->join_claimed.exchange(true)) {
    registry().unlock();
    return fail(TL_ENOTHREAD, "tl_join: thread %llu is already being joined", static_cast<unsigned long long>(id));
  }
  pthread_t pt = r->join_handle;
  registry().unlock();
  int e;
  {
    // Waits as BLOCKED with its registers and sp saved, so a stop meanwhile
    // scans this thread's frames from where it waits.
    BlockedScope wait;
    e = pthread_join(pt, nullptr);
  }
  if (e != 0) return fail(TL_EINVAL, "tl_join: pthread_join: %s", strerror(e));
  const int handle_errno = r->handles.start_errno;
  registry().retire(r);
  if (handle_errno)
    return fail(TL_EAGAIN, "tl_join: thread %llu never ran its function: it could not create its %s: %s",
                static_cast<unsigned long long>(id), handles_what(), strerror(handle_errno));
  return TL_OK;
}

extern "C" void tl_exit(void) {
  Record* r = current_record();
  if (!r || !(r->flags & TL_FLAG_SPAWNED)) tl_fatal("tl_exit called on a thread the runtime did not spawn");
  r->cleanups_run = run_all_cleanups(r);
  siglongjmp(r->exit_env, 1);
}

extern "C" int tl_thread_list(tl_thread_info* buf, size_t cap, size_t* count) {
  TL_REQUIRE_INIT();
  if (!buf && cap) return fail(TL_EINVAL, "tl_thread_list: buf is NULL with cap %zu", cap);
  reap_vanished();  // a thread that died without its teardown is not listed
  size_t n = 0;
  registry().for_each([&](Record* r) {
    State s = r->current_state();
    if (s == State::Dead) return;
    if (n < cap) {
      tl_thread_info& i = buf[n];
      i.id = r->id;
      i.kernel_tid = r->kernel_tid.load(std::memory_order_relaxed);
      i.state = static_cast<int>(s);
      i.flags = r->flags;
      i.callback_depth = r->callback_depth.load(std::memory_order_relaxed);
      memcpy(i.name, r->name, TL_NAME_MAX);
    }
    ++n;
  });
  if (count) *count = n;
  return TL_OK;
}
