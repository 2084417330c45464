// integrity.cpp — tl_check_integrity: canaries of every runtime stack, the
// value-stack pointers, and the registry's own consistency.
//
// Invariant: runs under the registry lock, so no record is retired while it
// is being checked; it only reads, so a scribbled record cannot make it
// write anywhere.
#include <cstdio>

#include "fault_report.h"
#include "globals.h"
#include "registry.h"
#include "status.h"

using namespace tl;

namespace {
int note(tl_violation* out, size_t cap, int found, const Record* r, uintptr_t addr, const char* fmt, const char* name) {
  if (out && static_cast<size_t>(found) < cap) {
    out[found].thread = r->id;
    out[found].address = addr;
    std::snprintf(out[found].what, sizeof out[found].what, fmt, name);
  }
  return found + 1;
}
}  // namespace

extern "C" int tl_check_integrity(tl_violation* out, size_t cap) {
  TL_REQUIRE_INIT();
  int found = 0;
  registry().lock();
  found = registry().check_locked(out, cap, found);
  registry().for_each_locked([&](Record* r) {
    if (r->magic != kRecordMagic) return;
    // A dead record's stacks may already be retired (inaccessible): an
    // adopted thread's are, from its teardown on.
    if (r->current_state() == State::Dead) return;
    if (uintptr_t a = r->value.check_canaries())
      found = note(out, cap, found, r, a, "scribble: value-stack canary of %s overwritten", r->name);
    if (uintptr_t a = r->temp.check_canaries())
      found = note(out, cap, found, r, a, "scribble: temp-stack canary of %s overwritten", r->name);
    if (r->control_canaries && r->current_state() != State::Dead)
      if (uintptr_t a = check_canaries_at(r->control_lo))
        found = note(out, cap, found, r, a, "scribble: control-stack canary of %s overwritten", r->name);
    // The owner may be running: a snapshot (value_stack.cpp stores it atomically).
    auto sp = reinterpret_cast<uintptr_t>(__atomic_load_n(&r->value_sp, __ATOMIC_RELAXED));
    if (r->value.mapped() && (sp < r->value.lo || sp > r->value.hi))
      found = note(out, cap, found, r, sp, "invariant: value-stack pointer of %s out of bounds", r->name);
  });
  registry().unlock();
  found = scribble_violations(out, cap, found);  // caught by the fault handler (fault_report.h)
  return found;
}
