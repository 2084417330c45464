// lifecycle.cpp — thread teardown and record freeing.
#include "lifecycle.h"

#include <new>

#include "inject.h"
#include "ledger.h"
#include "record.h"
#include "registry.h"
#include "slot.h"

namespace tl {

void thread_teardown(Record* r) {
  State s = r->current_state();
  r->move(s, State::Exiting);
  r->callback_depth.store(0, std::memory_order_relaxed);
  r->move(State::Exiting, State::Dead);
  if (r->flags & TL_FLAG_ADOPTED) {
    // DEFECT adopted_record_not_released: the key destructor forgets the
    // adopted record; it stays registered (dead) with its stacks mapped.
    if (TL_INJECT(adopted_record_not_released)) return;
    ledger().records_adopted.fetch_sub(1, std::memory_order_relaxed);
    registry().retire(r);
  }
}

void record_free(Record* r) {
  ledger().records_live.fetch_sub(1, std::memory_order_relaxed);
  if (r->slot) {
    slot_release(r->slot);
    return;
  }
  record_unmap_stacks(r);
  r->magic = kDeadMagic;
  delete r;
}

}  // namespace tl
