// register_hold.cpp — see register_hold.h. One assembly routine pair per
// register, generated from a template; the C++ side only picks one.
#include "register_hold.h"

namespace threadlab::scn {

#if defined(__ELF__) && (defined(__x86_64__) || defined(__aarch64__))
#define TL_HOLD_ASM 1
#else
#define TL_HOLD_ASM 0
#endif

#if TL_HOLD_ASM
using SpinFn = uintptr_t (*)(uintptr_t encoded, volatile int* flag, uintptr_t key);
using CallFn = uintptr_t (*)(uintptr_t encoded, uintptr_t key, void (*fn)(void*), void* arg);

#if defined(__x86_64__)
// spin: rdi encoded, rsi flag, rdx key. call: rdi encoded, rsi key, rdx fn,
// rcx arg; the key waits on the stack across the call (16-byte aligned).
#define TL_HOLD_REGS(X) X(rbx) X(rbp) X(r12) X(r13) X(r14) X(r15)
#define TL_HOLD_DEFINE(R)                                                                    \
  __asm__(".text\n.globl tl_scn_spin_" #R "\n.type tl_scn_spin_" #R ",@function\n"            \
          "tl_scn_spin_" #R ":\n"                                                            \
          "  push %" #R "\n  mov %rdi, %" #R "\n  xor %rdx, %" #R "\n  movl $1, (%rsi)\n"     \
          "1:\n  pause\n  cmpl $2, (%rsi)\n  jne 1b\n"                                       \
          "  xor %rdx, %" #R "\n  mov %" #R ", %rax\n  pop %" #R "\n  ret\n"                  \
          ".size tl_scn_spin_" #R ", .-tl_scn_spin_" #R "\n"                                 \
          ".globl tl_scn_call_" #R "\n.type tl_scn_call_" #R ",@function\n"                   \
          "tl_scn_call_" #R ":\n"                                                            \
          "  push %" #R "\n  push %rsi\n  sub $8, %rsp\n"                                    \
          "  mov %rdi, %" #R "\n  xor %rsi, %" #R "\n  mov %rcx, %rdi\n  call *%rdx\n"        \
          "  add $8, %rsp\n  pop %rsi\n  xor %rsi, %" #R "\n  mov %" #R ", %rax\n"            \
          "  pop %" #R "\n  ret\n"                                                           \
          ".size tl_scn_call_" #R ", .-tl_scn_call_" #R "\n");
#else
// spin: x0 encoded, x1 flag, x2 key. call: x0 encoded, x1 key, x2 fn, x3
// arg; the register's old value and the key wait in the frame.
#define TL_HOLD_REGS(X) \
  X(x19) X(x20) X(x21) X(x22) X(x23) X(x24) X(x25) X(x26) X(x27) X(x28) X(x29)
#define TL_HOLD_DEFINE(R)                                                                    \
  __asm__(".text\n.globl tl_scn_spin_" #R "\n.type tl_scn_spin_" #R ",%function\n"            \
          "tl_scn_spin_" #R ":\n"                                                            \
          "  stp x29, x30, [sp, #-32]!\n  str " #R ", [sp, #16]\n  eor " #R ", x0, x2\n"      \
          "  mov w9, #1\n  str w9, [x1]\n"                                                   \
          "1:\n  yield\n  ldr w9, [x1]\n  cmp w9, #2\n  b.ne 1b\n"                           \
          "  eor x0, " #R ", x2\n  ldr " #R ", [sp, #16]\n  ldp x29, x30, [sp], #32\n  ret\n" \
          ".size tl_scn_spin_" #R ", .-tl_scn_spin_" #R "\n"                                 \
          ".globl tl_scn_call_" #R "\n.type tl_scn_call_" #R ",%function\n"                   \
          "tl_scn_call_" #R ":\n"                                                            \
          "  stp x29, x30, [sp, #-32]!\n  stp " #R ", x1, [sp, #16]\n  eor " #R ", x0, x1\n"  \
          "  mov x0, x3\n  blr x2\n  ldr x1, [sp, #24]\n  eor x0, " #R ", x1\n"                \
          "  ldr " #R ", [sp, #16]\n  ldp x29, x30, [sp], #32\n  ret\n"                       \
          ".size tl_scn_call_" #R ", .-tl_scn_call_" #R "\n");
#endif

TL_HOLD_REGS(TL_HOLD_DEFINE)

#define TL_HOLD_DECLARE(R)                                                      \
  extern "C" uintptr_t tl_scn_spin_##R(uintptr_t, volatile int*, uintptr_t);    \
  extern "C" uintptr_t tl_scn_call_##R(uintptr_t, uintptr_t, void (*)(void*), void*);
TL_HOLD_REGS(TL_HOLD_DECLARE)

namespace {
struct Holder {
  const char* name;
  SpinFn spin;
  CallFn call;
};
#define TL_HOLD_ENTRY(R) {#R, tl_scn_spin_##R, tl_scn_call_##R},
constexpr Holder kHolders[] = {TL_HOLD_REGS(TL_HOLD_ENTRY)};
constexpr int kCount = static_cast<int>(sizeof kHolders / sizeof kHolders[0]);
}  // namespace

int register_count() { return kCount; }
const char* register_name(int reg) { return reg >= 0 && reg < kCount ? kHolders[reg].name : "?"; }
bool register_spin_supported() {
#if defined(TL_UNDER_TSAN)
  return false;
#else
  return true;
#endif
}
uintptr_t spin_holding(int reg, uintptr_t encoded, std::atomic<int>* phase) {
  return kHolders[reg % kCount].spin(encoded, reinterpret_cast<volatile int*>(phase), kRegisterKey);
}
uintptr_t call_holding(int reg, uintptr_t encoded, void (*fn)(void*), void* arg) {
  return kHolders[reg % kCount].call(encoded, kRegisterKey, fn, arg);
}

#else  // no assembly: a stack slot stands in for the register

int register_count() { return 0; }
const char* register_name(int) { return "stack"; }
bool register_spin_supported() { return false; }
uintptr_t spin_holding(int, uintptr_t encoded, std::atomic<int>*) { return encoded; }
__attribute__((noinline)) uintptr_t call_holding(int, uintptr_t encoded, void (*fn)(void*), void* arg) {
  volatile uintptr_t plain = encoded ^ kRegisterKey;
  fn(arg);
  return plain ^ kRegisterKey;
}
#endif

}  // namespace threadlab::scn
