// register_hold.cpp — see register_hold.h.
#include "register_hold.h"

namespace threadlab::scn {

#if (defined(__x86_64__) || defined(__aarch64__)) && !defined(TL_UNDER_TSAN)
// Not under ThreadSanitizer: it delivers a stop signal only at an
// intercepted call, which this pure-assembly spin never makes (the default
// and asan presets run it; docs/architecture.md, "Suspension under
// ThreadSanitizer").
bool register_hold_supported() { return true; }

__attribute__((noinline)) uintptr_t hold_in_register(uintptr_t encoded, std::atomic<int>* phase) {
  auto* flag = reinterpret_cast<volatile int*>(phase);
#if defined(__x86_64__)
  register uintptr_t held asm("r12") = encoded;
  __asm__ volatile(
      "xorq %[key], %%r12\n\t"
      "movl $1, (%[flag])\n\t"
      "1:\n\t"
      "pause\n\t"
      "cmpl $2, (%[flag])\n\t"
      "jne 1b\n\t"
      "xorq %[key], %%r12\n\t"
      : "+r"(held)
      : [flag] "r"(flag), [key] "r"(kRegisterKey)
      : "memory", "cc");
#else
  register uintptr_t held asm("x19") = encoded;
  __asm__ volatile(
      "eor x19, x19, %[key]\n\t"
      "mov w9, #1\n\t"
      "str w9, [%[flag]]\n\t"
      "1:\n\t"
      "yield\n\t"
      "ldr w9, [%[flag]]\n\t"
      "cmp w9, #2\n\t"
      "b.ne 1b\n\t"
      "eor x19, x19, %[key]\n\t"
      : "+r"(held)
      : [flag] "r"(flag), [key] "r"(kRegisterKey)
      : "memory", "cc", "w9");
#endif
  return held;
}
#else
bool register_hold_supported() { return false; }
uintptr_t hold_in_register(uintptr_t encoded, std::atomic<int>*) { return encoded; }
#endif

}  // namespace threadlab::scn
