// register_hold.h — keep a managed object's only plain pointer in a
// callee-saved register of a thread spinning in managed code, so the
// collector sees it only through that thread's saved registers.
//
// Invariants:
//   - The pointer is passed in and out encoded (xor kRegisterKey); the
//     plain value exists only in the register while the holder spins.
//   - The spin makes no call and polls no safepoint: only a signal stops it,
//     and its registers are what the signal saved.
//   - On architectures without the inline assembly, supported() is false.
#pragma once
#include <atomic>
#include <cstdint>

namespace threadlab::scn {

constexpr uintptr_t kRegisterKey = 0x5a5a5a5a5a5a5a5aull;
bool register_hold_supported();
// phase: the holder stores 1 once the pointer is only in the register and
// spins until the driver stores 2. Returns the encoded pointer again.
uintptr_t hold_in_register(uintptr_t encoded, std::atomic<int>* phase);

}  // namespace threadlab::scn
