// guard_zone.cpp — placing, opening and closing the guard zones of a runtime
// stack (see guard_zone.h for the invariants).
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include "guard_zone.h"

#include "os.h"

namespace tl {

bool zone_place(GuardedStack& s) {
  const uintptr_t ps = os::page_size();
  const uintptr_t top = s.hi & ~(ps - 1);  // the page that holds the high canaries
  if (top < s.lo + 4 * ps) {
    s.zone = 0;  // too small: pushes stop at hi, overflow is an error return only
    return true;
  }
  s.zone = top - 2 * ps;
  return zone_close_all(s);
}

bool zone_close_all(GuardedStack& s) {
  if (!s.zone) return true;
  return os::protect(reinterpret_cast<void*>(s.zone), 2 * os::page_size(), os::Prot::None);
}

bool zone_open_yellow(GuardedStack& s) {
  return s.zone && os::protect(reinterpret_cast<void*>(s.zone), os::page_size(), os::Prot::ReadWrite);
}

bool zone_close_yellow(GuardedStack& s) {
  return !s.zone || os::protect(reinterpret_cast<void*>(s.zone), os::page_size(), os::Prot::None);
}

ZoneHit zone_hit(const GuardedStack& s, uintptr_t addr) {
  if (!s.base) return ZoneHit::None;
  const uintptr_t ps = os::page_size();
  if (s.zone && addr >= s.zone && addr < s.zone + ps) return ZoneHit::Yellow;
  if (s.zone && addr >= s.zone + ps && addr < s.zone + 2 * ps) return ZoneHit::Red;
  if (s.in_guard(addr)) return ZoneHit::Guard;
  return ZoneHit::None;
}

}  // namespace tl
