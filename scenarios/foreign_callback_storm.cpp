// foreign_callback_storm.cpp — N foreign threads call back M times each
// while managed threads are spawned and joined around them.
//
// Guards against: a callback on a foreign thread running on someone else's
// record and stacks instead of its own (OpenMCL 0.13.5 "scribbling over some
// other threads' stacks"), and adoption racing thread creation/exit.
// Checks: (1) a fixed interleaving of two foreign threads — A pushes, B
// pushes, A pops — that returns B's words to A whenever the two share a
// value stack; (2) the storm: every callback pushes tagged words, yields,
// pops and checks them; (3) two foreign threads inside callbacks at the same
// time must not see the same thread id, and a thread inside a callback has
// one. The tagged words of (1) and (2) need value_stack, used only when the
// adapter offers it; without it the same interleaving and storm run and (3)
// is checked.
#include <sched.h>

#include <atomic>

#include <fmt/format.h>

#include "common.h"

namespace threadlab {
namespace {

void pairing(Context& ctx) {
  const bool tagged = scn::has_cap(ctx, TL_CAP_VALUE_STACK);
  scn::Gate gate;
  std::atomic<uint64_t> ids[2] = {0, 0};
  scn::run_foreign(2, [&](int i) {
    const uint64_t tag = 0xA000 + static_cast<uint64_t>(i);
    gate.wait_for(i);  // A at step 0, B at step 1
    bool in = ctx.call.callback_enter();
    ids[i] = ctx.rt->self();
    bool pushed = in && tagged && scn::tagged_push(ctx, tag, 8);
    gate.advance_to(i + 1);          // A lets B push on top
    gate.wait_for(i == 0 ? 2 : 3);   // A pops once B has pushed; B pops after A
    if (pushed) scn::tagged_pop_check(ctx, tag, 8, i == 0 ? "pairing thread A" : "pairing thread B");
    if (in) ctx.call.callback_exit();
    gate.advance_to(i == 0 ? 3 : 4);
  });
  if (ids[0] != 0 && ids[0] == ids[1])
    ctx.finding(Verdict::Invariant,
                fmt::format("two foreign threads inside callbacks at once both ran as thread {}", ids[0].load()),
                ids[0]);
}

void storm(Context& ctx) {
  const int n = ctx.params.threads, m = ctx.params.iterations;
  const bool tagged = scn::has_cap(ctx, TL_CAP_VALUE_STACK);
  std::atomic<bool> done{false};
  std::atomic<int> ready{0};
  // Managed churn beside the storm: spawn and join until the storm ends.
  tl_adapter_thread_id churn = 0;
  auto churn_fn = +[](void* p) {
    auto* c = static_cast<std::pair<Context*, std::atomic<bool>*>*>(p);
    Context& ctx = *c->first;
    while (!c->second->load() && !ctx.has_findings())
      scn::run_managed(ctx, 2, "churn", [&](int i) {
        if (!scn::has_cap(ctx, TL_CAP_VALUE_STACK)) return;
        const uint64_t tag = 0xC000 + static_cast<uint64_t>(i);
        if (scn::tagged_push(ctx, tag, 4)) scn::tagged_pop_check(ctx, tag, 4, "churn thread");
      });
  };
  std::pair<Context*, std::atomic<bool>*> churn_arg{&ctx, &done};
  bool churning = ctx.call.spawn("churn-driver", churn_fn, &churn_arg, &churn);

  scn::run_foreign(n, [&](int i) {
    ready.fetch_add(1);
    while (ready.load() < n) sched_yield();  // start together
    for (int k = 0; k < m && !ctx.has_findings(); ++k) {
      const uint64_t tag = (static_cast<uint64_t>(i + 1) << 12) | static_cast<uint64_t>(k & 0xfff);
      const int words = 2 + static_cast<int>(ctx.random(static_cast<uint64_t>(i) + 1) % 6);
      const bool entered = scn::in_callback(ctx, [&] {
        if (ctx.rt->self() == 0) ctx.finding(Verdict::Invariant, "a thread inside a callback has no thread id");
        if (!tagged) {
          sched_yield();
        } else if (scn::tagged_push(ctx, tag, words)) {
          sched_yield();
          scn::tagged_pop_check(ctx, tag, words, "storm thread");
        }
      });
      if (!entered) return;
      ctx.progress();
    }
  });
  done = true;
  if (churning) ctx.call.join(churn);
}

void cycle(Context& ctx) {
  pairing(ctx);
  if (!ctx.has_findings()) storm(ctx);
}

}  // namespace

const RegisterScenario registered{{
    .name = "foreign-callback-storm",
    .tags = {"foreign", "callback", "scribble"},
    .caps = TL_CAP_SPAWN | TL_CAP_FOREIGN_CALLBACK,
    .optional_caps = TL_CAP_VALUE_STACK,
    .description = "N foreign threads call back M times each while managed threads are spawned and joined. Guards "
        "against callbacks that run on another thread's record and stacks instead of adopting their own (stack "
        "scribbling, OpenMCL 0.13.5) and adoption racing thread creation and exit. Two threads inside callbacks "
        "at once must have distinct thread ids; with value_stack every callback also pushes, yields and pops "
        "tagged words (a word from another thread's tag is a shared stack).",
    .defaults = {.iterations = 100, .cycles = 12, .warmup = 3},
    .cycle = cycle,
    .catches = {{.defect = "callback_borrows_initial_record", .verdict = Verdict::Scribble, .cycles = 1},
                {.defect = "adopted_record_not_released", .verdict = Verdict::Leak, .cycles = 10}},
}};

}  // namespace threadlab
