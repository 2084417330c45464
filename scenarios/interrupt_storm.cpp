// interrupt_storm.cpp — interrupts sent over and over to threads polling
// safepoints and to threads going in and out of foreign code, and to
// adopted foreign threads just before they exit.
//
// Guards against: interrupts run on the wrong thread, lost, or delivered
// while the target tears itself down (Clozure CL #517: an interrupt that
// uses the thread's stacks after they were retired crashes: `crash`).
// Checks: every interrupt sent to a live thread runs exactly once, on that
// thread (`invariant` otherwise; a lost one leaves the driver waiting:
// `deadlock`); an interrupt queued for an adopted thread that then exits
// without another safe point never runs (`invariant`) — it uses the value
// stack as managed code does, so running it on retired stacks crashes.
#include <sched.h>

#include <atomic>

#include <fmt/format.h>

#include "common.h"
#include "crowd.h"

namespace threadlab {
namespace {

struct Shot {
  Context* ctx;
  tl_adapter_thread_id target;
  std::atomic<uint64_t>* ran;
};

void on_interrupt(void* p) {
  auto* s = static_cast<Shot*>(p);
  Context& ctx = *s->ctx;
  if (ctx.rt->self() != s->target)
    ctx.finding(Verdict::Invariant,
                fmt::format("an interrupt for thread {} ran on thread {}", s->target, ctx.rt->self()), s->target);
  uintptr_t w = 0;  // managed code uses its value stack
  ctx.rt->value_push(0x1e7);
  ctx.rt->value_pop(&w);
  s->ran->fetch_add(1);
}

void live_targets(Context& ctx) {
  auto* crowd = scn::Crowd::start(ctx, {scn::Kind::Poll, scn::Kind::Foreign}, std::max(1, ctx.params.threads / 2));
  if (crowd->ok()) crowd->wait_running();
  const auto& members = crowd->members();
  std::vector<std::atomic<uint64_t>> ran(members.size());
  std::vector<Shot> shots(members.size());
  uint64_t sent = 0;
  for (size_t i = 0; i < members.size(); ++i) shots[i] = {&ctx, members[i]->id, &ran[i]};
  for (int k = 0; k < ctx.params.iterations && crowd->ok() && !ctx.has_findings(); ++k) {
    for (auto& s : shots) ctx.call.interrupt(s.target, on_interrupt, &s);
    ctx.progress();
    ++sent;
  }
  for (size_t i = 0; i < members.size() && crowd->ok(); ++i)
    while (ran[i].load() < sent && !ctx.has_findings()) sched_yield();  // a lost one hangs: the watchdog reports
  for (size_t i = 0; i < members.size(); ++i)
    if (ran[i].load() != sent && !ctx.has_findings())
      ctx.finding(Verdict::Invariant, fmt::format("thread {} ran {} of {} interrupts", shots[i].target, ran[i].load(), sent),
                  shots[i].target);
  crowd->finish();
}

void exiting_targets(Context& ctx) {
  std::atomic<uint64_t> ran{0};
  const int n = ctx.params.threads;
  std::vector<Shot> shots(static_cast<size_t>(n));
  std::vector<std::atomic<int>> phase(static_cast<size_t>(n));
  scn::run_foreign(n + 1, [&](int i) {
    if (i == n) {  // the sender: once every target left its last callback
      for (int t = 0; t < n; ++t)
        while (phase[t].load() == 0) sched_yield();
      for (int t = 0; t < n; ++t) {
        if (phase[t].load() == 1) ctx.call.interrupt(shots[t].target, on_interrupt, &shots[t]);
        phase[t] = 2;
      }
      return;
    }
    if (!ctx.call.callback_enter()) {
      phase[i] = 3;
      return;
    }
    shots[i] = {&ctx, ctx.rt->self(), &ran};
    ctx.call.callback_exit();  // foreign from here on: no safe point
    phase[i] = 1;
    while (phase[i].load() != 2) sched_yield();
    // exits now: the interrupt queued meanwhile must be dropped, not run
  });
  if (ran.load() != 0)
    ctx.finding(Verdict::Invariant,
                fmt::format("{} interrupt(s) ran on adopted threads after their last callback, during teardown",
                            ran.load()));
}

void cycle(Context& ctx) {
  live_targets(ctx);
  if (!ctx.has_findings()) exiting_targets(ctx);
}

}  // namespace

const RegisterScenario registered{{
    .name = "interrupt-storm",
    .tags = {"interrupt"},
    .caps = TL_CAP_SPAWN | TL_CAP_INTERRUPT | TL_CAP_REGIONS | TL_CAP_FOREIGN_CALLBACK | TL_CAP_VALUE_STACK,
    .description = "Sends interrupts over and over to threads polling safepoints and going in and out of foreign "
        "code, and to adopted foreign threads just before they exit. Guards against interrupts run on the wrong "
        "thread or lost (invariant, deadlock) and interrupts delivered while a thread tears down its stacks (crash, "
        "Clozure CL #517).",
    .defaults = {.threads = 2, .cycles = 5, .warmup = 1},
    .timeout_s = 20,
    .cycle = cycle,
    .catches = {{.defect = "interrupt_during_exit", .verdict = Verdict::Crash}},
}};

}  // namespace threadlab
