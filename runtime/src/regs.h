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

// Bytes below the stack pointer that leaf code may use without moving it
// (the ABI's red zone): live data a thread interrupted by a signal may
// hold there, which the kernel's signal frame skips.
#if defined(__x86_64__) || (defined(__aarch64__) && defined(__APPLE__))
constexpr uintptr_t kRedZoneBytes = 128;
#else
constexpr uintptr_t kRedZoneBytes = 0;
#endif

// An address below every live frame of the caller (a local of a callee).
uintptr_t current_sp();

}  // namespace tl
