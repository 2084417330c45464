// value_stack.cpp — pushes and pops on the calling thread's value stack.
//
// Invariant: value_sp stays within [value.lo, value.hi]; overflow is an
// error return, never a write into the canaries.
#include "current.h"
#include "globals.h"
#include "status.h"

using namespace tl;

extern "C" int tl_value_push(uintptr_t word) {
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_value_push: the calling thread has no record");
  if (reinterpret_cast<uintptr_t>(r->value_sp + 1) > r->value.hi)
    return fail(TL_ENOMEM, "tl_value_push: value stack of thread %llu is full", static_cast<unsigned long long>(r->id));
  *r->value_sp++ = word;
  return TL_OK;
}

extern "C" int tl_value_pop(uintptr_t* word) {
  Record* r = current_record();
  if (!r) return fail(TL_EUNKNOWN, "tl_value_pop: the calling thread has no record");
  if (reinterpret_cast<uintptr_t>(r->value_sp) <= r->value.lo)
    return fail(TL_EINVAL, "tl_value_pop: value stack of thread %llu is empty", static_cast<unsigned long long>(r->id));
  uintptr_t w = *--r->value_sp;
  if (word) *word = w;
  return TL_OK;
}

extern "C" size_t tl_value_depth(void) {
  Record* r = current_record();
  if (!r) return 0;
  return static_cast<size_t>(r->value_sp - reinterpret_cast<uintptr_t*>(r->value.lo));
}
