// os_altstack_posix.cpp — POSIX parts of the altstack support (altstack.h):
// the calling thread's sigaltstack, and how much of a stack range is mapped.
//
// Invariant: both functions make only system calls (no allocation, no lock),
// so current_altstack runs in the suspend handler [signal path] and
// mapped_low in the collector with the world stopped.
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>

#include "os.h"
#include "threadlab/runtime.h"

namespace tl::os {

bool altstack_get(stack_t* out) { return sigaltstack(nullptr, out) == 0; }

bool altstack_put(const stack_t& ss) {
  if (should_fail(TL_OS_SIGALTSTACK)) {
    errno = ENOMEM;
    return false;
  }
  return sigaltstack(&ss, nullptr) == 0;
}

bool current_altstack(Bounds* out, bool* on_it) {
  stack_t ss;
  if (sigaltstack(nullptr, &ss) != 0) {
    *on_it = false;
    return false;
  }
  *on_it = (ss.ss_flags & SS_ONSTACK) != 0;
  if ((ss.ss_flags & SS_DISABLE) || !ss.ss_sp || ss.ss_size == 0) return false;
  out->lo = reinterpret_cast<uintptr_t>(ss.ss_sp);
  out->hi = out->lo + ss.ss_size;
  return true;
}

uintptr_t mapped_low(uintptr_t lo, uintptr_t hi) {
  const uintptr_t ps = page_size();
  const uintptr_t first = lo & ~(ps - 1);
  if (lo >= hi) return hi;
  // [a, hi) mapped is monotone in a (a stack is one run of pages below its
  // base): binary search for the lowest page that starts a mapped run.
  // msync checks the whole range and fails with ENOMEM on any hole.
  uintptr_t pages = (hi - first) / ps;  // candidates first + k*ps, k in [0, pages]
  uintptr_t bad = 0, good = pages;      // invariant: k=good is mapped (or hi)
  auto mapped = [&](uintptr_t k) {
    uintptr_t a = first + k * ps;
    return a >= hi || msync(reinterpret_cast<void*>(a), hi - a, MS_ASYNC) == 0;
  };
  if (mapped(0)) return lo;
  while (good - bad > 1) {
    uintptr_t mid = bad + (good - bad) / 2;
    if (mapped(mid))
      good = mid;
    else
      bad = mid;
  }
  const uintptr_t a = first + good * ps;
  return a < hi ? a : hi;
}

}  // namespace tl::os
