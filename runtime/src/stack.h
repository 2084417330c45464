// stack.h — a runtime stack (value or temp): one mapping with a guard page
// at both ends and canary words just inside each guard.
//
//   [guard][canaries | usable ........................ | canaries][guard]
//   base   lo                                                  hi
//
// Invariants:
//   - Between map() and unmap() the guards are PROT_NONE and the usable
//     range read-write; canaries hold canary_for(address), so a copy of one
//     stack's canaries onto another is itself detected.
//   - A GuardedStack is owned by exactly one record; moving it transfers
//     ownership (the cache of thread slots relies on this).
#pragma once
#include <cstddef>
#include <cstdint>

namespace tl {

constexpr size_t kCanaryWords = 4;
// Bytes kept below a spawned thread's control stack for its canaries.
constexpr size_t kControlCanaryBytes = 64;
inline uintptr_t canary_for(uintptr_t addr) {
  return (addr * 0x9E3779B97F4A7C15ull) ^ 0x5CA1AB1E5EEDF00Dull;
}

struct GuardedStack {
  char* base = nullptr;  // start of the whole mapping (low guard)
  size_t total = 0;      // whole mapping, guards included
  uintptr_t lo = 0;      // first usable byte (after the low canaries)
  uintptr_t hi = 0;      // one past the last usable byte (before the high canaries)

  // Map a stack with `usable` bytes (rounded up to pages). False on failure.
  bool map(size_t usable);
  void unmap();
  bool mapped() const { return base != nullptr; }
  // (Re)write the canaries at both ends.
  void arm_canaries();
  // Address of the first damaged canary word, or 0 when both ends are intact.
  uintptr_t check_canaries() const;
  // Guard-page ranges, for fault classification.
  bool in_guard(uintptr_t addr) const;
};

// Canaries for a region the runtime does not own the guards of (a spawned
// thread's control stack): kCanaryWords words starting at `at`.
void arm_canaries_at(uintptr_t at);
uintptr_t check_canaries_at(uintptr_t at);

}  // namespace tl
