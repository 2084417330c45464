// value_stack.cpp — pushes and pops on the calling thread's value stack.
//
// Invariants:
//   - value_sp stays within [value.lo, value.limit()]; overflow is an error
//     return from tl_value_push, never a write into the canaries;
//     tl_value_push_unchecked relies on the guard zone instead (guard_zone.h).
//   - A word is always where the collector looks, whenever a stop lands: a
//     push writes the slot before value_sp takes it in, and a pop reads the
//     word into a register before value_sp gives the slot up. The signal
//     fences keep the compiler from swapping the two; without them a pop
//     shrank the stack first, and a stop in between lost the only root
//     (the aarch64 build did that, and qemu, which delivers signals at
//     branch boundaries, stopped threads there often).
//   - value_sp is written by its owner only, as a relaxed atomic store (a
//     plain store on every target): tl_check_integrity reads it from
//     another thread while the owner runs, a snapshot it only bounds-checks.
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include <atomic>

#include "current.h"
#include "globals.h"
#include "status.h"

using namespace tl;

extern "C" int tl_value_push(uintptr_t word) {
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_value_push: the calling thread has no record");
  if (reinterpret_cast<uintptr_t>(r->value_sp + 1) > r->value.limit())
    return fail(TL_ENOMEM, "tl_value_push: value stack of thread %llu is full", static_cast<unsigned long long>(r->id));
  uintptr_t* slot = r->value_sp;
  *slot = word;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  __atomic_store_n(&r->value_sp, slot + 1, __ATOMIC_RELAXED);  // read by tl_check_integrity
  return TL_OK;
}

// Compiled managed code's push: the store itself is the bounds check (a
// store into the yellow zone faults and unwinds the thread, fault.h).
extern "C" void tl_value_push_unchecked(uintptr_t word) {
  Record* r = current_record();
  uintptr_t* slot = r->value_sp;
  *reinterpret_cast<volatile uintptr_t*>(slot) = word;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  __atomic_store_n(&r->value_sp, slot + 1, __ATOMIC_RELAXED);
}

extern "C" int tl_value_pop(uintptr_t* word) {
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_value_pop: the calling thread has no record");
  if (reinterpret_cast<uintptr_t>(r->value_sp) <= r->value.lo)
    return fail(TL_EINVAL, "tl_value_pop: value stack of thread %llu is empty", static_cast<unsigned long long>(r->id));
  uintptr_t* slot = r->value_sp - 1;
  const uintptr_t w = *slot;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  __atomic_store_n(&r->value_sp, slot, __ATOMIC_RELAXED);
  if (word) *word = w;
  return TL_OK;
}

extern "C" size_t tl_value_depth(void) {
  Record* r = current_record();
  if (!r) return 0;
  return static_cast<size_t>(r->value_sp - reinterpret_cast<uintptr_t*>(r->value.lo));
}
