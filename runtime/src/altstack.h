// altstack.h — a thread's signal alternate stack, so the collector scans a
// thread that was stopped while running on it (a handler that called back).
//
// A thread stopped on its altstack has live frames on two stacks: the
// handler's, from the saved sp up to the top of the altstack, and the
// interrupted code's on the normal control stack, from the sp the signal
// interrupted up to the control stack's base. The saved sp alone (the only
// thing the collector had) lies outside the control stack, and nothing at all
// was scanned.
//
// Invariants:
//   - Record::altstack holds the base and end of the altstack exactly as given
//     to sigaltstack (the kernel copies those two words into each signal frame
//     it pushes there, which is how the interrupted sp is found). It is
//     written only by its owner — tl_register_altstack, adoption
//     (altstack_discover), and the owner's own save of its context
//     (altstack_note_sp, also from the suspend handler) — and read by the
//     collector only while the owner is stopped, after the stop handshake's
//     acquire. The owner clears `hi` before changing `lo`, so a reader never
//     sees a range that mixes two altstacks.
//   - Scanning is conservative: where the interrupted sp cannot be found the
//     whole mapped part of the control stack is scanned. Extra words can only
//     keep garbage alive; a missing word frees a live object.
//   - Everything here that a signal handler calls (altstack_set,
//     altstack_clear, altstack_note_sp) is async-signal-safe: atomics and, in
//     note_sp, one sigaltstack system call resolved at install time (see
//     suspend_signal_posix.cpp). [signal path]
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tl {

struct Record;

struct AltStack {
  std::atomic<uintptr_t> lo{0};  // ss_sp as given to sigaltstack
  std::atomic<uintptr_t> hi{0};  // ss_sp + ss_size; 0: none known
};

// Remember [base, base+size) as the calling thread's altstack (r is the
// caller's record). [signal path]
void altstack_set(Record* r, uintptr_t base, size_t size);
void altstack_clear(Record* r);
// Ask the OS for the calling thread's altstack and remember it (or that
// there is none). Adoption calls this. [signal path]
void altstack_discover(Record* r);
// The owner is about to publish sp as its saved sp: if sp lies on neither
// its control stack nor its known altstack, learn the altstack from the OS
// (a handler running on an altstack installed after adoption, or on a
// spawned or initial thread that never registered one). Two compares
// otherwise. [signal path]
void altstack_note_sp(Record* r, uintptr_t sp);

// For the collector (world stopped, r stopped with saved sp `sp`): the
// ranges of r's native stacks that hold live frames — at most two, each
// [lo, hi). Returns how many.
struct StackRange {
  uintptr_t lo, hi;
};
unsigned altstack_live_ranges(const Record* r, uintptr_t sp, StackRange out[2]);

}  // namespace tl
