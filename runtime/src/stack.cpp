// stack.cpp — mapping, arming and checking guarded stacks.
#include "stack.h"

#include <initializer_list>

#include "guard_zone.h"
#include "ledger.h"
#include "os.h"

namespace tl {

namespace {
size_t usable_pages(size_t usable) {
  const size_t ps = os::page_size();
  return (usable + kCanaryWords * 2 * sizeof(uintptr_t) + ps - 1) & ~(ps - 1);
}
}  // namespace

bool GuardedStack::place(char* m, size_t usable) {
  const size_t ps = os::page_size();
  if (!os::protect(m + ps, usable, os::Prot::ReadWrite)) return false;
  base = m;
  total = usable + 2 * ps;
  lo = reinterpret_cast<uintptr_t>(m + ps) + kCanaryWords * sizeof(uintptr_t);
  hi = reinterpret_cast<uintptr_t>(m + ps + usable) - kCanaryWords * sizeof(uintptr_t);
  arm_canaries();
  if (!zone_place(*this)) return false;
  ledger().stacks_mapped.fetch_add(1, std::memory_order_relaxed);
  ledger().stack_bytes.fetch_add(total, std::memory_order_relaxed);
  return true;
}

bool map_adjacent(GuardedStack& a, size_t a_usable, GuardedStack& b, size_t b_usable) {
  const size_t ps = os::page_size();
  a_usable = usable_pages(a_usable);
  b_usable = usable_pages(b_usable);
  const size_t ta = a_usable + 2 * ps, tb = b_usable + 2 * ps;
  char* m = static_cast<char*>(os::map(ta + tb, os::Prot::None));
  if (!m) return false;
  if (!a.place(m, a_usable)) {
    os::unmap(m, ta + tb);
    return false;
  }
  if (!b.place(m + ta, b_usable)) {
    a.unmap();
    os::unmap(m + ta, tb);
    return false;
  }
  return true;
}

void GuardedStack::unmap() {
  if (!base) return;
  os::unmap(base, total);
  ledger().stacks_mapped.fetch_sub(1, std::memory_order_relaxed);
  ledger().stack_bytes.fetch_sub(total, std::memory_order_relaxed);
  base = nullptr;
  total = 0;
  lo = hi = 0;
}

void retire_together(GuardedStack& a, GuardedStack& b) {
  if (a.base && b.base && a.base + a.total == b.base) {
    os::protect(a.base, a.total + b.total, os::Prot::None);
    return;
  }
  for (GuardedStack* st : {&a, &b})
    if (st->base) os::protect(st->base, st->total, os::Prot::None);
}

bool GuardedStack::reopen() {
  if (!base) return false;
  const size_t ps = os::page_size();
  return os::protect(base + ps, total - 2 * ps, os::Prot::ReadWrite) && zone_close_all(*this);
}

void arm_canaries_at(uintptr_t at) {
  auto* w = reinterpret_cast<volatile uintptr_t*>(at);
  for (size_t i = 0; i < kCanaryWords; ++i) w[i] = canary_for(at + i * sizeof(uintptr_t));
}

uintptr_t check_canaries_at(uintptr_t at) {
  auto* w = reinterpret_cast<volatile uintptr_t*>(at);
  for (size_t i = 0; i < kCanaryWords; ++i) {
    uintptr_t a = at + i * sizeof(uintptr_t);
    if (w[i] != canary_for(a)) return a;
  }
  return 0;
}

void GuardedStack::arm_canaries() {
  arm_canaries_at(lo - kCanaryWords * sizeof(uintptr_t));
  arm_canaries_at(hi);
}

uintptr_t GuardedStack::check_canaries() const {
  if (!base) return 0;
  if (uintptr_t bad = check_canaries_at(lo - kCanaryWords * sizeof(uintptr_t))) return bad;
  return check_canaries_at(hi);
}

bool GuardedStack::in_guard(uintptr_t addr) const {
  if (!base) return false;
  const size_t ps = os::page_size();
  uintptr_t b = reinterpret_cast<uintptr_t>(base);
  return (addr >= b && addr < b + ps) || (addr >= b + total - ps && addr < b + total);
}

}  // namespace tl
