// regs.h — reading the calling thread's own registers for the collector.
//
// Invariant: capture_callee_saved() stores every callee-saved general
// register of the caller, the ones that may hold a managed pointer across a
// call into foreign code or a wait, which a conservative scan of the stack
// above the saved sp would otherwise miss (the callee may spill them below
// it). Architecture-specific, not OS-specific: x86_64 and aarch64 in inline
// assembly, anything else through the compiler's register spill.
#pragma once
#include <cstdint>

namespace tl {

unsigned capture_callee_saved(uintptr_t* out, unsigned max);

// An address below every live frame of the caller (a local of a callee).
uintptr_t current_sp();

}  // namespace tl
