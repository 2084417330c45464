// cpython_adapter_test.cpp — the cpython adapter module, loaded as the
// harness loads it (dlopen RTLD_NOW | RTLD_LOCAL, threadlab_adapter()), and
// every operation whose capability bit it sets.
//
// Each test initialises the adapter once per process (adapter.h: init runs
// once); CTest runs every test in a process of its own. Threads meet through
// condition variables and atomics only; no test depends on timing.
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <threadlab/adapter.h>

namespace {

const tl_adapter* load() {
  static const tl_adapter* a = [] {
    void* h = dlopen(TL_CPYTHON_MODULE, RTLD_NOW | RTLD_LOCAL);
    if (!h) return static_cast<const tl_adapter*>(nullptr);
    auto entry = reinterpret_cast<tl_adapter_entry_fn>(dlsym(h, TL_ADAPTER_ENTRY_SYMBOL));
    return entry ? entry() : nullptr;
  }();
  return a;
}

const tl_adapter* rt() {
  static const tl_adapter* a = [] {
    const tl_adapter* t = load();
    if (t && t->init() != TL_ADAPTER_OK) return static_cast<const tl_adapter*>(nullptr);
    return t;
  }();
  return a;
}

std::map<std::string, uint64_t> counters() {
  tl_adapter_counter c[32];
  size_t n = 0;
  std::map<std::string, uint64_t> m;
  if (rt()->counters(c, 32, &n) != TL_ADAPTER_OK) return m;
  for (size_t i = 0; i < n && i < 32; ++i) m[c[i].name] = c[i].value;
  return m;
}

// Run fn on a plain pthread (one the runtime did not create) and join it.
void on_foreign_thread(const std::function<void()>& fn) {
  std::thread t(fn);
  t.join();
}

struct Latch {  // one-shot: wait() returns once open() was called
  std::mutex mu;
  std::condition_variable cv;
  bool is_open = false;
  void open() {
    { std::lock_guard<std::mutex> g(mu); is_open = true; }
    cv.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> g(mu);
    cv.wait(g, [&] { return is_open; });
  }
};

const char* err() { return rt()->last_error ? rt()->last_error() : ""; }

TEST(CpythonAdapter, TableIsCompleteAndHonest) {
  const tl_adapter* a = load();
  ASSERT_NE(a, nullptr) << dlerror();
  EXPECT_EQ(a->abi_version, TL_ADAPTER_ABI_VERSION);
  EXPECT_EQ(a->struct_size, sizeof(tl_adapter));
  EXPECT_STREQ(a->name, "cpython");
  ASSERT_NE(a->init, nullptr);
#define TL_CAP_CHECK_(NAME, name, bit, needs)                             \
  if (a->caps & TL_CAP_##NAME) {                                          \
    EXPECT_TRUE(needs) << #name " set without its operations";            \
  }
  TL_CAPABILITIES(TL_CAP_CHECK_)
#undef TL_CAP_CHECK_
  // What CPython cannot honour stays clear (see the adapter's README).
  EXPECT_EQ(a->caps & (TL_CAP_SUSPEND | TL_CAP_HEAP | TL_CAP_KILL), 0u);
  const uint64_t offered = TL_CAP_SPAWN | TL_CAP_FOREIGN_CALLBACK | TL_CAP_INTERRUPT | TL_CAP_COLLECT | TL_CAP_FORK |
                           TL_CAP_VALUE_STACK | TL_CAP_COUNTERS | TL_CAP_THREAD_LIST | TL_CAP_REGIONS | TL_CAP_LOCKS;
  EXPECT_EQ(a->caps, offered) << "a bit was added or removed: exercise it here";
}

TEST(CpythonAdapter, InitAttachesTheInitialThreadOnce) {
  ASSERT_NE(rt(), nullptr);
  EXPECT_NE(rt()->self(), 0u);
  EXPECT_NE(rt()->init(), TL_ADAPTER_OK) << "a second init must fail";
  EXPECT_NE(std::string(err()), "");
  uint64_t foreign_self = 1;
  on_foreign_thread([&] { foreign_self = rt()->self(); });
  EXPECT_EQ(foreign_self, 0u) << "a thread that never called in has no record";
  // The initial thread is attached: it has a value stack.
  ASSERT_EQ(rt()->value_push(42), TL_ADAPTER_OK) << err();
  uintptr_t w = 0;
  ASSERT_EQ(rt()->value_pop(&w), TL_ADAPTER_OK) << err();
  EXPECT_EQ(w, 42u);
  EXPECT_NE(rt()->value_pop(&w), TL_ADAPTER_OK) << "underflow must fail";
}

void callback_on_attached(void* p) {  // a spawned thread calls back into its own runtime
  auto* ok = static_cast<std::atomic<bool>*>(p);
  const uint64_t id = rt()->self();
  bool good = rt()->value_push(5) == TL_ADAPTER_OK && rt()->callback_enter() == TL_ADAPTER_OK && rt()->self() == id;
  uintptr_t w = 0;
  good = good && rt()->value_pop(&w) == TL_ADAPTER_OK && w == 5;  // the same thread state: the same stack
  good = good && rt()->callback_exit() == TL_ADAPTER_OK && rt()->value_push(6) == TL_ADAPTER_OK &&
         rt()->value_pop(&w) == TL_ADAPTER_OK && w == 6;  // still attached after the callback
  *ok = good;
}

TEST(CpythonAdapter, CallbacksOnAttachedThreadsKeepTheirState) {
  ASSERT_NE(rt(), nullptr);
  const uint64_t states = counters()["thread_states"];
  ASSERT_EQ(rt()->callback_enter(), TL_ADAPTER_OK) << err();  // the initial thread
  EXPECT_EQ(counters()["thread_states"], states) << "no new thread state for an attached thread";
  ASSERT_EQ(rt()->callback_exit(), TL_ADAPTER_OK) << err();
  ASSERT_EQ(rt()->value_push(9), TL_ADAPTER_OK) << "the initial thread keeps its state: " << err();
  uintptr_t w = 0;
  ASSERT_EQ(rt()->value_pop(&w), TL_ADAPTER_OK) << err();
  std::atomic<bool> ok{false};
  tl_adapter_thread_id id = 0;
  ASSERT_EQ(rt()->spawn("caller", callback_on_attached, &ok, &id), TL_ADAPTER_OK) << err();
  ASSERT_EQ(rt()->join(id), TL_ADAPTER_OK) << err();
  EXPECT_TRUE(ok.load());
  EXPECT_EQ(counters()["thread_states"], states);
  int rc = -99;
  on_foreign_thread([&] { rc = rt()->safepoint(); });
  EXPECT_EQ(rc, TL_ADAPTER_OK) << "a safe point on a thread the runtime does not know is a no-op";
}

struct SpawnRecord {
  std::atomic<uint64_t> self{0};
  std::atomic<bool> stack_ok{false};
  uintptr_t tag = 0;
};

void spawned_body(void* p) {
  auto* r = static_cast<SpawnRecord*>(p);
  r->self = rt()->self();
  bool ok = true;
  for (uintptr_t i = 0; i < 16; ++i) ok = ok && rt()->value_push(r->tag + i) == TL_ADAPTER_OK;
  for (uintptr_t i = 16; i-- > 0;) {
    uintptr_t w = 0;
    ok = ok && rt()->value_pop(&w) == TL_ADAPTER_OK && w == r->tag + i;
  }
  r->stack_ok = ok;
}

TEST(CpythonAdapter, SpawnJoinIdsNeverReused) {
  ASSERT_NE(rt(), nullptr);
  const uint64_t states_before = counters()["thread_states"];
  uint64_t prev_max = 0;
  for (int wave = 0; wave < 3; ++wave) {
    std::vector<SpawnRecord> recs(8);
    std::vector<tl_adapter_thread_id> ids(recs.size());
    for (size_t i = 0; i < recs.size(); ++i) {
      recs[i].tag = (static_cast<uintptr_t>(wave) << 24) | (i << 8);
      ASSERT_EQ(rt()->spawn("t", spawned_body, &recs[i], &ids[i]), TL_ADAPTER_OK) << err();
    }
    for (auto id : ids) ASSERT_EQ(rt()->join(id), TL_ADAPTER_OK) << err();
    std::set<uint64_t> seen;
    for (size_t i = 0; i < recs.size(); ++i) {
      EXPECT_EQ(recs[i].self.load(), ids[i]) << "self() in the child is the id spawn returned";
      EXPECT_TRUE(recs[i].stack_ok.load()) << "each spawned thread has a value stack of its own";
      EXPECT_GT(ids[i], prev_max) << "ids are never reused";
      seen.insert(ids[i]);
    }
    EXPECT_EQ(seen.size(), recs.size());
    prev_max = *seen.rbegin();
    EXPECT_NE(rt()->join(ids[0]), TL_ADAPTER_OK) << "a second join must fail";
  }
  auto c = counters();
  EXPECT_EQ(c["thread_states"], states_before) << "spawned threads' states are deleted at exit";
  EXPECT_EQ(c["threads_unjoined"], 0u);
}

TEST(CpythonAdapter, ForeignCallbacksAdoptNestAndRelease) {
  ASSERT_NE(rt(), nullptr);
  const auto before = counters();
  on_foreign_thread([&] {
    EXPECT_EQ(rt()->self(), 0u);
    uintptr_t w = 0;
    EXPECT_NE(rt()->value_push(1), TL_ADAPTER_OK) << "no thread state outside a callback";
    EXPECT_NE(rt()->callback_exit(), TL_ADAPTER_OK) << "exit without enter must fail";
    ASSERT_EQ(rt()->callback_enter(), TL_ADAPTER_OK) << err();
    const uint64_t id = rt()->self();
    EXPECT_NE(id, 0u);
    EXPECT_EQ(counters()["thread_states"], before.at("thread_states") + 1) << "adoption made a thread state";
    ASSERT_EQ(rt()->value_push(7), TL_ADAPTER_OK) << err();
    ASSERT_EQ(rt()->callback_enter(), TL_ADAPTER_OK) << err();  // nested: same state, same stack
    EXPECT_EQ(rt()->self(), id);
    ASSERT_EQ(rt()->value_pop(&w), TL_ADAPTER_OK) << err();
    EXPECT_EQ(w, 7u);
    ASSERT_EQ(rt()->callback_exit(), TL_ADAPTER_OK) << err();
    ASSERT_EQ(rt()->value_push(8), TL_ADAPTER_OK) << "the outer callback still has its state: " << err();
    ASSERT_EQ(rt()->value_pop(&w), TL_ADAPTER_OK) << err();
    ASSERT_EQ(rt()->callback_exit(), TL_ADAPTER_OK) << err();
    EXPECT_EQ(counters()["thread_states"], before.at("thread_states")) << "the outermost exit deletes the state";
    EXPECT_NE(rt()->value_push(1), TL_ADAPTER_OK) << "no thread state after the last callback";
    ASSERT_EQ(rt()->callback_enter(), TL_ADAPTER_OK) << err();
    EXPECT_EQ(rt()->self(), id) << "the adapter's record of a thread outlives its thread states";
    ASSERT_EQ(rt()->callback_exit(), TL_ADAPTER_OK) << err();
  });
  const auto after = counters();
  EXPECT_EQ(after.at("threads_live"), before.at("threads_live")) << "a foreign thread's record ends with it";
  EXPECT_EQ(after.at("thread_states"), before.at("thread_states"));
}

TEST(CpythonAdapter, CallbacksWaitingForEachOtherDoNotHoldTheGil) {
  ASSERT_NE(rt(), nullptr);
  // A inside its callback waits until B is inside its own: with the GIL held
  // across a callback this would deadlock.
  Latch a_in, b_in;
  std::atomic<uint64_t> ids[2] = {0, 0};
  std::thread a([&] {
    ASSERT_EQ(rt()->callback_enter(), TL_ADAPTER_OK) << err();
    ids[0] = rt()->self();
    a_in.open();
    b_in.wait();
    EXPECT_EQ(rt()->value_push(0xA), TL_ADAPTER_OK);
    uintptr_t w = 0;
    EXPECT_EQ(rt()->value_pop(&w), TL_ADAPTER_OK);
    EXPECT_EQ(w, 0xAu);
    EXPECT_EQ(rt()->callback_exit(), TL_ADAPTER_OK);
  });
  std::thread b([&] {
    a_in.wait();
    ASSERT_EQ(rt()->callback_enter(), TL_ADAPTER_OK) << err();
    ids[1] = rt()->self();
    b_in.open();
    EXPECT_EQ(rt()->callback_exit(), TL_ADAPTER_OK);
  });
  a.join();
  b.join();
  EXPECT_NE(ids[0].load(), ids[1].load());
}

struct Target {
  std::atomic<bool> stop{false};
  std::atomic<bool> in_window{false};
  std::atomic<bool> window_go{false};
  std::atomic<uint64_t> ran{0};
  std::atomic<uint64_t> ran_on{0};
  std::atomic<uint64_t> ran_in_window{0};
  std::atomic<bool> ready{false};
};

void on_interrupt(void* p) {
  auto* t = static_cast<Target*>(p);
  t->ran_on = rt()->self();
  if (t->in_window.load()) t->ran_in_window.fetch_add(1);
  uintptr_t w = 0;  // managed code: it uses the value stack
  rt()->value_push(0x1e7);
  rt()->value_pop(&w);
  t->ran.fetch_add(1);
}

void polling_body(void* p) {
  auto* t = static_cast<Target*>(p);
  t->ready = true;
  while (!t->stop.load()) {
    rt()->safepoint();
    if (t->window_go.exchange(false)) {
      rt()->no_interrupt_begin();
      t->in_window = true;
      const uint64_t before = t->ran.load();
      for (int i = 0; i < 100; ++i) rt()->safepoint();  // deferred: the interrupt is already queued
      if (t->ran.load() != before) t->ran_in_window.fetch_add(1);
      t->in_window = false;
      rt()->no_interrupt_end();  // runs it
    }
  }
}

TEST(CpythonAdapter, InterruptRunsOnTheTargetAtItsSafePointOnce) {
  ASSERT_NE(rt(), nullptr);
  Target t;
  tl_adapter_thread_id id = 0;
  ASSERT_EQ(rt()->spawn("poller", polling_body, &t, &id), TL_ADAPTER_OK) << err();
  while (!t.ready.load()) sched_yield();
  for (uint64_t k = 1; k <= 20; ++k) {
    ASSERT_EQ(rt()->interrupt(id, on_interrupt, &t), TL_ADAPTER_OK) << err();
    while (t.ran.load() < k) sched_yield();
  }
  EXPECT_EQ(t.ran.load(), 20u) << "each interrupt runs exactly once";
  EXPECT_EQ(t.ran_on.load(), id) << "on its target";
  EXPECT_EQ(rt()->interrupt(0, on_interrupt, &t), TL_ADAPTER_EFAIL);
  t.stop = true;
  ASSERT_EQ(rt()->join(id), TL_ADAPTER_OK) << err();
  EXPECT_NE(rt()->interrupt(id, on_interrupt, &t), TL_ADAPTER_OK) << "an exited thread cannot be interrupted";
  EXPECT_EQ(counters()["interrupts_pending"], 0u);
}

void window_body(void* p) {
  auto* t = static_cast<Target*>(p);
  rt()->no_interrupt_begin();
  t->in_window = true;
  t->ready = true;
  while (!t->window_go.load()) rt()->safepoint();  // deferred inside the window
  const uint64_t before = t->ran.load();
  for (int i = 0; i < 100; ++i) rt()->safepoint();
  if (t->ran.load() != before) t->ran_in_window.fetch_add(1);
  t->in_window = false;
  rt()->no_interrupt_end();  // the deferred interrupt runs here
}

TEST(CpythonAdapter, NoInterruptWindowDefersInterrupts) {
  ASSERT_NE(rt(), nullptr);
  Target t;
  tl_adapter_thread_id id = 0;
  ASSERT_EQ(rt()->spawn("window", window_body, &t, &id), TL_ADAPTER_OK) << err();
  while (!t.ready.load()) sched_yield();
  ASSERT_EQ(rt()->interrupt(id, on_interrupt, &t), TL_ADAPTER_OK) << err();
  t.window_go = true;
  ASSERT_EQ(rt()->join(id), TL_ADAPTER_OK) << err();
  EXPECT_EQ(t.ran.load(), 1u) << "it runs once the window closes";
  EXPECT_EQ(t.ran_in_window.load(), 0u) << "never inside the window";
  EXPECT_NE(rt()->no_interrupt_end(), TL_ADAPTER_OK) << "end without begin must fail";
}

TEST(CpythonAdapter, InterruptQueuedForAThreadBetweenCallbacksIsDroppedAtItsExit) {
  ASSERT_NE(rt(), nullptr);
  Target t;
  Latch left, sent;
  std::atomic<uint64_t> id{0};
  std::thread f([&] {
    ASSERT_EQ(rt()->callback_enter(), TL_ADAPTER_OK) << err();
    id = rt()->self();
    ASSERT_EQ(rt()->callback_exit(), TL_ADAPTER_OK) << err();
    left.open();
    sent.wait();  // exits without another safe point
  });
  left.wait();
  EXPECT_EQ(rt()->interrupt(id.load(), on_interrupt, &t), TL_ADAPTER_OK) << err();
  sent.open();
  f.join();
  EXPECT_EQ(t.ran.load(), 0u);
  EXPECT_EQ(counters()["interrupts_pending"], 0u);
}

struct RegionProbe {
  Latch inside, release;
  std::atomic<int> rc_mismatch{0};
};

void blocking_body(void* p) {
  auto* r = static_cast<RegionProbe*>(p);
  r->rc_mismatch = rt()->blocking_end();  // no region open: must fail
  rt()->foreign_begin();
  r->rc_mismatch = r->rc_mismatch == TL_ADAPTER_OK ? 1 : rt()->blocking_end();  // wrong kind: must fail
  rt()->foreign_end();
  rt()->blocking_begin();
  r->inside.open();
  r->release.wait();
  rt()->blocking_end();
}

TEST(CpythonAdapter, RegionsMatchAndShowInThreadList) {
  ASSERT_NE(rt(), nullptr);
  RegionProbe r;
  tl_adapter_thread_id id = 0;
  ASSERT_EQ(rt()->spawn("blocker", blocking_body, &r, &id), TL_ADAPTER_OK) << err();
  r.inside.wait();
  tl_adapter_thread list[64];
  size_t n = 0;
  ASSERT_EQ(rt()->thread_list(list, 64, &n), TL_ADAPTER_OK);
  std::string state, initial;
  for (size_t i = 0; i < n && i < 64; ++i) {
    if (list[i].id == id) state = list[i].state;
    if (list[i].id == rt()->self()) initial = list[i].name;
  }
  EXPECT_EQ(state, "blocking");
  EXPECT_EQ(initial, "initial");
  r.release.open();
  ASSERT_EQ(rt()->join(id), TL_ADAPTER_OK) << err();
  EXPECT_NE(r.rc_mismatch.load(), TL_ADAPTER_OK) << "a mismatched region end must fail";
}

TEST(CpythonAdapter, CollectFromAttachedAndUnattachedThreads) {
  ASSERT_NE(rt(), nullptr);
  const uint64_t states = counters()["thread_states"];
  EXPECT_EQ(rt()->collect(), TL_ADAPTER_OK) << err();
  int rc = -99;
  on_foreign_thread([&] { rc = rt()->collect(); });
  EXPECT_EQ(rc, TL_ADAPTER_OK) << err();
  EXPECT_EQ(counters()["thread_states"], states) << "the state made for an unattached caller is gone";
  EXPECT_GT(counters()["gc_tracked_objects"], 0u);
}

void busy_body(void* p) {
  auto* stop = static_cast<std::atomic<bool>*>(p);
  uintptr_t w = 0;
  while (!stop->load()) {
    rt()->value_push(1);
    rt()->value_pop(&w);
    rt()->safepoint();
  }
}

void child_spawned(void* p) { static_cast<std::atomic<uint64_t>*>(p)->store(rt()->self()); }

// In a forked child: only the forking thread is left, and the runtime works.
int child_checks() {
  tl_adapter_thread list[64];
  size_t n = 0;
  if (rt()->thread_list(list, 64, &n) != TL_ADAPTER_OK || n != 1) return 10;
  if (counters()["thread_states"] != 1) return 11;
  if (rt()->collect() != TL_ADAPTER_OK) return 12;
  std::atomic<uint64_t> self{0};
  tl_adapter_thread_id id = 0;
  if (rt()->spawn("child", child_spawned, &self, &id) != TL_ADAPTER_OK || rt()->join(id) != TL_ADAPTER_OK) return 13;
  if (self.load() != id) return 14;
  int rc = 0;
  on_foreign_thread([&] {
    if (rt()->callback_enter() != TL_ADAPTER_OK || rt()->value_push(3) != TL_ADAPTER_OK) rc = 15;
    uintptr_t w = 0;
    if (rc == 0 && (rt()->value_pop(&w) != TL_ADAPTER_OK || w != 3 || rt()->callback_exit() != TL_ADAPTER_OK))
      rc = 16;
  });
  return rc;
}

TEST(CpythonAdapter, ForkWithBusyThreads) {
  ASSERT_NE(rt(), nullptr);
  std::atomic<bool> stop{false};
  std::vector<tl_adapter_thread_id> ids(4);
  for (auto& id : ids) ASSERT_EQ(rt()->spawn("busy", busy_body, &stop, &id), TL_ADAPTER_OK) << err();
  for (int round = 0; round < 3; ++round) {
    ASSERT_EQ(rt()->fork_prepare(), TL_ADAPTER_OK) << err();
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = rt()->fork_child() == TL_ADAPTER_OK ? child_checks() : 9;
      _exit(rc);
    }
    ASSERT_EQ(rt()->fork_parent(), TL_ADAPTER_OK) << err();
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "child died: status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's check that failed (see child_checks)";
  }
  EXPECT_NE(rt()->fork_parent(), TL_ADAPTER_OK) << "fork_parent without fork_prepare must fail";
  // A foreign thread that is not attached forks too (it is given a state).
  on_foreign_thread([&] {
    ASSERT_EQ(rt()->fork_prepare(), TL_ADAPTER_OK) << err();
    pid_t pid = fork();
    if (pid == 0) _exit(rt()->fork_child() == TL_ADAPTER_OK && rt()->collect() == TL_ADAPTER_OK ? 0 : 1);
    ASSERT_EQ(rt()->fork_parent(), TL_ADAPTER_OK) << err();
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  });
  stop = true;
  for (auto id : ids) ASSERT_EQ(rt()->join(id), TL_ADAPTER_OK) << err();
}

TEST(CpythonAdapter, CountersAreLevelsThatReturnToBaseline) {
  ASSERT_NE(rt(), nullptr);
  const auto before = counters();
  for (const char* name : {"threads_live", "threads_unjoined", "thread_states", "gc_tracked_objects",
                           "interrupts_pending"})
    EXPECT_EQ(before.count(name), 1u) << name;
  std::vector<std::thread> ts;
  for (int i = 0; i < 8; ++i)
    ts.emplace_back([] {
      if (rt()->callback_enter() == TL_ADAPTER_OK) rt()->callback_exit();
    });
  for (auto& t : ts) t.join();
  const auto after = counters();
  EXPECT_EQ(after.at("threads_live"), before.at("threads_live"));
  EXPECT_EQ(after.at("thread_states"), before.at("thread_states"));
}

struct Contended {
  tl_adapter_handle lock = 0;
  uint64_t count = 0;  // guarded by lock
  std::atomic<int> failures{0};
};

void contender(void* p) {
  auto* c = static_cast<Contended*>(p);
  for (int i = 0; i < 2000; ++i) {
    if (rt()->lock(c->lock) != TL_ADAPTER_OK) c->failures.fetch_add(1);
    ++c->count;
    if (rt()->unlock(c->lock) != TL_ADAPTER_OK) c->failures.fetch_add(1);
  }
}

TEST(CpythonAdapter, LocksExcludeAndShowTheirWaiters) {
  ASSERT_NE(rt(), nullptr);
  Contended c;
  ASSERT_EQ(rt()->lock_new("contended", &c.lock), TL_ADAPTER_OK) << err();
  std::vector<tl_adapter_thread_id> ids(4);
  for (auto& id : ids) ASSERT_EQ(rt()->spawn("contender", contender, &c, &id), TL_ADAPTER_OK) << err();
  for (auto id : ids) ASSERT_EQ(rt()->join(id), TL_ADAPTER_OK) << err();
  EXPECT_EQ(c.count, 4u * 2000u) << "the lock excludes";
  EXPECT_EQ(c.failures.load(), 0);
  EXPECT_NE(rt()->unlock(c.lock), TL_ADAPTER_OK) << "unlock of a lock nobody holds must fail";

  // A waiter shows in the wait-for graph, with the holder as owner.
  ASSERT_EQ(rt()->lock(c.lock), TL_ADAPTER_OK) << err();
  tl_adapter_thread_id waiter = 0;
  ASSERT_EQ(rt()->spawn("waiter", contender, &c, &waiter), TL_ADAPTER_OK) << err();
  tl_adapter_wait_edge e[8];
  size_t n = 0;
  while (n == 0) ASSERT_EQ(rt()->wait_edges(e, 8, &n), TL_ADAPTER_OK);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(e[0].waiter, waiter);
  EXPECT_EQ(e[0].owner, rt()->self());
  EXPECT_STREQ(e[0].lock_name, "contended");
  EXPECT_NE(rt()->lock_free(c.lock), TL_ADAPTER_OK) << "a held lock cannot be freed";
  ASSERT_EQ(rt()->unlock(c.lock), TL_ADAPTER_OK) << err();
  ASSERT_EQ(rt()->join(waiter), TL_ADAPTER_OK) << err();
  EXPECT_EQ(rt()->wait_edges(e, 8, &n), TL_ADAPTER_OK);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(rt()->lock_free(c.lock), TL_ADAPTER_OK) << err();
}

}  // namespace
