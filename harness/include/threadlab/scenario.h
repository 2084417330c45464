// threadlab scenario API (C++20).
//
// A scenario is one file in scenarios/ that registers a `threadlab::Scenario`
// with a file-scope `RegisterScenario` object, declared by name:
//
//   const threadlab::RegisterScenario registered{{
//       .name = "my-scenario", .tags = {"threads"}, .caps = TL_CAP_SPAWN,
//       .description = "...", .defaults = {.threads = 4, .cycles = 20},
//       .cycle = cycle,
//       .catches = {{.defect = "kill_keeps_locks", .verdict = Verdict::Deadlock}}}};
//
// It drives a runtime only through the adapter, in lifecycles: setup once,
// `cycle` N times, teardown once. The harness samples every leak counter
// after each cycle and checks integrity. This header and adapter.h are all a
// scenario sees: no runtime header, no harness internals.
//
// Invariants:
//   - A scenario declares every capability it uses in `caps`; the harness
//     skips it (with the reason) on an adapter that lacks one. A capability
//     used only for extra checks goes in `optional_caps` instead: the
//     scenario tests rt->caps at run time and makes those checks only when
//     the adapter offers it (its description says which).
//   - Findings go through ctx.finding(); the first cycle that reports one is
//     the last cycle run. Findings are thread-safe to report.
//   - `cycle` returns with every thread it started joined, so the process is
//     back in its steady state and the probes measure leaks, not work.
//   - Scenario names are unique; all_scenarios() lists them sorted by name,
//     whatever order the linker ran the registrations in.
#pragma once

#include <threadlab/adapter.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace threadlab {

// Timeout: time ran out while the run was still making progress (slow or
// livelocked, not stuck); Deadlock: progress had stopped.
enum class Verdict { Pass, Skip, Fail, Timeout, Leak, Invariant, Scribble, Deadlock, Crash };
const char* verdict_name(Verdict v);
bool verdict_from_name(const std::string& s, Verdict* out);
// Higher is worse: a run's verdict is the worst of its findings.
int verdict_rank(Verdict v);

struct Params {
  int threads = 4;      // worker threads per cycle
  int iterations = 50;  // work per thread per cycle
  int cycles = 20;      // lifecycles per run
  int warmup = 4;       // cycles excluded from the leak fit
  uint64_t seed = 1;
};

class Context;

// Adapter operations that check their own status: on failure each records a
// `fail` finding naming the operation (and the adapter's last_error) and
// returns false. Reached as ctx.call.<operation>(...); ctx.call.as("why")
// adds a note to the name ("lock (the killed thread's lock) failed ...").
class CheckedCalls {
 public:
  explicit CheckedCalls(Context& ctx, const char* note = nullptr) : ctx_(&ctx), note_(note) {}
  CheckedCalls as(const char* note) const { return CheckedCalls(*ctx_, note); }

#define TL_CHECKED(op, params, args) \
  bool op params const { return check(rt()->op args, #op); }
  TL_CHECKED(spawn, (const char* name, tl_adapter_fn fn, void* arg, tl_adapter_thread_id* out), (name, fn, arg, out))
  TL_CHECKED(join, (tl_adapter_thread_id id), (id))
  TL_CHECKED(callback_enter, (), ())
  TL_CHECKED(callback_exit, (), ())
  TL_CHECKED(kill, (tl_adapter_thread_id id), (id))
  TL_CHECKED(interrupt, (tl_adapter_thread_id id, tl_adapter_fn fn, void* arg), (id, fn, arg))
  TL_CHECKED(resume_all, (), ())
  TL_CHECKED(lock_new, (const char* name, tl_adapter_handle* out), (name, out))
  TL_CHECKED(lock, (tl_adapter_handle h), (h))
  TL_CHECKED(unlock, (tl_adapter_handle h), (h))
  TL_CHECKED(lock_free, (tl_adapter_handle h), (h))
  TL_CHECKED(mailbox_new, (size_t capacity, tl_adapter_handle* out), (capacity, out))
  TL_CHECKED(mailbox_send, (tl_adapter_handle box, uint64_t word), (box, word))
  TL_CHECKED(mailbox_receive, (tl_adapter_handle box, uint64_t* word), (box, word))
  TL_CHECKED(mailbox_free, (tl_adapter_handle box), (box))
  TL_CHECKED(value_push, (uintptr_t word), (word))
  TL_CHECKED(value_pop, (uintptr_t* word), (word))
  TL_CHECKED(counters, (tl_adapter_counter* out, size_t cap, size_t* count), (out, cap, count))
  TL_CHECKED(thread_list, (tl_adapter_thread* out, size_t cap, size_t* count), (out, cap, count))
  TL_CHECKED(kill_report, (tl_adapter_kill_report* out), (out))
  TL_CHECKED(safepoint, (), ())
  TL_CHECKED(foreign_begin, (), ())
  TL_CHECKED(foreign_end, (), ())
  TL_CHECKED(blocking_begin, (), ())
  TL_CHECKED(blocking_end, (), ())
  TL_CHECKED(no_interrupt_begin, (), ())
  TL_CHECKED(no_interrupt_end, (), ())
  TL_CHECKED(without_gc_begin, (), ())
  TL_CHECKED(without_gc_end, (), ())
  TL_CHECKED(heap_stats, (tl_adapter_heap_stats* out), (out))
  TL_CHECKED(cleanup_push, (tl_adapter_fn fn, void* arg), (fn, arg))
  TL_CHECKED(cleanup_pop, (int run), (run))
#undef TL_CHECKED
  // A full collection; TL_ADAPTER_DEFERRED counts as success (*deferred
  // says which, when given); a collection that could not stop the world
  // (TL_ADAPTER_ETIMEDOUT) is a `deadlock` finding with last_error.
  bool collect(bool* deferred = nullptr) const;

 private:
  const tl_adapter* rt() const;
  bool check(int rc, const char* op) const;
  Context* ctx_;
  const char* note_;
};

class Context {
 public:
  virtual ~Context() = default;
  const tl_adapter* rt = nullptr;
  Params params;
  int cycle_index = 0;
  CheckedCalls call{*this};

  // Record a finding. `thread` and `address` are 0 when unknown.
  virtual void finding(Verdict v, const std::string& what, uint64_t thread = 0,
                       uintptr_t address = 0) = 0;
  virtual bool has_findings() const = 0;
  // Add n to the run's tally `name` (exact counts a scenario keeps, such as
  // messages sent and received): reported in the run's evidence.tallies.
  virtual void tally(const std::string& name, uint64_t n) { (void)name, (void)n; }
  // Deterministic per-stream random numbers (stream 0 for the driver,
  // stream i+1 for worker i).
  virtual uint64_t random(uint64_t stream) = 0;
  // Check an adapter status; on failure record a `fail` finding naming the
  // call and the adapter's last_error. Returns true when rc == OK. Prefer
  // ctx.call, which names the call itself.
  bool ok(int rc, const char* call);
  // Heartbeat: `n` more operations done. Call it from the loop that drives a
  // cycle forward (never from threads that spin until told to stop), so a
  // run whose count still moves at its timeout is `timeout`, not `deadlock`.
  // Wait-free; read by the watchdog.
  void progress(uint64_t n = 1) { progress_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t progress_count() const { return progress_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> progress_{0};
};

// A defect this scenario catches when it is injected (THREADLAB_INJECT on
// the reference runtime): the verdict class it ends in. Read by pytest and
// `threadlab selftest` through `threadlab list --json`.
struct Catch {
  const char* defect;                // injection point name
  Verdict verdict;                   // the run's verdict with it injected
  int cycles = 2;                    // cycles that suffice to catch it
  const char* only_adapter = nullptr;  // caught under this adapter only ...
  const char* why_only = nullptr;      // ... and why not under the others
  // Functions a crash must be inside when the defect sometimes crashes in
  // its own code before the verdict above shows (empty: never).
  std::vector<std::string> may_crash_in = {};
};

struct Scenario {
  const char* name;
  std::vector<std::string> tags;
  uint64_t caps = 0;                   // TL_CAP_* the scenario needs
  uint64_t optional_caps = 0;          // TL_CAP_* it uses for extra checks when present
  const char* description;             // one paragraph: the bug class it guards against
  Params defaults = {};
  Verdict expected = Verdict::Pass;    // on the reference runtime without injection
  int timeout_s = 30;                  // per run; --timeout overrides
  void (*setup)(Context&) = nullptr;
  void (*cycle)(Context&) = nullptr;   // required
  void (*teardown)(Context&) = nullptr;
  std::vector<Catch> catches = {};
};

// Registers its scenario with the harness during static initialisation.
// Scenario files are linked as objects (never through an archive a linker
// may skip), so every registration runs.
class RegisterScenario {
 public:
  explicit RegisterScenario(Scenario s);
  const Scenario scenario;
};

// First call on a thread a scenario starts itself (a raw pthread, foreign to
// the runtime): gives it what every thread of a scenario child has, an
// alternate signal stack for the crash report, so even its stack overflow
// is reported with a backtrace. Idempotent; released when the thread exits.
void thread_started();

// Every registered scenario, sorted by name.
const std::vector<const Scenario*>& all_scenarios();
const Scenario* find_scenario(const std::string& name);

}  // namespace threadlab
