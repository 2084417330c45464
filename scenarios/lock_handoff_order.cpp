// lock_handoff_order.cpp — hand-off of a runtime lock to a chosen successor
// (lt-threads' transfer_resource), then along the FIFO of waiters.
//
// A holder takes the lock; waiters queue on it one at a time (each joins
// the queue only after the one before it is seen queued), so the FIFO order
// is known. The holder hands the lock to the *last* waiter by name; then
// each new owner hands it on to the oldest waiter. Guards against a
// hand-off that goes to someone else, a lock that becomes free in between
// (another thread could barge in), and a queue that is not FIFO.
//
// Invariant checked: the owners' order is exactly [last, 0, 1, ..., last-1].
#include <sched.h>

#include <mutex>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common.h"

namespace threadlab {
namespace {

struct Shared {
  Context* ctx = nullptr;
  tl_adapter_handle lock = 0;
  std::mutex mu;
  std::vector<int> order;  // who owned it, in turn
  std::atomic<int> owners{0};
};
struct Waiter {
  Shared* s = nullptr;
  int index = 0;
};

size_t queued(Context& ctx, tl_adapter_handle lock) {
  size_t n = 0;
  ctx.rt->lock_waiters(lock, nullptr, 0, &n);
  return n;
}

void waiter(void* p) {
  auto& w = *static_cast<Waiter*>(p);
  Shared& s = *w.s;
  Context& ctx = *s.ctx;
  if (!ctx.call.lock(s.lock)) return;
  {
    std::lock_guard<std::mutex> g(s.mu);
    s.order.push_back(w.index);
  }
  const int done = s.owners.fetch_add(1) + 1;
  const int n = ctx.params.threads;
  if (done < n) {
    if (!ctx.ok(ctx.rt->lock_handoff(s.lock, 0), "lock_handoff (to the oldest waiter)")) ctx.rt->unlock(s.lock);
  } else {
    ctx.call.unlock(s.lock);
  }
}

void cycle(Context& ctx) {
  Shared s;
  s.ctx = &ctx;
  const int n = std::max(2, ctx.params.threads);
  ctx.params.threads = n;
  if (!ctx.call.lock_new("handed-off", &s.lock)) return;
  s.order.reserve(static_cast<size_t>(n));  // waiters must not malloc (a new arena per thread reads as a leak)
  std::vector<Waiter> ws(static_cast<size_t>(n));
  std::vector<tl_adapter_thread_id> ids;
  scn::run_managed(ctx, 1, "holder", [&](int) {
    if (!ctx.call.lock(s.lock)) return;
    for (int i = 0; i < n && !ctx.has_findings(); ++i) {
      ws[i] = {&s, i};
      tl_adapter_thread_id id = 0;
      if (!ctx.call.spawn("waiter", waiter, &ws[i], &id)) break;
      ids.push_back(id);
      while (queued(ctx, s.lock) < ids.size()) sched_yield();  // it is queued: the next one goes behind it
      ctx.progress();
    }
    std::vector<tl_adapter_thread_id> fifo(ids.size());
    size_t count = 0;
    ctx.rt->lock_waiters(s.lock, fifo.data(), fifo.size(), &count);
    if (count != ids.size() || fifo != ids)
      ctx.finding(Verdict::Invariant, fmt::format("lock_waiters lists {} waiter(s) not in the order they queued", count));
    if (!ids.empty()) ctx.ok(ctx.rt->lock_handoff(s.lock, ids.back()), "lock_handoff (to the last waiter)");
  });
  for (auto id : ids) ctx.call.join(id);
  std::vector<int> want;
  if (!ids.empty()) want.push_back(static_cast<int>(ids.size()) - 1);
  for (int i = 0; i + 1 < static_cast<int>(ids.size()); ++i) want.push_back(i);
  if (!ctx.has_findings() && s.order != want)
    ctx.finding(Verdict::Invariant, fmt::format("owners in the order [{}], expected [{}]", fmt::join(s.order, ", "),
                                                fmt::join(want, ", ")));
  ctx.tally("handoffs", s.order.size());
  ctx.rt->lock_free(s.lock);
}

}  // namespace

const RegisterScenario registered{{
    .name = "lock-handoff-order",
    .tags = {"locks"},
    .caps = TL_CAP_SPAWN | TL_CAP_LOCKS | TL_CAP_LOCK_HANDOFF,
    .description = "A held lock is handed to a chosen waiter, then along the FIFO of waiters; the owners' order "
                   "must be exactly the chosen one, then the queue's.",
    .defaults = {.threads = 8, .iterations = 1, .cycles = 5, .warmup = 1},
    .timeout_s = 20,
    .cycle = cycle,
}};

}  // namespace threadlab
