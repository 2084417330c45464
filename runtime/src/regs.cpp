// regs.cpp — capture_callee_saved for each architecture (see regs.h).
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "regs.h"

namespace tl {

__attribute__((noinline)) unsigned capture_callee_saved(uintptr_t* out, unsigned max) {
#if defined(__x86_64__)
  if (max < 6) return 0;
  __asm__ volatile(
      "movq %%rbx, 0(%0)\n\t"
      "movq %%rbp, 8(%0)\n\t"
      "movq %%r12, 16(%0)\n\t"
      "movq %%r13, 24(%0)\n\t"
      "movq %%r14, 32(%0)\n\t"
      "movq %%r15, 40(%0)\n\t"
      :
      : "r"(out)
      : "memory");
  return 6;
#elif defined(__aarch64__)
  if (max < 12) return 0;
  __asm__ volatile(
      "stp x19, x20, [%0, #0]\n\t"
      "stp x21, x22, [%0, #16]\n\t"
      "stp x23, x24, [%0, #32]\n\t"
      "stp x25, x26, [%0, #48]\n\t"
      "stp x27, x28, [%0, #64]\n\t"
      "stp x29, x30, [%0, #80]\n\t"
      :
      : "r"(out)
      : "memory");
  return 12;
#else
  // Spill every callee-saved register into this frame and copy the frame.
  __builtin_unwind_init();
  volatile uintptr_t marker = 0;
  auto* lo = reinterpret_cast<uintptr_t*>(const_cast<uintptr_t*>(&marker));
  auto* hi = static_cast<uintptr_t*>(__builtin_frame_address(0));
  unsigned n = 0;
  for (uintptr_t* p = lo; p < hi && n < max; ++p) out[n++] = *p;
  return n;
#endif
}

__attribute__((noinline)) uintptr_t current_sp() {
  // The frame address of a callee lies below every frame of its caller.
  return reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
}

}  // namespace tl
