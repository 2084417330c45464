// stack_report.cpp — tl_thread_stacks: a thread's stacks as the runtime
// believes them to be, for a harness to check against the address space.
//
// Invariants:
//   - Reads under the registry lock, so the record is not retired while it
//     is read; reports only what the record says (no probing here: the
//     point is to let an outside check disagree with it).
//   - Guards are reported only where the runtime made them: value and temp
//     stacks (a page at each end of their mapping) and a spawned thread's
//     control stack (the page below it in its slot); the runtime's own
//     altstack's guard is the page below it (fault_state.h).
#include "current.h"
#include "globals.h"
#include "os.h"
#include "record.h"
#include "registry.h"
#include "stack.h"
#include "status.h"

using namespace tl;

namespace {
void put(tl_stack_info* out, size_t cap, size_t* n, int kind, uintptr_t lo, uintptr_t hi, uintptr_t gb0 = 0,
         uintptr_t gb1 = 0, uintptr_t ga0 = 0, uintptr_t ga1 = 0) {
  if (*n < cap) out[*n] = tl_stack_info{kind, lo, hi, gb0, gb1, ga0, ga1};
  ++*n;
}
void put_guarded(tl_stack_info* out, size_t cap, size_t* n, int kind, const GuardedStack& g) {
  if (!g.mapped()) return;
  const uintptr_t base = reinterpret_cast<uintptr_t>(g.base), end = base + g.total, page = os::page_size();
  // In use up to limit(): with guard zones (guard_zone.h) the stack ends at
  // the yellow zone. The guards are the mapping's end pages (the zones open
  // and close with overflow recovery; the fault tests check them).
  put(out, cap, n, kind, g.lo, g.limit(), base, base + page, end - page, end);
}
}  // namespace

extern "C" int tl_thread_stacks(tl_thread_id id, tl_stack_info* out, size_t cap, size_t* count) {
  TL_REQUIRE_INIT();
  if (!out && cap) return fail(TL_EINVAL, "tl_thread_stacks: out is NULL with cap %zu", cap);
  if (id == 0) {
    Record* self = current_record();
    if (!self) return fail(TL_EUNKNOWN, "tl_thread_stacks: the calling thread has no record");
    id = self->id;
  }
  size_t n = 0;
  bool found = false;
  registry().lock();
  if (Record* r = registry().find_by_id_locked(id); r && r->current_state() != State::Dead) {
    found = true;
    const uintptr_t page = os::page_size();
    if (r->control_hi) {
      const bool spawned = (r->flags & TL_FLAG_SPAWNED) != 0;
      // A spawned thread's canaries sit at control_lo, below the stack its
      // pthread was given (threads.cpp): that stack starts above them.
      const uintptr_t lo = r->control_lo + (r->control_canaries ? kControlCanaryBytes : 0);
      put(out, cap, &n, TL_STACK_CONTROL, lo, r->control_hi, spawned ? r->control_lo - page : 0,
          spawned ? r->control_lo : 0);
    }
    put_guarded(out, cap, &n, TL_STACK_VALUE, r->value);
    put_guarded(out, cap, &n, TL_STACK_TEMP, r->temp);
    const uintptr_t alo = r->altstack.lo.load(std::memory_order_relaxed);
    const uintptr_t ahi = r->altstack.hi.load(std::memory_order_relaxed);
    const auto map = reinterpret_cast<uintptr_t>(r->fault.alt_map);
    if (r->fault.alt_ours && map && alo == map + page)  // the runtime's own: guard page below it
      put(out, cap, &n, TL_STACK_ALT, alo, ahi, map, map + page);
    else if (ahi)
      put(out, cap, &n, TL_STACK_ALT, alo, ahi);
  }
  registry().unlock();
  if (!found) return fail(TL_ENOTHREAD, "tl_thread_stacks: no live thread %llu", static_cast<unsigned long long>(id));
  if (count) *count = n;
  return TL_OK;
}
