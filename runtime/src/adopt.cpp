// adopt.cpp — callbacks from any thread, and adoption of foreign threads.
//
// Invariants:
//   - A thread the runtime did not create gets a record on its first
//     tl_callback_enter and keeps it for later ones; it is released by the
//     pthread key destructor when the thread exits (current.cpp), or, when
//     the thread died without that destructor running, by the death watch's
//     reaper (death_watch.h, lifecycle.cpp). The record comes from the
//     adoption cache when it holds one (adopt_cache.h).
//   - Adoption runs with every async signal blocked, so a handler that calls
//     back cannot re-enter a half-built adoption (Go #42207); the signal is
//     delivered once the record exists, and its callback nests.
//   - Adoption holds no runtime lock while it allocates: the record, its
//     stacks and the stack bounds (pthread_getattr_np allocates) are made
//     first, and only the registration is serialised with a stop — the
//     registry lock, which a stopper holds for the whole stop. A stopper
//     therefore never waits for an adoption that waits for malloc.
//   - Nesting is counted; each level remembers whether it was entered from
//     FOREIGN, so the matching exit returns the thread to FOREIGN. A signal
//     handler may nest a callback at any instruction of an outer enter or
//     exit: the depth is reserved before its level's bit is written and
//     given back only after the level's state move, so the handler's level
//     never shares a bit with the one it interrupted.
//   - With adoption off, a foreign thread's callback fails with
//     TL_EADOPTOFF and a message — never a trip into the fatal path.
#include <signal.h>
#include <string.h>

#include <cstdio>
#include <new>

#include "adopt.h"
#include "race_point.h"
#include "adopt_cache.h"
#include "altstack.h"
#include "fault.h"
#include "current.h"
#include "death_watch.h"
#include "safepoint.h"
#include "globals.h"
#include "inject.h"
#include "ledger.h"
#include "os.h"
#include "registry.h"
#include "status.h"
#include "thread_handles.h"
#include "world.h"

namespace tl {

void (*g_adoption_observer)(Record*) = nullptr;

namespace {

constexpr unsigned kMaxCallbackDepth = 256;

void mark_depth(Record* r, unsigned depth, bool from_foreign) {
  uint64_t bit = uint64_t{1} << (depth % 64);
  if (from_foreign)
    r->callback_prior_foreign[depth / 64] |= bit;
  else
    r->callback_prior_foreign[depth / 64] &= ~bit;
}

bool depth_was_foreign(Record* r, unsigned depth) {
  return (r->callback_prior_foreign[depth / 64] >> (depth % 64)) & 1u;
}

// Reserve depth level `depth` (the caller's current depth) for a callback
// that is entered from `from_foreign`. Signal fences keep the compiler from
// moving the stores: a handler that runs between them sees depth+1 and
// uses the next level.
void enter_level(Record* r, unsigned depth, bool from_foreign) {
  r->callback_depth.store(depth + 1, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  mark_depth(r, depth, from_foreign);
  std::atomic_signal_fence(std::memory_order_seq_cst);
}

// A fresh or cached record for the calling thread, not yet registered.
// Allocates; holds no runtime lock.
int make_record(Record** out) {
  Record* r = adopt_cache_take();  // a released record: nothing to map
  if (!r && !(r = new (std::nothrow) Record()))
    return fail(TL_ENOMEM, "tl_callback_enter: no memory for a record while adopting a foreign thread");
  if (!r->value.mapped() && !record_map_stacks(r, rt().cfg.value_stack_bytes, rt().cfg.temp_stack_bytes)) {
    delete r;
    return fail(TL_ENOMEM, "tl_callback_enter: could not map value/temp stacks while adopting a foreign thread");
  }
  r->id = rt().next_id.fetch_add(1, std::memory_order_relaxed);
  r->flags = TL_FLAG_ADOPTED;
  r->pthread = pthread_self();
  r->kernel_tid.store(os::kernel_tid(), std::memory_order_release);
  r->mach_port = os::mach_thread_port(r->pthread);
  snprintf(r->name, TL_NAME_MAX, "foreign-%lld", static_cast<long long>(r->kernel_tid.load()));
  os::Bounds b;
  if (!os::control_stack_bounds(&b)) b = os::Bounds{};  // unknown: none from a cached record's last life
  r->control_lo = b.lo;
  r->control_hi = b.hi;
  altstack_discover(r);  // the collector scans a thread stopped on its altstack (altstack.h)
  if (int rc = fault::thread_attach(r); rc != TL_OK) {  // altstack and per-thread hooks (fault.h)
    record_delete(r);
    return rc;
  }
  if (int rc = handles_acquire(r); rc != TL_OK) {  // its kernel handle, made on the thread itself
    const int e = r->handles.start_errno;
    fault::thread_detach(r);  // undo the attach above, on this thread
    record_delete(r);
    return fail(rc, "tl_callback_enter: foreign thread %lld not adopted: could not create its %s: %s",
                static_cast<long long>(os::kernel_tid()), handles_what(), strerror(e));
  }
  r->vanished.store(false, std::memory_order_relaxed);
  death_watch_arm(&r->death);  // false on platforms without one: teardown alone releases
  *out = r;
  return TL_OK;
}

int adopt(Record** out) {
  sigset_t old;
  // DEFECT adoption_with_signals_unblocked: a handler that calls back while
  // the record is half built re-enters adopt() and adopts a second record
  // for the same thread, or finds a record whose state is still CREATING.
  const bool block = !TL_INJECT(adoption_with_signals_unblocked);
  if (block) os::block_async_signals(&old);
  Record* r = nullptr;
  int rc = make_record(&r);
  // make_record sets r whenever it returns TL_OK (its failures return
  // fail()'s status, which the static analyzer cannot see is never TL_OK).
  if (rc == TL_OK && r != nullptr) {
    ledger().records_live.fetch_add(1, std::memory_order_relaxed);
    ledger().records_adopted.fetch_add(1, std::memory_order_relaxed);
    ledger().adoptions_total.fetch_add(1, std::memory_order_relaxed);
    if (g_adoption_observer) g_adoption_observer(r);
    // Waits while a stop holds the registry; once in, the record is
    // CREATING, which a stopper stops by state, so the move below parks
    // until the resume if a stop began in between.
    registry().insert(r);
    TL_RACE_POINT();  // registered and CREATING, not yet bound: a stop may begin
    set_current(r);
    enter_level(r, 0, true);
    r->move(State::Creating, State::Managed);
  }
  if (block) pthread_sigmask(SIG_SETMASK, &old, nullptr);
  *out = r;
  return rc;
}

}  // namespace
}  // namespace tl

using namespace tl;

extern "C" int tl_callback_enter(void) {
  TL_REQUIRE_INIT();
  Record* r = current_record();
  if (!r) {
    if (current_torn_down())
      return fail(TL_EEXITING, "tl_callback_enter: thread %lld already released its record (called from a late destructor)",
                  static_cast<long long>(os::kernel_tid()));
    if (TL_INJECT(callback_borrows_initial_record)) {
      // DEFECT callback_borrows_initial_record: run the callback on the
      // initial thread's record and stacks instead of adopting (seed 000).
      r = rt().initial;
      bind_tls_only(r);
      r->callback_depth.fetch_add(1, std::memory_order_relaxed);
      return TL_OK;
    }
    if (!rt().allow_adoption.load(std::memory_order_acquire))
      return fail(TL_EADOPTOFF, "tl_callback_enter: thread %lld was not created by the runtime and adoption is off",
                  static_cast<long long>(os::kernel_tid()));
    return adopt(&r);
  }
  const unsigned depth = r->callback_depth.load(std::memory_order_relaxed);
  if (depth >= kMaxCallbackDepth) return fail(TL_EINVAL, "tl_callback_enter: callbacks nested deeper than %u", kMaxCallbackDepth);
  const State s = r->current_state();
  if (s != State::Foreign && s != State::Managed)
    return fail(TL_ESTATE, "tl_callback_enter: thread %llu is %s", static_cast<unsigned long long>(r->id), state_name(s));
  // A handler that runs from here on nests at depth+1 and leaves the state
  // as it found it, so `s` stays true for this level.
  enter_level(r, depth, s == State::Foreign);
  TL_RACE_POINT();  // a handler may nest here
  if (s == State::Foreign) r->move(State::Foreign, State::Managed);
  safepoint_poll(r);
  return TL_OK;
}

extern "C" int tl_callback_exit(void) {
  TL_REQUIRE_INIT();
  Record* r = current_record();
  unsigned depth = r ? r->callback_depth.load(std::memory_order_relaxed) : 0;
  if (depth == 0)
    return fail(TL_EUNBALANCED, "tl_callback_exit: thread %lld is not inside a callback", static_cast<long long>(os::kernel_tid()));
  --depth;
  // The level is given back only after its state move: a handler that runs
  // before then nests at depth+1 (docs/architecture.md, "Callbacks from
  // signal handlers").
  if (r != rt().initial || current_record_by_key() == r) {
    if (depth_was_foreign(r, depth)) {
      world::save_own_context(r);
      r->move(State::Managed, State::Foreign);
    }
  }
  std::atomic_signal_fence(std::memory_order_seq_cst);
  r->callback_depth.store(depth, std::memory_order_relaxed);
  return TL_OK;
}

extern "C" unsigned tl_callback_depth(void) {
  Record* r = current_record();
  return r ? r->callback_depth.load(std::memory_order_relaxed) : 0;
}

extern "C" int tl_set_adoption(int allow) {
  TL_REQUIRE_INIT();
  rt().allow_adoption.store(allow != 0, std::memory_order_release);
  return TL_OK;
}
