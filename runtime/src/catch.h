// catch.h — unwinding a thread to its nearest catch frame (tl_catch), from
// tl_throw or from the fault handler (see fault_state.h for the frames).
//
// Invariants:
//   - An unwind lands only in a frame of the same callback depth as the
//     thrower: foreign frames between callbacks are never jumped over.
//   - The jump itself (unwind_to) is async-signal-safe: one siglongjmp,
//     bound at install. Everything else — the signal mask tl_catch ran
//     with, bindings, cleanups, the stack depths, re-protecting a
//     yellow zone — happens after landing, on the thread's own stack.
#pragma once
#include <setjmp.h>

#include "record.h"

namespace tl {

// The frame an unwind of r lands in now, or nullptr. [signal path]
inline CatchFrame* catch_frame_for_unwind(Record* r) {
  CatchFrame* f = r->fault.catch_top;
  if (!f || f->callback_depth != r->callback_depth.load(std::memory_order_relaxed)) return nullptr;
  return f;
}

// Jump to f with `code` (nonzero). uc: the ucontext of the fault being
// recovered (landing then puts f's saved mask back), or nullptr from
// tl_throw. [signal path]
[[noreturn]] void unwind_to(Record* r, CatchFrame* f, int code, const void* uc);

}  // namespace tl
