// altstack.cpp — learning a thread's altstack, and the ranges the collector
// scans for a thread stopped on it (see altstack.h for the invariants).
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "altstack.h"

#include "current.h"
#include "globals.h"
#include "os.h"
#include "record.h"
#include "regs.h"
#include "status.h"

namespace tl {

void altstack_set(Record* r, uintptr_t base, size_t size) {
  // hi first to 0: a reader between the stores sees "none", never a mix.
  r->altstack.hi.store(0, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  r->altstack.lo.store(base, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  r->altstack.hi.store(base + size, std::memory_order_release);
}

void altstack_clear(Record* r) {
  r->altstack.hi.store(0, std::memory_order_release);
  r->altstack.lo.store(0, std::memory_order_relaxed);
}

void altstack_discover(Record* r) {
  os::Bounds b;
  bool on_it = false;
  if (os::current_altstack(&b, &on_it))
    altstack_set(r, b.lo, b.hi - b.lo);
  else if (!on_it)
    altstack_clear(r);
  // Running on it with it disarmed (SS_AUTODISARM): keep what we knew.
}

void altstack_note_sp(Record* r, uintptr_t sp) {
  if (sp >= r->control_lo && sp < r->control_hi) return;
  const uintptr_t hi = r->altstack.hi.load(std::memory_order_relaxed);
  if (hi && sp >= r->altstack.lo.load(std::memory_order_relaxed) && sp < hi) return;
  altstack_discover(r);
}

unsigned altstack_live_ranges(const Record* r, uintptr_t sp, StackRange out[2]) {
  const uintptr_t clo = r->control_lo, chi = r->control_hi;
  if (chi && sp >= clo && sp < chi) {
    out[0] = {sp, chi};
    return 1;
  }
  unsigned n = 0;
  uintptr_t interrupted = 0;
  const uintptr_t alo = r->altstack.lo.load(std::memory_order_acquire);
  const uintptr_t ahi = r->altstack.hi.load(std::memory_order_acquire);
  if (ahi && sp >= alo && sp < ahi) {
    // The handler's frames, and the kernel's signal frames that hold the
    // interrupted registers, lie between sp and the top of the altstack.
    out[n++] = {sp, ahi};
    if (chi) interrupted = os::altstack_interrupted_sp(alo, ahi, clo, chi);
  }
  if (!chi) return n;  // a foreign thread whose stack bounds are unknown
  if (interrupted) {
    // The red zone below the interrupted sp is live and was skipped by
    // the kernel, which switched stacks instead.
    interrupted = interrupted - clo > kRedZoneBytes ? interrupted - kRedZoneBytes : clo;
    out[n++] = {interrupted, chi};
  } else {
    // Stopped on an altstack whose frames we cannot read, or on a stack we
    // do not know: the interrupted code is somewhere on the control stack.
    // All of it, from its lowest mapped page (an initial thread's bounds
    // reach below its mapped stack).
    out[n++] = {os::mapped_low(clo, chi), chi};
  }
  return n;
}

}  // namespace tl

using namespace tl;

extern "C" int tl_register_altstack(void* base, size_t size) {
  TL_REQUIRE_INIT();
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_register_altstack: the calling thread has no record (a foreign thread's altstack is found when it is adopted)");
  const uintptr_t b = reinterpret_cast<uintptr_t>(base);
  if (!base || size == 0 || b + size < b)
    return fail(TL_EINVAL, "tl_register_altstack: bad altstack %p + %zu", base, size);
  altstack_set(r, b, size);
  return TL_OK;
}

extern "C" int tl_unregister_altstack(void) {
  TL_REQUIRE_INIT();
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_unregister_altstack: the calling thread has no record");
  altstack_clear(r);
  return TL_OK;
}
