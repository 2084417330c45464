// mailbox_traffic.cpp — mailboxes under load: ping-pong pairs, and many
// senders to many receivers through one small box, with every message
// accounted for, while the driver stops and restarts the world.
//
// Guards against: a send that drops or overwrites on a full box, a message
// delivered twice or out of its sender's order, a receiver that sleeps
// through a send (lost wake-up), and a stop-the-world that cannot stop
// threads waiting on a mailbox.
//
// Invariants checked: each ping's reply is the word it sent; every word of
// every sender is received exactly once (count and sum per sender), and
// each receiver sees each sender's words in increasing order; the tallies
// (messages sent, received) are in the report.
#include <sched.h>

#include <atomic>
#include <vector>

#include <fmt/format.h>

#include "common.h"

namespace threadlab {
namespace {

constexpr uint64_t kStop = ~uint64_t{0};

void ping_pong(Context& ctx) {
  const int pairs = std::max(1, ctx.params.threads / 4);
  std::vector<tl_adapter_handle> to(static_cast<size_t>(pairs)), back(static_cast<size_t>(pairs));
  for (int p = 0; p < pairs; ++p)
    if (!ctx.call.mailbox_new(1, &to[p]) || !ctx.call.mailbox_new(1, &back[p])) return;
  std::atomic<uint64_t> sent{0}, received{0};
  scn::run_managed(ctx, pairs * 2, "ping-pong", [&](int i) {
    const int p = i / 2;
    if (i % 2 == 0) {  // ping
      for (int k = 0; k < ctx.params.iterations && !ctx.has_findings(); ++k) {
        const uint64_t w = (static_cast<uint64_t>(p) << 32) | static_cast<uint64_t>(k);
        uint64_t r = 0;
        if (!ctx.call.mailbox_send(to[p], w) || !ctx.call.mailbox_receive(back[p], &r)) return;
        sent.fetch_add(1), received.fetch_add(1);
        if (r != w) ctx.finding(Verdict::Invariant, fmt::format("pair {}: sent {:#x}, the reply was {:#x}", p, w, r));
      }
      ctx.call.mailbox_send(to[p], kStop);
    } else {  // pong
      for (;;) {
        uint64_t w = 0;
        if (!ctx.call.mailbox_receive(to[p], &w) || w == kStop) return;
        received.fetch_add(1);
        if (!ctx.call.mailbox_send(back[p], w)) return;
        sent.fetch_add(1);
        ctx.progress();
      }
    }
  });
  const uint64_t want = 2ull * static_cast<uint64_t>(pairs) * static_cast<uint64_t>(ctx.params.iterations);
  if (!ctx.has_findings() && (sent.load() != want || received.load() != want))
    ctx.finding(Verdict::Invariant, fmt::format("ping-pong: {} sent, {} received, {} expected", sent.load(),
                                                received.load(), want));
  ctx.tally("pingpong_sent", sent.load());
  ctx.tally("pingpong_received", received.load());
  for (int p = 0; p < pairs; ++p) ctx.rt->mailbox_free(to[p]), ctx.rt->mailbox_free(back[p]);
}

struct PerSender {
  std::atomic<uint64_t> count{0}, sum{0};
};

void many_to_many(Context& ctx) {
  const int senders = std::max(1, ctx.params.threads / 2), receivers = std::max(1, ctx.params.threads - senders);
  const uint64_t per = static_cast<uint64_t>(ctx.params.iterations);
  tl_adapter_handle box = 0;
  if (!ctx.call.mailbox_new(4, &box)) return;
  std::vector<PerSender> got(static_cast<size_t>(senders));
  std::atomic<int> senders_left{senders};
  const bool closable = ctx.rt->mailbox_close != nullptr;
  std::atomic<uint64_t> sent{0}, received{0};
  scn::run_managed(ctx, senders + receivers + 1, "many-to-many", [&](int i) {
    if (i == senders + receivers) {  // the stopper
      for (int k = 0; k < 4 && senders_left.load() > 0 && (ctx.rt->caps & TL_CAP_SUSPEND); ++k) {
        const int rc = ctx.rt->suspend_all();
        if (rc == TL_ADAPTER_ETIMEDOUT) {
          ctx.finding(Verdict::Deadlock, fmt::format("stop-the-world with threads waiting on a mailbox timed out: {}",
                                                     ctx.rt->last_error ? ctx.rt->last_error() : ""));
          break;
        }
        if (!ctx.ok(rc, "suspend_all")) break;
        ctx.call.resume_all();
        sched_yield();
      }
      return;
    }
    if (i < senders) {
      for (uint64_t k = 1; k <= per; ++k) {
        if (!ctx.call.mailbox_send(box, (static_cast<uint64_t>(i) << 32) | k)) break;
        sent.fetch_add(1);
        ctx.progress();
      }
      // The last sender closes the box (receivers drain it, then stop), or,
      // where the adapter cannot close one, sends a stop word per receiver.
      if (senders_left.fetch_sub(1) == 1) {
        if (closable)
          ctx.ok(ctx.rt->mailbox_close(box), "mailbox_close");
        else
          for (int r = 0; r < receivers; ++r) ctx.call.mailbox_send(box, kStop);
      }
      return;
    }
    std::vector<uint64_t> last(static_cast<size_t>(senders), 0);
    for (;;) {
      uint64_t w = 0;
      const int rc = ctx.rt->mailbox_receive(box, &w);
      if (rc != TL_ADAPTER_OK) {
        if (!closable || senders_left.load() > 0) ctx.ok(rc, "mailbox_receive");
        return;  // closed and drained
      }
      if (w == kStop) return;
      const uint64_t s = w >> 32, k = w & 0xffffffffu;
      if (s >= static_cast<uint64_t>(senders) || k == 0 || k > per) {
        ctx.finding(Verdict::Invariant, fmt::format("received a word no sender sent: {:#x}", w));
        continue;
      }
      if (k <= last[s])
        ctx.finding(Verdict::Invariant, fmt::format("sender {}'s word {} arrived after its word {}", s, k, last[s]));
      last[s] = k;
      got[s].count.fetch_add(1), got[s].sum.fetch_add(k);
      received.fetch_add(1);
    }
  });
  for (int s = 0; s < senders && !ctx.has_findings(); ++s)
    if (got[s].count.load() != per || got[s].sum.load() != per * (per + 1) / 2)
      ctx.finding(Verdict::Invariant, fmt::format("sender {}: {} of its {} words received (sum {}, expected {})", s,
                                                  got[s].count.load(), per, got[s].sum.load(), per * (per + 1) / 2));
  ctx.tally("many_to_many_sent", sent.load());
  ctx.tally("many_to_many_received", received.load());
  ctx.rt->mailbox_free(box);
}

void cycle(Context& ctx) {
  ping_pong(ctx);
  if (!ctx.has_findings()) many_to_many(ctx);
}

}  // namespace

const RegisterScenario registered{{
    .name = "mailbox-traffic",
    .tags = {"mailboxes"},
    .caps = TL_CAP_SPAWN | TL_CAP_MAILBOXES,
    .description = "Ping-pong pairs, then many senders and receivers through one four-word mailbox while the "
                   "world is stopped and restarted; every message is accounted for (exactly once, in each "
                   "sender's order) and the counts are reported as tallies.",
    .defaults = {.threads = 8, .iterations = 500, .cycles = 5, .warmup = 1},
    .timeout_s = 30,
    .cycle = cycle,
    .catches = {{.defect = "mailbox_drops_when_full", .verdict = Verdict::Invariant}},
}};

}  // namespace threadlab
