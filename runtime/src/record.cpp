// record.cpp — a record's value and temp stacks, and reuse.
#include "record.h"

namespace tl {

bool record_map_stacks(Record* r, size_t value_bytes, size_t temp_bytes) {
  // One reservation: an exiting thread's stacks are retired with one call.
  if (!map_adjacent(r->value, value_bytes, r->temp, temp_bytes)) return false;
  r->value_sp = reinterpret_cast<uintptr_t*>(r->value.lo);
  r->temp_sp = r->temp.lo;
  return true;
}

void record_unmap_stacks(Record* r) {
  r->value.unmap();
  r->temp.unmap();
  r->value_sp = nullptr;
  r->temp_sp = 0;
}

void record_delete(Record* r) {
  record_unmap_stacks(r);
  r->magic = kDeadMagic;
  delete r;
}

void record_reset(Record* r) {
  r->magic = 0;
  r->id = 0;
  r->prev = nullptr;
  r->next.store(nullptr, std::memory_order_relaxed);
  r->state.store(static_cast<uint32_t>(State::Creating), std::memory_order_relaxed);
  r->flags = 0;
  r->pthread = pthread_t{};
  r->kernel_tid.store(0, std::memory_order_relaxed);
  r->mach_port = 0;
  r->name[0] = 0;
  r->value.arm_canaries();
  r->temp.arm_canaries();
  r->value_sp = reinterpret_cast<uintptr_t*>(r->value.lo);
  r->temp_sp = r->temp.lo;
  r->altstack.hi.store(0, std::memory_order_relaxed);
  r->altstack.lo.store(0, std::memory_order_relaxed);
  r->handles.start_errno = 0;  // the handle itself was released at the last exit
  r->suspend_count.store(0, std::memory_order_relaxed);
  r->acked_gen.store(0, std::memory_order_relaxed);
  r->target_gen = 0;
  r->signalled_gen = 0;
  r->stopped_in_handler.store(false, std::memory_order_relaxed);
  r->suspend_pending.store(false, std::memory_order_relaxed);
  r->saved_sp.store(0, std::memory_order_relaxed);
  r->saved_reg_count = 0;
  r->no_interrupt_depth.store(0, std::memory_order_relaxed);
  r->interrupts.store(nullptr, std::memory_order_relaxed);
  r->kill_requested.store(false, std::memory_order_relaxed);
  r->kill_hard.store(false, std::memory_order_relaxed);
  r->kill_done.store(false, std::memory_order_relaxed);
  r->cleanups = nullptr;
  r->held_locks = nullptr;
  r->waiting_on.store(nullptr, std::memory_order_relaxed);
  r->cleanups_run = 0;
  r->locks_released = 0;
  for (auto& c : r->alloc_cache) c = nullptr;
  r->gc_inhibit_depth = 0;
  r->callback_depth.store(0, std::memory_order_relaxed);
  for (auto& w : r->callback_prior_foreign) w = 0;
  r->key_destructor_rounds = 0;
  r->fn = nullptr;
  r->arg = nullptr;
  r->join_handle_valid = false;
  r->join_claimed.store(false, std::memory_order_relaxed);
}

}  // namespace tl
