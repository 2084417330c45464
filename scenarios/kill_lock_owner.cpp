// kill_lock_owner.cpp — kill a thread that owns a runtime lock while others
// queue on it, and kill a thread blocked receiving from an empty mailbox.
//
// Guards against: a killed owner's lock left held (its waiters wait
// forever: deadlock), a lock released silently (the next taker must be told
// the owner died: TL_ADAPTER_OWNER_DIED), and a killed receiver that stays
// counted as waiting on its mailbox (the box can then never be freed) or
// that takes a message with it.
//
// Invariants checked: the waiters all get the lock, exactly one of them (the
// first) told that the owner died; the mailbox is freed after the kill and a
// word sent to it meanwhile is received intact by the driver.
#include <sched.h>

#include <atomic>
#include <vector>

#include <fmt/format.h>

#include "common.h"

namespace threadlab {
namespace {

struct Shared {
  Context* ctx = nullptr;
  tl_adapter_handle lock = 0, box = 0;
  std::atomic<bool> owner_holds{false};
  std::atomic<int> told{0}, got{0}, started{0};
};

void owner_main(void* p) {
  auto& s = *static_cast<Shared*>(p);
  if (!s.ctx->call.lock(s.lock)) return;
  s.owner_holds = true;
  for (;;) s.ctx->rt->safepoint();  // until killed
}

void waiter_main(void* p) {
  auto& s = *static_cast<Shared*>(p);
  s.started.fetch_add(1);
  const int rc = s.ctx->rt->lock(s.lock);
  if (rc == TL_ADAPTER_OWNER_DIED) s.told.fetch_add(1);
  else if (!s.ctx->ok(rc, "lock (waiting behind the doomed owner)")) return;
  s.got.fetch_add(1);
  s.ctx->rt->unlock(s.lock);
}

void receiver_main(void* p) {
  auto& s = *static_cast<Shared*>(p);
  uint64_t w = 0;
  s.started.fetch_add(1);
  s.ctx->rt->mailbox_receive(s.box, &w);  // never returns: killed while it waits
  s.ctx->finding(Verdict::Invariant, fmt::format("a killed receiver ran on (received {:#x})", w));
}

void cycle(Context& ctx) {
  Shared s;
  s.ctx = &ctx;
  if (!ctx.call.lock_new("doomed-owner", &s.lock) || !ctx.call.mailbox_new(2, &s.box)) return;
  const int waiters = std::max(1, ctx.params.threads);
  tl_adapter_thread_id owner = 0;
  if (!ctx.call.spawn("owner", owner_main, &s, &owner)) return;
  while (!s.owner_holds.load()) sched_yield();
  std::vector<tl_adapter_thread_id> ids;
  for (int i = 0; i < waiters; ++i) {
    tl_adapter_thread_id id = 0;
    if (ctx.call.spawn("waiter", waiter_main, &s, &id)) ids.push_back(id);
  }
  while (s.started.load() < static_cast<int>(ids.size())) sched_yield();
  if (ctx.call.kill(owner)) ctx.call.join(owner);
  for (auto id : ids) ctx.call.join(id);
  if (!ctx.has_findings() && (s.got.load() != static_cast<int>(ids.size()) || s.told.load() != 1))
    ctx.finding(Verdict::Invariant,
                fmt::format("after the owner's kill {} of {} waiters got the lock and {} were told it died holding it "
                            "(exactly 1 expected)",
                            s.got.load(), ids.size(), s.told.load()));
  ctx.progress();

  s.started = 0;
  tl_adapter_thread_id receiver = 0;
  if (ctx.call.spawn("receiver", receiver_main, &s, &receiver)) {
    while (s.started.load() < 1) sched_yield();
    if (ctx.call.kill(receiver)) ctx.call.join(receiver);
  }
  uint64_t w = 0;
  if (ctx.call.mailbox_send(s.box, 0x5eed) && ctx.call.mailbox_receive(s.box, &w) && w != 0x5eed)
    ctx.finding(Verdict::Invariant, fmt::format("after the receiver's kill the box gave back {:#x}, not 0x5eed", w));
  ctx.call.as("after its blocked receiver was killed").mailbox_free(s.box);
  ctx.rt->lock_free(s.lock);
  ctx.progress();
}

}  // namespace

const RegisterScenario registered{{
    .name = "kill-lock-owner",
    .tags = {"locks", "mailboxes", "kill"},
    .caps = TL_CAP_SPAWN | TL_CAP_LOCKS | TL_CAP_MAILBOXES | TL_CAP_KILL | TL_CAP_REGIONS,
    .description = "Kill a lock's owner while threads queue on it (they must all get it, the first told the "
                   "owner died), and a thread blocked receiving from an empty mailbox (the box must still "
                   "work and be freed).",
    .defaults = {.threads = 4, .iterations = 1, .cycles = 5, .warmup = 1},
    .timeout_s = 20,
    .cycle = cycle,
    .catches = {{.defect = "kill_keeps_locks", .verdict = Verdict::Deadlock, .cycles = 1}},
}};

}  // namespace threadlab
