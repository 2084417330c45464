// fault_state.h — what the fault machinery keeps in each record: its
// altstack, its catch frames and dynamic bindings, and the overflow being
// recovered.
//
// Invariants:
//   - Every field is [owner], except `recovering` (written by the forwarded
//     handler thread while the owner waits for its answer, read by the owner
//     after the answer's acquire).
//   - catch_top is the innermost frame, each frame lives on the owner's
//     control stack below its predecessor; a frame is linked only between
//     its sigsetjmp and its return or landing (catch.cpp).
//   - bindings[0, binding_depth) are undone innermost first by tl_unbind or
//     an unwind; an unwind leaves binding_depth at its frame's value.
//   - alt_ours: the runtime's altstack (alt_map) is installed on the thread
//     and alt_prev is what it replaced, put back exactly at detach; alt_kept:
//     the thread's own altstack was large enough and is used as it is. At
//     most one is true; alt_map is unmapped only after it is uninstalled.
#pragma once
#include <setjmp.h>
#include <signal.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tl {

struct CleanupNode;

struct CatchFrame {
  sigjmp_buf env;
  CatchFrame* prev;
  uintptr_t* value_sp;
  uintptr_t temp_sp;
  unsigned binding_depth;
  int no_interrupt_depth;
  unsigned callback_depth;
  CleanupNode* cleanups;
  sigset_t mask;  // the thread's signal mask at tl_catch: what landing restores
};

struct Binding {
  uintptr_t* slot;
  uintptr_t old;
};
constexpr unsigned kMaxBindings = 64;

// Which stack an overflow being recovered is on.
enum class Recovering : uint8_t { None, Value, Temp, Control };

struct FaultState {
  void* alt_map = nullptr;  // runtime-owned mapping: guard page + altstack
  size_t alt_map_bytes = 0;
  bool alt_ours = false;
  bool alt_kept = false;
  stack_t alt_prev{};

  CatchFrame* catch_top = nullptr;
  Binding bindings[kMaxBindings] = {};
  unsigned binding_depth = 0;

  std::atomic<Recovering> recovering{Recovering::None};
  int unwind_code = 0;
  bool unwind_from_handler = false;  // landing restores the frame's mask
  // A control-stack overflow: the kernel may have dropped a signal it could
  // not push a frame for, or the overflow hit inside the runtime's suspend
  // handler, which the unwind abandons: the landing raises the suspend
  // signal again (its handler ignores a stale or repeated one).
  bool redeliver_suspend = false;
};

}  // namespace tl
