// adopt.cpp — callbacks from any thread, and adoption of foreign threads.
//
// Invariants:
//   - A thread the runtime did not create gets a record on its first
//     tl_callback_enter and keeps it for later ones; it is released by the
//     pthread key destructor when the thread exits (current.cpp). The record
//     comes from the adoption cache when it holds one (adopt_cache.h).
//   - Adoption runs with every async signal blocked and under the adoption
//     lock, so a handler that calls back cannot re-enter a half-built
//     adoption (Go #42207); the signal is delivered once the record exists,
//     and its callback nests.
//   - Nesting is counted; each level remembers whether it was entered from
//     FOREIGN, so the matching exit returns the thread to FOREIGN.
//   - With adoption off, a foreign thread's callback fails with
//     TL_EADOPTOFF and a message — never a trip into the fatal path.
#include <signal.h>
#include <string.h>

#include <cstdio>
#include <initializer_list>
#include <new>

#include "adopt.h"
#include "adopt_cache.h"
#include "altstack.h"
#include "current.h"
#include "safepoint.h"
#include "globals.h"
#include "inject.h"
#include "ledger.h"
#include "os.h"
#include "registry.h"
#include "status.h"
#include "world.h"

namespace tl {

void (*g_adoption_observer)(Record*) = nullptr;

namespace {

constexpr unsigned kMaxCallbackDepth = 256;

void block_async_signals(sigset_t* old) {
  sigset_t set;
  sigfillset(&set);
  // Synchronous faults stay deliverable: they are not async and blocking
  // them turns a fault into a silent kill.
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT}) sigdelset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, old);
}

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

int adopt(Record** out) {
  sigset_t old;
  // DEFECT adoption_with_signals_unblocked: a handler that calls back while
  // we hold the adoption lock re-enters adopt() and blocks on it forever.
  const bool block = !TL_INJECT(adoption_with_signals_unblocked);
  if (block) block_async_signals(&old);
  world::lifecycle_enter();  // no stop-the-world while a record is born
  pthread_mutex_lock(&rt().adoption_mu);
  int rc = TL_OK;
  Record* r = adopt_cache_take();  // a released record: nothing to map
  if (!r && !(r = new (std::nothrow) Record())) {
    rc = fail(TL_ENOMEM, "tl_callback_enter: no memory for a record while adopting a foreign thread");
  } else if (!r->value.mapped() && !record_map_stacks(r, rt().cfg.value_stack_bytes, rt().cfg.temp_stack_bytes)) {
    delete r;
    r = nullptr;
    rc = fail(TL_ENOMEM, "tl_callback_enter: could not map value/temp stacks while adopting a foreign thread");
  } else {
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
    ledger().records_live.fetch_add(1, std::memory_order_relaxed);
    ledger().records_adopted.fetch_add(1, std::memory_order_relaxed);
    ledger().adoptions_total.fetch_add(1, std::memory_order_relaxed);
    if (g_adoption_observer) g_adoption_observer(r);
    registry().insert(r);
    set_current(r);
    r->move(State::Creating, State::Managed);
    mark_depth(r, 0, true);
    r->callback_depth.store(1, std::memory_order_relaxed);
    altstack_discover(r);  // ALTSTACK (issue 9, bug 2): the collector scans a thread stopped on its altstack
  }
  pthread_mutex_unlock(&rt().adoption_mu);
  world::lifecycle_leave();
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
  unsigned depth = r->callback_depth.load(std::memory_order_relaxed);
  if (depth >= kMaxCallbackDepth) return fail(TL_EINVAL, "tl_callback_enter: callbacks nested deeper than %u", kMaxCallbackDepth);
  State s = r->current_state();
  if (s == State::Foreign) {
    r->move(State::Foreign, State::Managed);
    mark_depth(r, depth, true);
  } else if (s == State::Managed) {
    mark_depth(r, depth, false);
  } else {
    return fail(TL_ESTATE, "tl_callback_enter: thread %llu is %s", static_cast<unsigned long long>(r->id), state_name(s));
  }
  r->callback_depth.store(depth + 1, std::memory_order_relaxed);
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
  r->callback_depth.store(depth, std::memory_order_relaxed);
  if (r != rt().initial || current_record_by_key() == r) {
    if (depth_was_foreign(r, depth)) {
      world::save_own_context(r);
      r->move(State::Managed, State::Foreign);
    }
  }
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
