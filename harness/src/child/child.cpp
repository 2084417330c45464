// child.cpp — the scenario child (see child.h).
//
// Invariants:
//   - Order: crash reporter, dump handler and watchdog are armed before the
//     adapter initialises its runtime, so even a hang or crash inside init
//     is reported.
//   - Each finished cycle is a heartbeat (watchdog_cycle_done), besides the
//     operations the scenario counts with ctx.progress; the watchdog tells a
//     stopped run (deadlock) from a slow one (timeout) by them.
//   - Every finding is also streamed to the runner the moment it is made
//     ("finding" events), so what a scenario saw before a hang or a crash
//     (e.g. a stop-the-world that timed out) survives the watchdog's kill.
//   - After each cycle: integrity check (if the adapter offers it), then one
//     sample of every probe and adapter counter; a cycle that produced a
//     finding is the last one run.
//   - The child ends with _exit: a broken runtime's destructors must not be
//     able to turn a clean result into a crash.
#include "child/child.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include <fmt/format.h>
#include <threadlab/scenario.h>

#include "adapters/builtin.h"
#include "child/channel.h"
#include "child/crash_report.h"
#include "probes/leak_analysis.h"
#include "probes/probes.h"
#include "child/thread_dump.h"
#include "child/watchdog.h"

namespace threadlab {

int watchdog_fire_ms(double timeout_s) {
  double margin = std::clamp(timeout_s * 0.2, 0.3, 2.0);
  return static_cast<int>(std::max(0.2, timeout_s - margin) * 1000);
}

namespace {

class ChildContext : public Context {
 public:
  void finding(Verdict v, const std::string& what, uint64_t thread = 0, uintptr_t address = 0) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (findings_.size() < 50) {
      nlohmann::json f = {{"verdict", verdict_name(v)},
                          {"what", what},
                          {"thread", thread},
                          {"address", fmt::format("{:#x}", address)},
                          {"cycle", cycle_index}};
      channel_emit({{"event", "finding"}, {"finding", f}});
      findings_.push_back(std::move(f));
    }
    if (verdict_rank(v) > verdict_rank(worst_)) {
      worst_ = v;
      reason_ = what;
    }
    any_ = true;
  }
  bool has_findings() const override { return any_.load(); }
  void tally(const std::string& name, uint64_t n) override {
    std::lock_guard<std::mutex> lock(mu_);
    tallies_[name] = tallies_.value(name, uint64_t{0}) + n;
  }
  nlohmann::json tallies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return tallies_;
  }
  uint64_t random(uint64_t stream) override {
    // splitmix64 over (seed, stream, counter); each stream used by one thread.
    auto& c = counters_[stream % kStreams];
    uint64_t z = params.seed + 0x9e3779b97f4a7c15ull * (stream + 1) + 0xbf58476d1ce4e5b9ull * ++c;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  Verdict worst() const { return worst_; }
  const std::string& reason() const { return reason_; }
  nlohmann::json findings() const {
    std::lock_guard<std::mutex> lock(mu_);
    return findings_;
  }

 private:
  static constexpr size_t kStreams = 1024;
  mutable std::mutex mu_;
  nlohmann::json findings_ = nlohmann::json::array();
  nlohmann::json tallies_ = nlohmann::json::object();
  Verdict worst_ = Verdict::Pass;
  std::string reason_;
  std::atomic<bool> any_{false};
  uint64_t counters_[kStreams] = {};
};

void check_integrity(const tl_adapter* rt, ChildContext& ctx, nlohmann::json& violations) {
  if (!(rt->caps & TL_CAP_INTEGRITY)) return;
  tl_adapter_violation v[16];
  int n = rt->check_integrity(v, 16);
  if (n < 0) {
    ctx.ok(n, "check_integrity");
    return;
  }
  for (int i = 0; i < n && i < 16; ++i) {
    Verdict verdict = v[i].kind == TL_VIOLATION_SCRIBBLE ? Verdict::Scribble : Verdict::Invariant;
    std::string what = fmt::format("{} (thread {}, address {:#x})", v[i].what, v[i].thread, v[i].address);
    ctx.finding(verdict, what, v[i].thread, v[i].address);
    if (violations.size() < 50)
      violations.push_back({{"kind", verdict_name(verdict)},
                            {"thread", v[i].thread},
                            {"address", fmt::format("{:#x}", v[i].address)},
                            {"what", v[i].what},
                            {"cycle", ctx.cycle_index}});
  }
}

// Lock-order cycles the runtime predicted since the last look: each is a
// `deadlock` finding of its own (no thread needs to have hung), kept in
// `predicted` for the report.
void check_lock_order(const tl_adapter* rt, ChildContext& ctx, nlohmann::json& predicted) {
  if (!(rt->caps & TL_CAP_LOCKS) || !rt->lock_order_cycles) return;
  tl_adapter_lock_cycle c[16];
  size_t n = 0;
  if (!ctx.ok(rt->lock_order_cycles(c, 16, &n), "lock_order_cycles")) return;
  for (size_t i = predicted.size(); i < n && i < 16; ++i) {
    nlohmann::json locks = nlohmann::json::array(), threads = nlohmann::json::array();
    std::string what = "predicted deadlock (lock-order inversion; no thread needs to have hung):";
    for (unsigned k = 0; k < c[i].n && k < TL_ADAPTER_CYCLE_MAX; ++k) {
      const unsigned next = (k + 1) % c[i].n;
      locks.push_back(c[i].lock_names[k][0] ? c[i].lock_names[k] : fmt::format("lock@{:#x}", c[i].locks[k]));
      threads.push_back(c[i].threads[k]);
      what += fmt::format("{} thread {} took '{}' while holding '{}'", k ? ";" : "", c[i].threads[k],
                          c[i].lock_names[next], c[i].lock_names[k]);
    }
    predicted.push_back({{"locks", locks}, {"threads", threads}, {"cycle", ctx.cycle_index}});
    ctx.finding(Verdict::Deadlock, what, c[i].threads[0], static_cast<uintptr_t>(c[i].locks[0]));
  }
}

void sample(const tl_adapter* rt, SeriesSet& series, ChildContext& ctx) {
  // Caches back first (adapter.h, trim): a bounded cache still filling is
  // not a leak. A trim the runtime refuses now leaves them as they are.
  if (rt->trim) (void)rt->trim();
  ProbeSample s;
  std::string err;
  if (!probe_sample(0, &s, &err)) {
    ctx.finding(Verdict::Fail, "probe failed: " + err);
    return;
  }
  series.add(s);
  if (rt->caps & TL_CAP_COUNTERS) {
    tl_adapter_counter c[32];
    size_t n = 0;
    if (ctx.ok(rt->counters(c, 32, &n), "counters"))
      for (size_t i = 0; i < n && i < 32; ++i)
        series.add_counter(std::string("rt_") + c[i].name, static_cast<double>(c[i].value),
                           c[i].unit == TL_UNIT_BYTES ? Unit::Bytes : Unit::Count, true);
  }
  series.end_sample(&s);
}

std::string leak_reason(const nlohmann::json& leak) {
  std::string s = fmt::format("{} grows {:.2f}/cycle ({} -> {})", leak["counter"].get<std::string>(),
                              leak["slope"].get<double>(), leak["first"].get<double>(), leak["last"].get<double>());
  if (!leak["new"].empty()) s += ": new " + leak["new"][0].get<std::string>();
  return s;
}

}  // namespace

int child_main(const ChildArgs& a) {
  const Scenario* sc = find_scenario(a.scenario);
  const tl_adapter* rt = find_adapter(a.adapter);
  if (!sc || !rt) {
    std::fprintf(stderr, "threadlab __child: unknown scenario or adapter\n");
    return 2;
  }
  channel_open(a.result_fd);
  crash_report_install(a.result_fd);
  thread_dump_install();
  ChildContext ctx;
  watchdog_start(watchdog_plan(a.timeout_s, a.stall_s), rt, &ctx);

  ctx.rt = rt;
  ctx.params = sc->defaults;
  ctx.params.seed = a.seed;
  if (a.cycles >= 0) ctx.params.cycles = a.cycles;
  if (a.warmup >= 0) ctx.params.warmup = a.warmup;
  if (a.threads > 0) ctx.params.threads = a.threads;
  if (a.iterations > 0) ctx.params.iterations = a.iterations;
  ctx.params.warmup = std::min(ctx.params.warmup, std::max(0, ctx.params.cycles - 1));

  nlohmann::json violations = nlohmann::json::array(), predicted = nlohmann::json::array();
  SeriesSet series(static_cast<size_t>(ctx.params.warmup));
  int cycles_run = 0;
  if (ctx.ok(rt->init(), "adapter init")) {
    if (sc->setup) sc->setup(ctx);
    check_integrity(rt, ctx, violations);
    for (int c = 0; c < ctx.params.cycles && !ctx.has_findings(); ++c) {
      ctx.cycle_index = c;
      sc->cycle(ctx);
      check_integrity(rt, ctx, violations);
      check_lock_order(rt, ctx, predicted);
      sample(rt, series, ctx);
      ++cycles_run;
      watchdog_cycle_done();
    }
    if (sc->teardown && !ctx.has_findings()) sc->teardown(ctx);
    if (!ctx.has_findings()) check_integrity(rt, ctx, violations);
  }
  watchdog_stop();

  nlohmann::json leaks = series.leaks();
  for (auto& l : leaks) ctx.finding(Verdict::Leak, leak_reason(l));
  channel_emit({{"event", "result"},
                {"verdict", verdict_name(ctx.worst())},
                {"reason", ctx.reason()},
                {"cycles_run", cycles_run},
                {"params",
                 {{"threads", ctx.params.threads},
                  {"iterations", ctx.params.iterations},
                  {"cycles", ctx.params.cycles},
                  {"warmup", ctx.params.warmup}}},
                {"findings", ctx.findings()},
                {"violations", violations},
                {"predicted_cycles", predicted},
                {"tallies", ctx.tallies()},
                {"leaks", leaks},
                {"counters", series.to_json()}});
  std::fflush(nullptr);
  _exit(0);
}

}  // namespace threadlab
