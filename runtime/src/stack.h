// stack.h — a runtime stack (value or temp): one mapping with a guard page
// at both ends and canary words just inside each guard.
//
//   [guard][canaries | usable ........................ | canaries][guard]
//   base   lo                                                  hi
//
// Invariants:
//   - Between mapping and unmap() the guards are PROT_NONE and the usable
//     range read-write, except between retire and reopen(), when the whole
//     mapping is PROT_NONE; canaries hold canary_for(address), so a copy of
//     one stack's canaries onto another is itself detected.
//   - Stacks mapped together (map_adjacent) are one reservation, each with
//     both its own guards: one system call retires both, and each can still
//     be unmapped alone.
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
  // Guard zones below the high canaries (guard_zone.h): yellow at [zone,
  // zone+page), red at [zone+page, zone+2*pages); 0 when the stack is too
  // small for them. Pushes stop at limit().
  uintptr_t zone = 0;
  uintptr_t limit() const { return zone ? zone : hi; }

  void unmap();
  bool mapped() const { return base != nullptr; }
  // Make the usable range read-write again after a retire (a new thread
  // takes the stack over); the pages kept their contents. False if the OS
  // refuses.
  bool reopen();
  // (Re)write the canaries at both ends.
  void arm_canaries();
  // Address of the first damaged canary word, or 0 when both ends are intact.
  uintptr_t check_canaries() const;
  // Guard-page ranges, for fault classification.
  bool in_guard(uintptr_t addr) const;

 private:
  friend bool map_adjacent(GuardedStack&, size_t, GuardedStack&, size_t);
  // Take over m: `usable` bytes (whole pages) between two guard pages.
  bool place(char* m, size_t usable);
};

// Map a with `a_usable` bytes and b with `b_usable` bytes (each rounded up
// to pages) in one reservation, a just below b. False, with nothing mapped,
// on failure.
bool map_adjacent(GuardedStack& a, size_t a_usable, GuardedStack& b, size_t b_usable);
// Make both stacks inaccessible, guards included (their thread is gone):
// one system call when they are adjacent. Pages and mappings stay.
void retire_together(GuardedStack& a, GuardedStack& b);

// Canaries for a region the runtime does not own the guards of (a spawned
// thread's control stack): kCanaryWords words starting at `at`.
void arm_canaries_at(uintptr_t at);
uintptr_t check_canaries_at(uintptr_t at);

}  // namespace tl
