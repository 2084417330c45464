// fork_busy.cpp — fork a process whose threads are busy with the runtime
// (scenarios fork-busy and fork-storm), through the adapter's fork hooks.
//
// Guards against the fork bugs of the catalogue (Fork): a child that keeps
// the records of threads that did not survive (its first wait for them —
// the seed's "they're just taking too long to die" — never ends), a child
// that blocks on a runtime lock a vanished thread held (bdwgc #816/#909),
// and a child whose runtime is otherwise unusable: it must collect, spawn,
// adopt a foreign thread, stop the world and leave with its counters where
// they started.
//
// Members, by role(i) (i % 5, with at most two stoppers and eight serial
// adopters whatever the thread count, so that 64 threads measure forks, not
// a stop storm that starves exits): running managed code that allocates;
// taking and releasing shared runtime locks; stopping and restarting the
// world; foreign threads adopted one after another (a fork lands
// mid-adoption); foreign threads sitting inside a callback. fork-busy forks a few times
// per cycle with every member busy; fork-storm forks every few ms while
// managed threads are spawned and exit around it, its children doing less.
//
// Invariants checked in each child (fork_common.h judges it): the runtime
// lists only the forking thread (after asking any other it lists to end
// and joining it, as the seed's save-application does); collect, spawn and
// join, a foreign thread's callback, a stop-the-world with a spawned thread
// running all succeed; records_live and thread_handles end where they began;
// no integrity violation.
#include <pthread.h>
#include <sched.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <chrono>
#include <vector>

#include <fmt/format.h>

#include "common.h"
#include "fork_common.h"

namespace threadlab {
namespace {

constexpr unsigned kChildTimeoutMs = 5000;

struct Shared {
  Context* ctx = nullptr;
  std::atomic<bool> stop{false};
  std::atomic<int> running{0};
  tl_adapter_handle locks[2] = {0, 0};
  bool churn = false;  // fork-storm: managed threads spawned and exiting
};

struct Member {
  Shared* s;
  int i;
};

enum Role { kRunning = 0, kLocking = 1, kStopping = 2, kAdopted = 3, kInCallback = 4 };
int role(int i) {
  const int r = i % 5;
  if (r == kStopping && i >= 10) return kRunning;
  if (r == kAdopted && i >= 40) return kInCallback;
  return r;
}

void allocate_some(const tl_adapter* rt, int n) {
  for (int k = 0; k < n; ++k) rt->alloc(16 + 48 * static_cast<size_t>(k % 8));
}

void short_life(void* p) { allocate_some(static_cast<Shared*>(p)->ctx->rt, 32); }

void managed_member(void* p) {
  auto* m = static_cast<Member*>(p);
  Shared& s = *m->s;
  const tl_adapter* rt = s.ctx->rt;
  bool counted = false;
  while (!s.stop.load(std::memory_order_relaxed)) {
    switch (role(m->i)) {
      case 0:
        if (s.churn) {
          tl_adapter_thread_id t = 0;
          if (rt->spawn("churn", short_life, &s, &t) == TL_ADAPTER_OK) rt->join(t);
        } else {
          allocate_some(rt, 16);
        }
        break;
      case 1: {
        const tl_adapter_handle l = s.locks[(m->i / 5) % 2];
        const int rc = rt->lock(l);
        if (rc == TL_ADAPTER_OK || rc == TL_ADAPTER_OWNER_DIED) {
          allocate_some(rt, 4);
          rt->unlock(l);
        }
        break;
      }
      case 2: {
        // A stop now and then, not back to back: a stop storm starves exits
        // of the lifecycle lock (writer-preferred) and says nothing about fork.
        if (rt->suspend_all() == TL_ADAPTER_OK) rt->resume_all();
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
        while (std::chrono::steady_clock::now() < until && !s.stop.load(std::memory_order_relaxed)) {
          rt->safepoint();
          sched_yield();
        }
        break;
      }
      default: break;
    }
    if (!counted) {
      counted = true;
      s.running.fetch_add(1);
    }
    rt->safepoint();
  }
}

void* foreign_member(void* p) {
  auto* m = static_cast<Member*>(p);
  Shared& s = *m->s;
  const tl_adapter* rt = s.ctx->rt;
  thread_started();
  if (role(m->i) == kAdopted) {
    // Adopted one after another: each short-lived thread's first callback
    // adopts it, its exit releases the record.
    bool counted = false;
    while (!s.stop.load(std::memory_order_relaxed)) {
      scn::run_foreign(1, [&](int) {
        if (rt->callback_enter() != TL_ADAPTER_OK) return;
        allocate_some(rt, 8);
        rt->callback_exit();
      });
      if (!counted) {
        counted = true;
        s.running.fetch_add(1);
      }
    }
    return nullptr;
  }
  // Sitting inside a callback.
  if (rt->callback_enter() != TL_ADAPTER_OK) {
    s.running.fetch_add(1);
    return nullptr;
  }
  s.running.fetch_add(1);
  while (!s.stop.load(std::memory_order_relaxed)) {
    allocate_some(rt, 2);
    rt->safepoint();
    sched_yield();
  }
  rt->callback_exit();
  return nullptr;
}

uint64_t counter(const tl_adapter* rt, const char* name) {
  tl_adapter_counter c[32];
  size_t n = 0;
  if (rt->counters(c, 32, &n) != TL_ADAPTER_OK) return ~uint64_t{0};
  for (size_t i = 0; i < n && i < 32; ++i)
    if (std::strcmp(c[i].name, name) == 0) return c[i].value;
  return ~uint64_t{0};
}

#define CHILD_REQUIRE(cond, ...)                  \
  do {                                            \
    if (!(cond)) {                                \
      why = fmt::format(__VA_ARGS__);             \
      return 1;                                   \
    }                                             \
  } while (0)

void child_spawned(void* p) { allocate_some(static_cast<const tl_adapter*>(p), 200); }

// clang 14's ThreadSanitizer and AddressSanitizer runtimes hold no locks of
// their own across fork(): in the child of a multi-threaded fork, a new
// thread can crash inside TSan's own slot bookkeeping (__tsan::
// SlotAttachAndLock, SIGSEGV while the new thread still has every signal
// blocked: a silent death, seen 1 run in 5) or wait for good on an ASan
// allocator lock that a vanished thread held (fork-storm's child, every
// CI rehearsal). Neither is the runtime's: under those sanitizers the child
// starts no thread (no spawn, no foreign callback) and checks the rest.
#if defined(TL_UNDER_TSAN) || defined(TL_UNDER_ASAN)
constexpr bool kChildStartsThreads = false;
#else
constexpr bool kChildStartsThreads = true;
#endif

// What every child does; `full` adds the adoption, the stop and the
// counters (fork-storm's children only collect, spawn and list).
int child_work(Context& ctx, std::string& why, bool full) {
  const tl_adapter* rt = ctx.rt;
  const tl_adapter_thread_id self = rt->self();
  // The seed's save-application: every other thread still listed is asked
  // to end and joined. Only this thread survived the fork: nobody else may
  // be listed, and joining one that is would wait for good.
  tl_adapter_thread list[256];
  size_t n = 0;
  CHILD_REQUIRE(rt->thread_list(list, 256, &n) == TL_ADAPTER_OK, "thread_list: {}", rt->last_error());
  size_t others = 0;
  for (size_t i = 0; i < n && i < 256; ++i) {
    if (list[i].id == self) continue;
    ++others;
    rt->kill(list[i].id);
    rt->join(list[i].id);
  }
  CHILD_REQUIRE(others == 0, "the child's runtime listed {} thread(s) besides the forking one", others);
  const uint64_t live0 = counter(rt, "records_live"), handles0 = counter(rt, "thread_handles");
  CHILD_REQUIRE(rt->collect() == TL_ADAPTER_OK, "collect: {}", rt->last_error());
  tl_adapter_thread_id t = 0;
  if (kChildStartsThreads) {
    CHILD_REQUIRE(rt->spawn("fork-child-spawned", child_spawned, const_cast<tl_adapter*>(rt), &t) == TL_ADAPTER_OK,
                  "spawn: {}", rt->last_error());
    CHILD_REQUIRE(rt->join(t) == TL_ADAPTER_OK, "join: {}", rt->last_error());
  }
  if (!full) return 0;
  if (kChildStartsThreads) {
    std::atomic<int> adopted{0};
    scn::run_foreign(1, [&](int) {
      if (rt->callback_enter() != TL_ADAPTER_OK) return;
      if (rt->alloc(64) && rt->self() != 0) adopted.store(1);
      rt->callback_exit();
    });
    CHILD_REQUIRE(adopted.load() == 1, "a foreign thread could not call back: {}", rt->last_error());
    CHILD_REQUIRE(rt->spawn("fork-child-running", child_spawned, const_cast<tl_adapter*>(rt), &t) == TL_ADAPTER_OK,
                  "spawn: {}", rt->last_error());
  }
  CHILD_REQUIRE(rt->suspend_all() == TL_ADAPTER_OK, "suspend_all: {}", rt->last_error());
  CHILD_REQUIRE(rt->resume_all() == TL_ADAPTER_OK, "resume_all: {}", rt->last_error());
  if (kChildStartsThreads) CHILD_REQUIRE(rt->join(t) == TL_ADAPTER_OK, "join: {}", rt->last_error());
  CHILD_REQUIRE(rt->collect() == TL_ADAPTER_OK, "collect: {}", rt->last_error());
  tl_adapter_violation v[4];
  const int nv = rt->check_integrity(v, 4);
  CHILD_REQUIRE(nv == 0, "integrity: {}", nv > 0 ? v[0].what : rt->last_error());
  const uint64_t live1 = counter(rt, "records_live"), handles1 = counter(rt, "thread_handles");
  CHILD_REQUIRE(live1 == live0 && handles1 == handles0,
                "leak in the child: records_live {} -> {}, thread_handles {} -> {}", live0, live1, handles0, handles1);
  return 0;
}

// Every member started (and running) for one cycle, and stopped and joined
// at its end.
class Crowd {
 public:
  // False (with a finding) when the shared locks could not be made.
  bool start(Context& ctx, bool churn) {
    ctx_ = &ctx;
    s_.ctx = &ctx;
    s_.churn = churn;
    if (!ctx.call.lock_new("fork-shared-0", &s_.locks[0]) || !ctx.call.lock_new("fork-shared-1", &s_.locks[1]))
      return false;
    const int n = std::max(5, ctx.params.threads);
    members_.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      members_[i] = {&s_, i};
      if (role(i) <= kStopping) {
        tl_adapter_thread_id id = 0;
        if (ctx.call.spawn("fork-member", managed_member, &members_[i], &id)) managed_.push_back(id);
      } else {
        pthread_t t;
        if (pthread_create(&t, nullptr, foreign_member, &members_[i]) == 0) foreign_.push_back(t);
      }
    }
    started_ = static_cast<int>(managed_.size() + foreign_.size());
    // Polling: a member may stop the world meanwhile, and this thread is
    // managed (under the hybrid policy it would cost every stop its grace).
    for (int seen = 0; seen < started_ && !ctx.has_findings();) {
      ctx.rt->safepoint();
      sched_yield();
      const int now = s_.running.load();
      if (now > seen) ctx.progress(static_cast<uint64_t>(now - seen));  // members starting
      seen = now;
    }
    return true;
  }
  int started() const { return started_; }
  ~Crowd() {
    if (!ctx_) return;
    s_.stop.store(true);
    for (auto id : managed_) ctx_->call.join(id);
    for (auto t : foreign_) pthread_join(t, nullptr);
    for (auto l : s_.locks)
      if (l) ctx_->call.lock_free(l);
    ctx_->progress();
  }

 private:
  Context* ctx_ = nullptr;
  Shared s_;
  std::vector<Member> members_;
  std::vector<tl_adapter_thread_id> managed_;
  std::vector<pthread_t> foreign_;
  int started_ = 0;
};

void run_cycle(Context& ctx, bool storm) {
  Crowd crowd;
  if (!crowd.start(ctx, storm)) return;
  // fork-busy: a few forks with everyone busy; fork-storm: one every few ms.
  const int forks = storm ? 4 * ctx.params.iterations : ctx.params.iterations;
  for (int k = 0; k < forks && !ctx.has_findings(); ++k) {
    const bool ok = scn::fork_child_checked(
        ctx, storm ? "fork-storm child" : "fork-busy child",
        [&ctx, storm](std::string& why) { return child_work(ctx, why, !storm); }, kChildTimeoutMs);
    if (!ok) break;
    ctx.progress();
    if (storm) {  // the next fork in 2 to 5 ms (pacing, not synchronisation), polling meanwhile
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2 + ctx.random(0) % 4);
      while (std::chrono::steady_clock::now() < until) {
        ctx.rt->safepoint();
        sched_yield();
      }
    }
  }
}

// fork-to-dump (seed 003): with every member busy, an image saved in this
// multi-threaded process must be refused; tl_fork_and_save-style saves —
// from the driver (the initial thread) and from a spawned member, whose
// request is run by the driver at a safepoint — must write an image that
// checks, while every member keeps running.
struct DumpFromMember {
  Context* ctx;
  std::string path;
  std::atomic<int> rc{1}, status{-2};
  std::atomic<bool> done{false};
};

void dump_from_member(void* p) {
  auto* d = static_cast<DumpFromMember*>(p);
  int status = -2;
  d->rc.store(d->ctx->rt->fork_and_save(d->path.c_str(), kChildTimeoutMs, &status));
  d->status.store(status);
  d->done.store(true);
}

std::string image_path(const char* who, int k) {
  const char* dir = std::getenv("TMPDIR");
  return fmt::format("{}/threadlab-{}-{}-{}.img", dir && *dir ? dir : "/tmp", who, getpid(), k);
}

void dump_cycle(Context& ctx) {
  const tl_adapter* rt = ctx.rt;
  Crowd crowd;
  if (!crowd.start(ctx, false)) return;
  const int started = crowd.started();
  for (int k = 0; k < ctx.params.iterations && !ctx.has_findings(); ++k) {
    // 1. Not from here: other threads run and change the heap.
    const std::string here = image_path("refused", k);
    if (rt->save_image(here.c_str()) == TL_ADAPTER_OK) {
      const bool checks = rt->image_check(here.c_str()) == TL_ADAPTER_OK;
      ctx.finding(Verdict::Invariant,
                  fmt::format("save_image wrote {} while {} other threads ran (it must refuse a world that is not "
                              "single-threaded); image_check: {}",
                              here, started, checks ? "passes (by luck)" : rt->last_error()));
      std::remove(here.c_str());
      break;
    }
    // 2. From the driver, the initial thread: fork there, the child saves.
    const std::string mine = image_path("driver", k);
    int status = -2;
    if (!ctx.ok(rt->fork_and_save(mine.c_str(), kChildTimeoutMs, &status), "fork_and_save (from the driver)")) break;
    if (!ctx.ok(rt->image_check(mine.c_str()), "image_check (the driver's image)")) break;
    std::remove(mine.c_str());
    ctx.progress();
    // 3. From a spawned member: the driver runs the fork at its safepoints.
    DumpFromMember d;
    d.ctx = &ctx;
    d.path = image_path("member", k);
    tl_adapter_thread_id t = 0;
    if (!ctx.call.spawn("dump-requester", dump_from_member, &d, &t)) break;
    while (!d.done.load()) rt->safepoint();
    ctx.call.join(t);
    if (!ctx.ok(d.rc.load(), "fork_and_save (from a spawned thread)")) break;
    if (d.status.load() != 0) {
      ctx.finding(Verdict::Invariant, fmt::format("fork_and_save from a spawned thread: child status {}", d.status.load()));
      break;
    }
    if (!ctx.ok(rt->image_check(d.path.c_str()), "image_check (the member's image)")) break;
    std::remove(d.path.c_str());
    ctx.progress();
  }
}

void busy_cycle(Context& ctx) { run_cycle(ctx, false); }
void storm_cycle(Context& ctx) { run_cycle(ctx, true); }

constexpr uint64_t kCaps = TL_CAP_FORK | TL_CAP_SPAWN | TL_CAP_FOREIGN_CALLBACK | TL_CAP_SUSPEND | TL_CAP_COLLECT |
                           TL_CAP_LOCKS | TL_CAP_HEAP | TL_CAP_REGIONS | TL_CAP_THREAD_LIST | TL_CAP_COUNTERS |
                           TL_CAP_INTEGRITY | TL_CAP_KILL;

const RegisterScenario busy{{
    .name = "fork-busy",
    .tags = {"fork", "threads", "gc", "suspend", "locks"},
    .caps = kCaps,
    .description = "Fork while threads run and allocate, take runtime locks, stop the world, are being adopted "
                   "or sit in callbacks; the child must list only itself, collect, spawn, adopt a foreign "
                   "thread, stop the world and keep its counters flat.",
    .defaults = {.threads = 16, .iterations = 3, .cycles = 6, .warmup = 2},
    .timeout_s = 60,
    .cycle = busy_cycle,
    .catches = {{.defect = "child_keeps_vanished_records", .verdict = Verdict::Deadlock, .cycles = 1}},
}};

const RegisterScenario storm{{
    .name = "fork-storm",
    .tags = {"fork", "threads", "churn", "gc"},
    .caps = kCaps,
    .description = "Fork every few milliseconds while managed threads are spawned and exit, runtime locks change "
                   "hands, the world is stopped and foreign threads are adopted; each child collects, spawns "
                   "and exits.",
    .defaults = {.threads = 16, .iterations = 10, .cycles = 6, .warmup = 2},
    .timeout_s = 90,
    .cycle = storm_cycle,
    .catches = {{.defect = "child_lock_not_reinitialized", .verdict = Verdict::Deadlock, .cycles = 6}},
}};

const RegisterScenario dump{{
    .name = "fork-to-dump",
    .tags = {"fork", "image", "threads", "gc"},
    .caps = (kCaps & ~uint64_t{TL_CAP_FORK}) | TL_CAP_IMAGE,  // forks only through fork_and_save
    .description = "Seed 003's fork-to-dump: with threads busy, a heap image saved in the multi-threaded process "
                   "must be refused; saved from a forked child (forked on the initial thread, asked from it and "
                   "from a spawned thread) it must verify, while every thread keeps running.",
    .defaults = {.threads = 16, .iterations = 2, .cycles = 4, .warmup = 1},
    .timeout_s = 60,
    .cycle = dump_cycle,
    .catches = {{.defect = "save_image_while_threads_run", .verdict = Verdict::Invariant, .cycles = 1}},
}};

}  // namespace
}  // namespace threadlab
