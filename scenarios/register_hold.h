// register_hold.h — keep a managed object's only plain pointer in one chosen
// callee-saved register of a thread, so the collector can find it only
// through what the runtime saved of that thread's registers (or, once the
// thread calls out, wherever its callees spill the register).
//
// Invariants:
//   - The pointer is passed in and out encoded (xor kRegisterKey); the plain
//     value exists only in the chosen register while the holder holds it.
//   - spin_holding makes no call and polls no safepoint: only a signal stops
//     it, and the register is in what the signal saved. call_holding calls
//     fn(arg) with the register loaded, so a stop anywhere below (a
//     safepoint, a lock wait, a foreign region) must find it too.
//   - The value returned is what the register held at the end, encoded
//     again: a holder can tell whether its register survived being stopped.
//   - Where the assembly is missing (not ELF on x86_64/aarch64), spinning is
//     unsupported and call_holding keeps the pointer in a stack slot instead;
//     register_name() then says "stack".
#pragma once
#include <atomic>
#include <cstdint>

namespace threadlab::scn {

constexpr uintptr_t kRegisterKey = 0x5a5a5a5a5a5a5a5aull;

// Callee-saved registers usable as holders on this architecture (0 where
// the assembly is missing).
int register_count();
const char* register_name(int reg);
// Pure spin with the pointer in register `reg`: stores 1 in *phase once
// the plain pointer is only in the register, spins until *phase is 2.
// False from register_spin_supported() under ThreadSanitizer (it delivers
// a stop signal only at an intercepted call, which the spin never makes)
// and where the assembly is missing.
bool register_spin_supported();
uintptr_t spin_holding(int reg, uintptr_t encoded, std::atomic<int>* phase);
// Call fn(arg) with the plain pointer in register `reg`.
uintptr_t call_holding(int reg, uintptr_t encoded, void (*fn)(void*), void* arg);

// What gc-callback-storm and gc_test use: r12 on x86_64, x21 on aarch64.
inline bool register_hold_supported() { return register_spin_supported(); }
inline uintptr_t hold_in_register(uintptr_t encoded, std::atomic<int>* phase) {
  return spin_holding(register_count() > 2 ? 2 : 0, encoded, phase);
}

}  // namespace threadlab::scn
