// os_sigframe_linux.cpp — the interrupted stack pointer of a thread running
// on its signal alternate stack, read from the kernel's signal frame.
//
// When a signal switches a thread to its altstack, Linux pushes the signal
// frame (siginfo, ucontext, FPU state) at the top of the altstack. The
// ucontext's uc_stack holds the altstack's ss_sp and ss_size exactly as
// given to sigaltstack, and its uc_mcontext the interrupted registers. So
// the frame is found by that signature, near the top, and its sp is the one
// the signal interrupted. glibc's ucontext_t has the kernel's layout up to
// the end of uc_mcontext on x86_64 and aarch64.
//
// Invariants:
//   - Reads only [alt_lo, alt_hi): never past the top (a candidate must fit
//     whole below alt_hi), at most kSearchBytes below it.
//   - Only an sp inside [lo, hi) is accepted (nested frames on the altstack
//     interrupted the altstack itself); among several candidates the lowest
//     wins, so a stale frame can only widen the scan, never narrow it.
//   - Built without address and thread instrumentation: the frames belong to
//     a stopped thread, and ASan poisons handler frames' redzones there.
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include <signal.h>
#include <stddef.h>
#include <ucontext.h>

#include "os.h"

namespace tl::os {
namespace {
// The frame lies below the FPU state, which is at most a few KiB (AMX tiles
// make it about 11 KiB); search well past that.
constexpr uintptr_t kSearchBytes = 64 * 1024;
constexpr uintptr_t kFrameBytes = offsetof(ucontext_t, uc_mcontext) + sizeof(mcontext_t);

// os::context_sp, uninstrumented (see the invariants).
__attribute__((no_sanitize("address", "thread"))) uintptr_t frame_sp(const ucontext_t* uc) {
#if defined(__x86_64__)
  return static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
#elif defined(__aarch64__)
  return static_cast<uintptr_t>(uc->uc_mcontext.sp);
#else
  (void)uc;
  return 0;  // unknown layout: the collector scans the whole stack
#endif
}
}  // namespace

__attribute__((no_sanitize("address", "thread"))) uintptr_t altstack_interrupted_sp(uintptr_t alt_lo, uintptr_t alt_hi,
                                                                                    uintptr_t lo, uintptr_t hi) {
  if (alt_hi - alt_lo < kFrameBytes) return 0;
  const uintptr_t top = (alt_hi - kFrameBytes) & ~uintptr_t{7};
  const uintptr_t bottom = alt_hi - alt_lo > kSearchBytes ? alt_hi - kSearchBytes : alt_lo;
  const size_t size = alt_hi - alt_lo;
  uintptr_t best = 0;
  for (uintptr_t p = top; p >= bottom && p >= alt_lo; p -= 8) {
    const auto* uc = reinterpret_cast<const ucontext_t*>(p);
    if (reinterpret_cast<uintptr_t>(uc->uc_stack.ss_sp) != alt_lo || uc->uc_stack.ss_size != size) continue;
    const uintptr_t sp = frame_sp(uc);
    if (sp >= lo && sp < hi && (!best || sp < best)) best = sp;
  }
  return best;
}

}  // namespace tl::os
