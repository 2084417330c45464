// stack.cpp — mapping, arming and checking guarded stacks.
#include "stack.h"

#include "ledger.h"
#include "os.h"

namespace tl {

bool GuardedStack::map(size_t usable) {
  const size_t ps = os::page_size();
  usable = (usable + kCanaryWords * 2 * sizeof(uintptr_t) + ps - 1) & ~(ps - 1);
  size_t t = usable + 2 * ps;
  char* m = static_cast<char*>(os::map(t, os::Prot::None));
  if (!m) return false;
  if (!os::protect(m + ps, usable, os::Prot::ReadWrite)) {
    os::unmap(m, t);
    return false;
  }
  base = m;
  total = t;
  lo = reinterpret_cast<uintptr_t>(m + ps) + kCanaryWords * sizeof(uintptr_t);
  hi = reinterpret_cast<uintptr_t>(m + ps + usable) - kCanaryWords * sizeof(uintptr_t);
  arm_canaries();
  ledger().stacks_mapped.fetch_add(1, std::memory_order_relaxed);
  ledger().stack_bytes.fetch_add(t, std::memory_order_relaxed);
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
