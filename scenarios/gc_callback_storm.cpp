// gc_callback_storm.cpp — collect over and over while foreign threads call
// back, allocate and check their objects, managed threads allocate in a
// tight loop, and one managed thread holds an object only in a register.
//
// Guards against: objects freed while still reachable — from a callback's
// native stack or value stack, or only from a stopped thread's saved
// registers (the conservative-root class) — and threads stopped inside the
// allocator's no-interrupt window with its lock held (the collection then
// waits forever: deadlock).
// Checks: after every collection, each object still referenced is live and
// holds its pattern; an object that reads as the runtime's poison byte was
// freed while live (`invariant`), any other change is `scribble`. A stop
// that times out is `deadlock` with the runtime's diagnosis.
// Optional: with value_stack each callback also holds an object only on its
// value stack, and the register holder's object is rooted there until the
// holder has it (without: a without-GC scope covers that handoff); with
// regions each callback polls a safepoint while it holds its objects
// (without: it yields, and a collection stops it wherever it is).
#include <sched.h>

#include <atomic>
#include <cstring>

#include <fmt/format.h>

#include "common.h"
#include "crowd.h"
#include "register_hold.h"

namespace threadlab {
namespace {

struct RegisterHolder {
  std::atomic<int> phase{0};
  uintptr_t encoded = 0;
};

void cycle(Context& ctx) {
  const int n = ctx.params.threads;
  const bool values = scn::has_cap(ctx, TL_CAP_VALUE_STACK), regions = scn::has_cap(ctx, TL_CAP_REGIONS);
  std::atomic<bool> done{false};
  // Without a value stack the allocating crowd starts after the register
  // handoff: its without-GC scope would otherwise let the crowd grow the
  // heap for as long as the holder takes to start.
  auto start_crowd = [&] { return scn::Crowd::start(ctx, {scn::Kind::Alloc}, std::max(1, n / 2)); };
  scn::Crowd* crowd = values ? start_crowd() : nullptr;
  RegisterHolder holder;
  tl_adapter_thread_id holder_id = 0;
  uint64_t* held = nullptr;
  bool scoped = false;  // the handoff is inside a without-GC scope (no value stack)
  if (scn::register_hold_supported()) {
    if (!values) scoped = ctx.call.as("the register handoff").without_gc_begin();
    held = (values || scoped) ? static_cast<uint64_t*>(ctx.rt->alloc(scn::kObjectWords * 8)) : nullptr;
    if (held) {
      scn::fill_object(held, 0x4e6);
      holder.encoded = reinterpret_cast<uintptr_t>(held) ^ scn::kRegisterKey;
      // Rooted on the value stack (or kept alive by the without-GC scope)
      // until the holder has it in its register (allocating threads may
      // trigger a collection at any time).
      if (values) ctx.rt->value_push(reinterpret_cast<uintptr_t>(held));
      held = nullptr;
      auto body = +[](void* p) {
        auto* h = static_cast<RegisterHolder*>(p);
        scn::hold_in_register(h->encoded, &h->phase);
      };
      if (!ctx.call.spawn("register-holder", body, &holder, &holder_id)) holder_id = 0;
    }
  }
  while (holder_id && holder.phase.load() != 1) sched_yield();
  if (scoped) ctx.call.as("the register handoff").without_gc_end();
  if (!crowd) crowd = start_crowd();
  if (holder.encoded && values) {
    // Drop the value-stack root into memory the collector does not scan, so
    // no copy of the plain pointer is left on this thread's stacks.
    auto* sink = new uintptr_t(0);
    ctx.rt->value_pop(sink);
    delete sink;
  }

  tl_adapter_thread_id driver = 0;
  struct DriverArg {
    Context* ctx;
    std::atomic<bool>* done;
    RegisterHolder* holder;
    bool have_holder;
  } darg{&ctx, &done, &holder, holder_id != 0};
  auto drive = +[](void* p) {
    auto& a = *static_cast<DriverArg*>(p);
    Context& ctx = *a.ctx;
    for (int k = 0; k < ctx.params.iterations && !ctx.has_findings(); ++k) {
      if (!ctx.call.collect()) break;  // a stop that timed out is `deadlock`
      ctx.progress();
      if (a.have_holder)
        scn::check_object(ctx, reinterpret_cast<uint64_t*>(a.holder->encoded ^ scn::kRegisterKey), 0x4e6,
              "held only in a stopped thread's register", true);
    }
    a.done->store(true);
  };
  bool driving = ctx.call.spawn("collector", drive, &darg, &driver);
  scn::run_foreign(n, [&](int i) {
    uint64_t k = 0;
    while (driving && !done.load() && !ctx.has_findings()) {
      const bool entered = scn::in_callback(ctx, [&] {
        const uint64_t tag = (static_cast<uint64_t>(i + 1) << 32) | ++k;
        auto* a = static_cast<uint64_t*>(ctx.rt->alloc(scn::kObjectWords * 8));  // on this native stack
        auto* b = values ? static_cast<uint64_t*>(ctx.rt->alloc(scn::kObjectWords * 8)) : nullptr;  // value stack
        if (!a || (values && !b)) return;
        scn::fill_object(a, tag);
        if (values) {
          scn::fill_object(b, tag + 1);
          ctx.rt->value_push(reinterpret_cast<uintptr_t>(b));
          b = nullptr;
        }
        if (regions)
          ctx.rt->safepoint();  // a collection may run here
        else
          sched_yield();  // a collection stops this thread wherever it is
        scn::check_object(ctx, a, tag, "on a callback's native stack");
        if (!values) return;
        uintptr_t w = 0;
        ctx.rt->value_pop(&w);
        scn::check_object(ctx, reinterpret_cast<uint64_t*>(w), tag + 1, "on a callback's value stack");
      });
      if (!entered) return;
    }
  });
  if (driving) ctx.call.join(driver);
  holder.phase = 2;
  if (holder_id) ctx.call.join(holder_id);
  crowd->finish();
}

}  // namespace

const RegisterScenario registered{{
    .name = "gc-callback-storm",
    .tags = {"gc", "suspend", "callback"},
    .caps = TL_CAP_SPAWN | TL_CAP_FOREIGN_CALLBACK | TL_CAP_COLLECT | TL_CAP_HEAP,
    .optional_caps = TL_CAP_VALUE_STACK | TL_CAP_REGIONS,
    .description = "A collector thread collects over and over while foreign threads call back, allocate and check "
        "objects held on their native and value stacks, managed threads allocate in a tight loop, and one managed "
        "thread holds an object only in a register. Guards against live objects freed by the collector (roots "
        "missed on stacks or in a stopped thread's saved registers: invariant) and threads stopped inside the "
        "allocator's no-interrupt window (the collection never completes: deadlock). Objects on value stacks "
        "need value_stack, the callbacks' safepoint polls need regions; without them the rest is checked.",
    .defaults = {.iterations = 30, .cycles = 5, .warmup = 1},
    .cycle = cycle,
    // 5 cycles, not 2: a stop must land inside an allocation's window, and on
    // a loaded machine 2 cycles (0.13 s) once passed without one (CI, 2026-11-28).
    .catches = {{.defect = "suspend_during_no_interrupt", .verdict = Verdict::Deadlock, .cycles = 5,
                 .only_adapter = "reference",
                 .why_only = "the defect is a signal that stops a thread inside its no-interrupt window; under the "
                             "hybrid policy managed threads stop at safepoints and are signalled only after the "
                             "grace period, and an allocation's window ends long before that "
                             "(stop-the-world-storm's window members hold theirs past the grace period and catch "
                             "it under both policies)",
                 .may_crash_in = {"tl_gc_alloc", "allocate"}},
                {.defect = "gc_skips_saved_registers", .verdict = Verdict::Invariant}},
}};

}  // namespace threadlab
