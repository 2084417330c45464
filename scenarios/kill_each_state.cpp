// kill_each_state.cpp — kill a thread in each state it can be in: managed
// (polling safepoints), blocked in a syscall, in and out of foreign code,
// waiting on a runtime lock, and still being created.
//
// Guards against: kills that leave the victim's runtime locks held (the
// next thread to want one waits forever: deadlock), cleanups that do not
// run on a kill that claims to have unwound the thread, and kills that hang.
// Each victim pushes one cleanup and takes its own lock before entering its
// state. Checks: kill returns; the runtime's report agrees with what was
// observed (a kill at a safe point ran the cleanup; a hard kill ran none and
// says so); the victim's lock can be taken again by the driver; the victim
// joins. A kill of a blocked victim may stay pending only where the adapter
// says so (no TL_CAP_KILL_BLOCKED); it must then land when the call returns.
#include <unistd.h>

#include <atomic>

#include <fmt/format.h>

#include "common.h"

namespace threadlab {
namespace {

enum class State { Managed, Blocked, Foreign, LockWait, Creating };
constexpr State kStates[] = {State::Managed, State::Blocked, State::Foreign, State::LockWait, State::Creating};
const char* state_name(State s) {
  switch (s) {
    case State::Managed: return "managed";
    case State::Blocked: return "blocked";
    case State::Foreign: return "foreign";
    case State::LockWait: return "lock-wait";
    case State::Creating: return "creating";
  }
  return "?";
}

struct Victim {
  Context* ctx;
  State state;
  tl_adapter_handle own = 0;    // taken by the victim, must be free after the kill
  tl_adapter_handle other = 0;  // held by the driver (lock-wait victims wait on it)
  int pipe_fds[2] = {-1, -1};
  std::atomic<int> cleanups{0};
  std::atomic<bool> ready{false};
};

void count_cleanup(void* p) { static_cast<Victim*>(p)->cleanups.fetch_add(1); }

void victim_main(void* p) {
  auto& v = *static_cast<Victim*>(p);
  const tl_adapter* rt = v.ctx->rt;
  rt->cleanup_push(count_cleanup, &v);
  rt->lock(v.own);
  v.ready = true;
  switch (v.state) {
    case State::Managed:
    case State::Creating:
      for (;;) rt->safepoint();
    case State::Blocked: {
      rt->blocking_begin();
      char c;
      while (read(v.pipe_fds[0], &c, 1) != 0) {
      }
      rt->blocking_end();
      break;
    }
    case State::Foreign:
      for (;;) {
        rt->foreign_begin();
        for (int i = 0; i < 1000; ++i) __asm__ volatile("" ::: "memory");
        rt->foreign_end();
      }
    case State::LockWait:
      rt->lock(v.other);
      break;
  }
  v.ctx->finding(Verdict::Invariant, fmt::format("a {} victim ran on after it was killed", state_name(v.state)));
}

void kill_one(Context& ctx, State state) {
  Victim v;
  v.ctx = &ctx;
  v.state = state;
  const std::string name = fmt::format("victim-{}", state_name(state));
  if (!ctx.call.lock_new(name.c_str(), &v.own) ||
      !ctx.call.lock_new("held-by-driver", &v.other) || pipe(v.pipe_fds) != 0)
    return;
  ctx.call.lock(v.other);
  tl_adapter_thread_id id = 0;
  if (ctx.call.spawn(name.c_str(), victim_main, &v, &id)) {
    if (state != State::Creating)
      while (!v.ready.load()) sched_yield();
    if (state == State::LockWait || state == State::Blocked)
      for (int i = 0; i < 100; ++i) sched_yield();  // let it reach the wait (either way is a valid kill)
    const int krc = ctx.rt->kill(id);
    // A runtime that cannot end a thread inside a system call may leave the
    // kill pending (TL_CAP_KILL_BLOCKED unset): it must land when the call
    // returns, so let the read return; the lock check below then waits for
    // it, and a victim that runs on is a finding.
    const bool pending =
        krc == TL_ADAPTER_ETIMEDOUT && state == State::Blocked && !(ctx.rt->caps & TL_CAP_KILL_BLOCKED);
    if (pending) close(v.pipe_fds[1]), v.pipe_fds[1] = -1;
    bool killed = pending || ctx.ok(krc, "kill");
    tl_adapter_kill_report rep{};
    if (killed && ctx.rt->kill_report && ctx.rt->kill_report(&rep) == TL_ADAPTER_OK) {
      const int seen = v.cleanups.load();
      const int expect = rep.hard ? 0 : (v.ready.load() ? 1 : seen);
      if (seen != expect || static_cast<int>(rep.cleanups_run) != seen)
        ctx.finding(Verdict::Invariant,
                    fmt::format("kill of a {} thread: {} cleanup(s) ran, the report says {} ({}): {}", state_name(state),
                                seen, rep.cleanups_run, rep.hard ? "hard kill" : "at a safe point", rep.text),
                    id);
    }
    // The victim's lock must be free: a kill that kept it blocks us here.
    if (killed && ctx.call.as("the killed thread's lock").lock(v.own)) ctx.rt->unlock(v.own);
    // A kill that did not end the thread (already reported above) must not
    // hang the join: let a blocked victim out of its read().
    if (!killed) close(v.pipe_fds[1]), v.pipe_fds[1] = -1;
    ctx.call.join(id);
  }
  ctx.rt->unlock(v.other);
  close(v.pipe_fds[0]);
  if (v.pipe_fds[1] >= 0) close(v.pipe_fds[1]);
  ctx.rt->lock_free(v.own);
  ctx.rt->lock_free(v.other);
}

void cycle(Context& ctx) {
  for (State s : kStates) {
    if (ctx.has_findings()) return;
    kill_one(ctx, s);
    ctx.progress();
  }
}

}  // namespace

const RegisterScenario registered{{
    .name = "kill-each-state",
    .tags = {"kill", "locks"},
    .caps = TL_CAP_SPAWN | TL_CAP_KILL | TL_CAP_LOCKS | TL_CAP_REGIONS | TL_CAP_CLEANUPS,
    .description = "Kills a thread that is managed, blocked in a syscall, in and out of foreign code, waiting on a "
        "runtime lock, or still being created; each holds a runtime lock and has a cleanup pushed. Guards against "
        "kills that keep the victim's locks (the next taker waits forever: deadlock), cleanups that do not run "
        "although the kill says it unwound the thread (invariant), and kills that never return.",
    .defaults = {.threads = 1, .iterations = 1, .cycles = 5, .warmup = 1},
    .timeout_s = 20,
    .cycle = cycle,
    .catches = {{.defect = "kill_keeps_locks", .verdict = Verdict::Deadlock, .cycles = 1}},
}};

}  // namespace threadlab
