// interrupt.h — running a function on another thread at its next safe
// point (tl_interrupt).
//
// Invariants:
//   - Requests are pushed on the target's lock-free list by any thread and
//     taken only by the target itself, in MANAGED, outside no-interrupt
//     windows; so never inside foreign code.
//   - A target that starts exiting drops what is queued (teardown calls
//     drop_interrupts) and accepts no more: an interrupt never runs during
//     teardown.
#pragma once

namespace tl {

struct Record;

struct InterruptNode {
  InterruptNode* next;
  void (*fn)(void*);
  void* arg;
};

void run_interrupts(Record* r);
// Free queued requests without running them; returns how many.
unsigned drop_interrupts(Record* r);

}  // namespace tl
