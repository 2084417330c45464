// stack_bounds.cpp — every thread checks, from itself, the stacks the
// runtime believes it has (the adapter's `stacks`) against the address
// space and against what the C library gave the thread: spawned threads,
// adopted foreign threads and the initial thread, both ends of every stack.
//
// Guards against: a stack's bounds off by a page (the collector then scans
// memory that is not the stack, or misses the stack's top or bottom page);
// a guard page missing on one side of a stack (an overflow or an underflow
// then scribbles a neighbour instead of faulting); a control stack the
// runtime records differently from the one the thread runs on.
// Checks: each stack's range is all read-write (the control stack from the
// current frame to its top: below, the initial thread's stack may not be
// mapped yet); each guard the runtime promises is all inaccessible; the
// control stack equals the C library's bounds for the thread. Any mismatch
// is `invariant`, with the address. Where the address space cannot be read
// (region_access says Unknown), only the bounds are compared.
#include <sched.h>

#include <atomic>
#include <cstring>

#include <fmt/format.h>

#include "common.h"
#include "scenario_os.h"

namespace threadlab {
namespace {

void check_own_stacks(Context& ctx, const char* who) {
  tl_adapter_stack st[8];
  size_t n = 0;
  if (!ctx.ok(ctx.rt->stacks(0, st, 8, &n), "stacks")) return;
  const uint64_t self = ctx.rt->self();
  const uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  bool saw_control = false;
  for (size_t i = 0; i < n && i < 8; ++i) {
    const tl_adapter_stack& s = st[i];
    const std::string name = fmt::format("the {} stack [{:#x}, {:#x}) of {} thread {}", s.kind, s.lo, s.hi, who, self);
    if (s.lo >= s.hi) {
      ctx.finding(Verdict::Invariant, fmt::format("{} is empty or inverted", name), self, s.lo);
      continue;
    }
    const bool control = std::strcmp(s.kind, "control") == 0;
    if (control) {
      saw_control = true;
      uintptr_t os_lo = 0, os_hi = 0;
      if (scn::own_stack_bounds(&os_lo, &os_hi) && (os_lo != s.lo || os_hi != s.hi))
        ctx.finding(Verdict::Invariant,
                    fmt::format("{}: the C library gave the thread [{:#x}, {:#x}) ({:+d} bytes at the bottom, {:+d} at the "
                                "top): the runtime scans and guards a stack that is not the thread's",
                                name, os_lo, os_hi, static_cast<long long>(s.lo) - static_cast<long long>(os_lo),
                                static_cast<long long>(s.hi) - static_cast<long long>(os_hi)),
                    self, os_hi != s.hi ? s.hi : s.lo);
      if (here < s.lo || here >= s.hi)
        ctx.finding(Verdict::Invariant, fmt::format("{}: the thread is running at {:#x}, outside it", name, here), self,
                    here);
    }
    const uintptr_t used_lo = control && here > s.lo && here < s.hi ? here & ~uintptr_t{4095} : s.lo;
    const scn::Access a = scn::region_access(used_lo, s.hi);
    if (a != scn::Access::ReadWrite && a != scn::Access::Unknown)
      ctx.finding(Verdict::Invariant, fmt::format("{}: [{:#x}, {:#x}) is {}", name, used_lo, s.hi, scn::access_name(a)),
                  self, used_lo);
    const struct {
      uintptr_t start, end;
      const char* side;
    } guards[] = {{s.guard_below_start, s.guard_below_end, "below"}, {s.guard_above_start, s.guard_above_end, "above"}};
    for (const auto& g : guards) {
      if (g.end <= g.start) continue;
      const scn::Access ga = scn::region_access(g.start, g.end);
      if (ga != scn::Access::None && ga != scn::Access::Unknown)
        ctx.finding(Verdict::Invariant,
                    fmt::format("{}: its guard {} it, [{:#x}, {:#x}), is {} — an overrun there scribbles instead of "
                                "faulting",
                                name, g.side, g.start, g.end, scn::access_name(ga)),
                    self, g.start);
    }
  }
  if (!saw_control) ctx.finding(Verdict::Invariant, fmt::format("{} thread {}: no control stack reported", who, self), self);
}

void cycle(Context& ctx) {
  const int n = std::max(1, ctx.params.threads);
  check_own_stacks(ctx, "the initial");
  scn::run_managed(ctx, n, "stack-bounds", [&](int) { check_own_stacks(ctx, "a spawned"); });
  scn::run_foreign(n, [&](int) { scn::in_callback(ctx, [&] { check_own_stacks(ctx, "an adopted foreign"); }); });
  ctx.progress();
}

}  // namespace

const RegisterScenario registered{{
    .name = "stack-bounds",
    .tags = {"stacks", "scribble"},
    .caps = TL_CAP_SPAWN | TL_CAP_FOREIGN_CALLBACK | TL_CAP_STACKS,
    .description = "Spawned, adopted foreign and initial threads each check the stacks the runtime believes they have "
        "against the address space and the C library: every stack's range read-write, every promised guard page "
        "inaccessible, the control stack exactly the one the thread runs on. Guards against stack bounds off by a "
        "page (the collector scans memory that is not the stack, or misses a stack's end) and guard pages missing "
        "on one side of a stack (an overrun scribbles a neighbour instead of faulting): invariant.",
    .defaults = {.threads = 4, .iterations = 1, .cycles = 4, .warmup = 1},
    .cycle = cycle,
}};

}  // namespace threadlab
