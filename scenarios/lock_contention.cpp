// lock_contention.cpp — many threads (64 by default; 256 and 1,024 under
// --threads) contend on one runtime lock, with exact ownership accounting,
// while the driver stops and restarts the world under them.
//
// Guards against: a release that loses a queued waiter's wake-up (the
// waiter sleeps on a free lock: deadlock), waiters kept in a fixed-size set
// (ids that alias are never woken: deadlock), two owners at once, a lost or
// doubled acquisition, and a stop-the-world that cannot stop threads queued
// on a lock.
//
// Invariants checked: at most one thread inside the lock at any moment (an
// atomic flag each owner raises and lowers); a plain counter incremented
// only under the lock ends at exactly threads x iterations; each thread's
// own count is exactly its iterations.
#include <sched.h>

#include <atomic>
#include <vector>

#include <fmt/format.h>

#include "common.h"

namespace threadlab {
namespace {

struct Shared {
  Context* ctx = nullptr;
  tl_adapter_handle lock = 0;
  std::atomic<int> inside{0};
  uint64_t counter = 0;  // only under the lock
  std::atomic<int> started{0};
  std::atomic<bool> go{false};
  std::atomic<int> done{0};
};
struct Worker {
  Shared* s = nullptr;
  int index = 0;
  uint64_t taken = 0;
};

void worker(void* p) {
  auto& w = *static_cast<Worker*>(p);
  Shared& s = *w.s;
  Context& ctx = *s.ctx;
  s.started.fetch_add(1);
  while (!s.go.load(std::memory_order_acquire)) sched_yield();
  for (int i = 0; i < ctx.params.iterations && !ctx.has_findings(); ++i) {
    const int rc = ctx.rt->lock(s.lock);
    if (rc != TL_ADAPTER_OK) {
      ctx.ok(rc, "lock");
      break;
    }
    if (s.inside.exchange(1) != 0)
      ctx.finding(Verdict::Invariant, fmt::format("worker {} took the lock while another thread was inside", w.index));
    ++s.counter;
    ++w.taken;
    sched_yield();  // hold it a while, so the others queue (not a synchronisation)
    s.inside.store(0);
    ctx.rt->unlock(s.lock);
  }
  s.done.fetch_add(1);
}

void cycle(Context& ctx) {
  Shared s;
  s.ctx = &ctx;
  if (!ctx.call.lock_new("contended", &s.lock)) return;
  const int n = ctx.params.threads;
  std::vector<Worker> ws(static_cast<size_t>(n));
  std::vector<tl_adapter_thread_id> ids;
  for (int i = 0; i < n; ++i) {
    ws[i].s = &s;
    ws[i].index = i;
    tl_adapter_thread_id id = 0;
    if (!ctx.call.spawn("contender", worker, &ws[i], &id)) break;
    ids.push_back(id);
  }
  while (s.started.load() < static_cast<int>(ids.size())) sched_yield();
  s.go.store(true, std::memory_order_release);
  // Stop the world a few times while threads queue on the lock.
  const bool stw = ctx.rt->caps & TL_CAP_SUSPEND;
  for (int k = 0; stw && k < 4 && s.done.load() < static_cast<int>(ids.size()) && !ctx.has_findings(); ++k) {
    const int rc = ctx.rt->suspend_all();
    if (rc == TL_ADAPTER_ETIMEDOUT) {
      ctx.finding(Verdict::Deadlock, fmt::format("stop-the-world with threads queued on a lock timed out: {}",
                                                 ctx.rt->last_error ? ctx.rt->last_error() : ""));
      break;
    }
    if (!ctx.ok(rc, "suspend_all")) break;
    ctx.call.resume_all();
    ctx.progress();
    sched_yield();
  }
  for (auto id : ids) {
    ctx.call.join(id);
    ctx.progress();
  }
  const uint64_t want = static_cast<uint64_t>(ids.size()) * static_cast<uint64_t>(ctx.params.iterations);
  uint64_t sum = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    sum += ws[i].taken;
    if (!ctx.has_findings() && ws[i].taken != static_cast<uint64_t>(ctx.params.iterations))
      ctx.finding(Verdict::Invariant, fmt::format("worker {} took the lock {} times, not {}", i, ws[i].taken,
                                                  ctx.params.iterations));
  }
  if (!ctx.has_findings() && (s.counter != want || sum != want))
    ctx.finding(Verdict::Invariant,
                fmt::format("{} acquisitions counted under the lock and {} by the workers; {} expected", s.counter, sum, want));
  ctx.tally("lock_acquisitions", s.counter);
  ctx.rt->lock_free(s.lock);
}

}  // namespace

const RegisterScenario registered{{
    .name = "lock-contention",
    .tags = {"locks"},
    .caps = TL_CAP_SPAWN | TL_CAP_LOCKS,
    .description = "Many threads contend on one runtime lock while the world is stopped and restarted under "
                   "them; ownership is accounted exactly (one owner at a time, threads x iterations "
                   "acquisitions). Catches lost wake-ups and waiter sets with a fixed size.",
    .defaults = {.threads = 64, .iterations = 50, .cycles = 4, .warmup = 1},
    .timeout_s = 30,
    .cycle = cycle,
    .catches = {{.defect = "unlock_loses_wakeup", .verdict = Verdict::Deadlock},
                {.defect = "thread_cap_bitmask", .verdict = Verdict::Deadlock}},
}};

}  // namespace threadlab
