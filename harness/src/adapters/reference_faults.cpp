// reference_faults.cpp — TL_CAP_FAULTS for the reference runtime: overflows
// recovered through tl_catch, write-barrier faults, the fault mode.
//
// Invariants:
//   - provoke_fault returns OK only when the runtime did what it promises:
//     an overflow comes back as TL_EOVERFLOW with the value stack at the
//     depth it had before; a write-barrier write lands, and its card is
//     marked while no collection can have re-armed the region (the check
//     runs in a no-interrupt window, which defers stops).
//   - Anything else is a failure with the runtime's own words in last_error
//     (a scribble the runtime caught comes back as TL_ESCRIBBLE).
#include <atomic>
#include <cstdint>

#include <threadlab/runtime.h>

#include "reference_ops.h"

namespace threadlab::ref {
namespace {

constexpr unsigned kWordsPerFrame = 32;

// Managed recursion as compiled code does it: each frame pushes its words
// with no bounds check (the guard zone is the check) and calls deeper.
__attribute__((noinline)) int managed_recurse(uintptr_t depth) {
  for (unsigned i = 0; i < kWordsPerFrame; ++i) tl_value_push_unchecked(depth * kWordsPerFrame + i);
  volatile uintptr_t next = depth + 1;
  if (next == 0) return 0;  // never: the guard zone ends the recursion
  return managed_recurse(next) + 1;
}

int overflow_value(void*) { return managed_recurse(0); }

// Native recursion with a large frame: overflows the control stack.
__attribute__((noinline)) int native_recurse(volatile char* up) {
  volatile char frame[1024];
  frame[0] = up ? up[0] : 1;
  frame[sizeof frame - 1] = frame[0];
  if (frame[0] == 2) return 0;  // never: the guard page ends the recursion
  return native_recurse(frame) + frame[sizeof frame - 1];
}

int overflow_native(void*) { return native_recurse(nullptr); }

constexpr size_t kBarrierPages = 64;
std::atomic<uintptr_t> g_region{0};
std::atomic<int> g_region_state{0};  // 0 none, 1 being made, 2 ready, 3 failed

uintptr_t barrier_region() {
  int s = g_region_state.load(std::memory_order_acquire);
  if (s == 2) return g_region.load(std::memory_order_acquire);
  int expected = 0;
  if (g_region_state.compare_exchange_strong(expected, 1)) {
    void* p = nullptr;
    if (tl_gc_barrier_region(kBarrierPages * 4096, &p) != TL_OK || tl_gc_barrier_arm() != TL_OK) {
      g_region_state.store(3, std::memory_order_release);
      return 0;
    }
    g_region.store(reinterpret_cast<uintptr_t>(p), std::memory_order_release);
    g_region_state.store(2, std::memory_order_release);
    return reinterpret_cast<uintptr_t>(p);
  }
  while ((s = g_region_state.load(std::memory_order_acquire)) == 1) {
  }
  return s == 2 ? g_region.load(std::memory_order_acquire) : 0;
}

int write_barrier() {
  const uintptr_t region = barrier_region();
  if (!region) return st(TL_ENOMEM, "provoke_fault (write barrier region)");
  static std::atomic<uint64_t> next{0};
  const uint64_t n = next.fetch_add(1, std::memory_order_relaxed);
  auto* word = reinterpret_cast<volatile uintptr_t*>(region + (n % kBarrierPages) * 4096 + ((n / kBarrierPages) % 512) * 8);
  if (int rc = tl_no_interrupt_begin(); rc != TL_OK) return st(rc, "provoke_fault (no_interrupt_begin)");
  const uintptr_t v = 0xba77000000000000ull | n;
  *word = v;
  const bool landed = *word == v;
  const int dirty = tl_gc_barrier_card_dirty(const_cast<uintptr_t*>(word));
  tl_no_interrupt_end();
  if (!landed) return st(TL_ESCRIBBLE, "provoke_fault: a write to the write-barrier region did not land");
  if (dirty != 1) return st(TL_ESTATE, "provoke_fault: a write-barrier write left its card clean");
  return TL_ADAPTER_OK;
}

int overflow(tl_catch_fn fn, const char* what) {
  const size_t depth = tl_value_depth();
  const int rc = tl_catch(fn, nullptr);
  if (rc != TL_EOVERFLOW) return st(rc == TL_OK ? TL_ESTATE : rc, what);
  if (tl_value_depth() != depth) return st(TL_ESTATE, "provoke_fault: the value stack was not unwound to its depth");
  return TL_ADAPTER_OK;
}

}  // namespace

int provoke_fault(int kind) {
  switch (kind) {
    case TL_FAULT_STACK_OVERFLOW: return overflow(overflow_value, "provoke_fault (value-stack overflow)");
    case TL_FAULT_NATIVE_OVERFLOW: return overflow(overflow_native, "provoke_fault (control-stack overflow)");
    case TL_FAULT_WRITE_BARRIER: return write_barrier();
    default: return TL_ADAPTER_ENOTSUP;  // a fault the runtime does not recover from ends the process
  }
}

int fault_mode(int mode) {
  return st(tl_set_fault_mode(mode == TL_FAULT_MODE_FORWARDED ? TL_FAULT_FORWARDED : TL_FAULT_DIRECT), "fault_mode");
}

}  // namespace threadlab::ref
