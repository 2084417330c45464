// threads_test.cpp — spawn, join, exit, list, and their error paths.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "threadlab/runtime.h"

namespace {

std::atomic<int> g_ran{0};
void count_fn(void*) { g_ran.fetch_add(1); }

struct Gate {
  std::atomic<bool> open{false};
  std::atomic<int> arrived{0};
};
void wait_gate(void* p) {
  auto* g = static_cast<Gate*>(p);
  g->arrived.fetch_add(1);
  while (!g->open.load()) std::this_thread::yield();
}

// 1 if the calling thread's mask blocks `blocked` and lets `open` through.
int mask_is(int blocked, int open) {
  sigset_t cur;
  pthread_sigmask(SIG_BLOCK, nullptr, &cur);
  return sigismember(&cur, blocked) == 1 && sigismember(&cur, open) == 0 ? 1 : 0;
}

bool find_thread(tl_thread_id id, tl_thread_info* out) {
  std::vector<tl_thread_info> buf(4096);
  size_t n = 0;
  EXPECT_EQ(tl_thread_list(buf.data(), buf.size(), &n), TL_OK);
  for (size_t i = 0; i < std::min(n, buf.size()); ++i)
    if (buf[i].id == id) {
      *out = buf[i];
      return true;
    }
  return false;
}

}  // namespace

TEST(Threads, SpawnRunsAndJoinReleases) {
  tl_counters before{}, after{};
  ASSERT_EQ(tl_get_counters(&before), TL_OK);
  int start = g_ran.load();
  tl_thread_id id = 0;
  ASSERT_EQ(tl_spawn("worker", count_fn, nullptr, &id), TL_OK);
  EXPECT_NE(id, 0u);
  ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_EQ(g_ran.load(), start + 1);
  ASSERT_EQ(tl_get_counters(&after), TL_OK);
  EXPECT_EQ(after.records_live, before.records_live);
  EXPECT_EQ(after.spawns_total, before.spawns_total + 1);
}

TEST(Threads, ListShowsNameStateAndFlags) {
  Gate g;
  tl_thread_id id = 0;
  ASSERT_EQ(tl_spawn("listed-one", wait_gate, &g, &id), TL_OK);
  while (g.arrived.load() == 0) std::this_thread::yield();
  tl_thread_info info{};
  ASSERT_TRUE(find_thread(id, &info));
  EXPECT_STREQ(info.name, "listed-one");
  EXPECT_EQ(info.state, TL_STATE_MANAGED);
  EXPECT_TRUE(info.flags & TL_FLAG_SPAWNED);
  EXPECT_GT(info.kernel_tid, 0);
  tl_thread_info self{};
  ASSERT_TRUE(find_thread(tl_self(), &self));
  EXPECT_TRUE(self.flags & TL_FLAG_INITIAL);
  g.open = true;
  ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_FALSE(find_thread(id, &info));
}

TEST(Threads, ExitEndsTheThreadEarly) {
  static std::atomic<bool> after_exit{false};
  after_exit = false;  // static: set again for --gtest_repeat
  tl_thread_id id = 0;
  ASSERT_EQ(tl_spawn("exiter", [](void*) { tl_exit(); after_exit = true; }, nullptr, &id), TL_OK);
  ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_FALSE(after_exit.load());
}

#if defined(__linux__)
TEST(Threads, ListedKernelTidIsTheThreadsOwn) {
  static std::atomic<long> own{0};
  own = 0;  // static: set again for --gtest_repeat
  Gate g;
  tl_thread_id id = 0;
  ASSERT_EQ(tl_spawn("tid", [](void* p) {
              own = syscall(SYS_gettid);
              wait_gate(p);
            }, &g, &id), TL_OK);
  while (g.arrived.load() == 0) std::this_thread::yield();
  tl_thread_info info{};
  ASSERT_TRUE(find_thread(id, &info));
  EXPECT_EQ(info.kernel_tid, own.load());
  g.open = true;
  ASSERT_EQ(tl_join(id), TL_OK);
}
#endif

TEST(Threads, RunsWithTheSpawnersMaskAfterExitToo) {
  // The thread starts with every signal blocked, runs fn with its spawner's
  // mask, and keeps that mask on the way out, also after tl_exit: a later
  // key destructor sees it.
  static pthread_key_t late_key;
  static std::atomic<int> in_fn{-1}, at_exit{-1};
  in_fn = -1;  // static: set again for --gtest_repeat
  at_exit = -1;  // static: set again for --gtest_repeat
  ASSERT_EQ(pthread_key_create(&late_key, [](void*) { at_exit = mask_is(SIGUSR2, SIGUSR1); }), 0);
  sigset_t usr2, old;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &usr2, &old);
  tl_thread_id id = 0;
  int rc = tl_spawn("masked", [](void*) {
    in_fn = mask_is(SIGUSR2, SIGUSR1);
    pthread_setspecific(late_key, reinterpret_cast<void*>(1));
    tl_exit();
  }, nullptr, &id);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_EQ(rc, TL_OK);
  ASSERT_EQ(tl_join(id), TL_OK);
  pthread_key_delete(late_key);
  EXPECT_EQ(in_fn.load(), 1);
  EXPECT_EQ(at_exit.load(), 1);
}

TEST(Threads, NoFixedCapOnLiveThreads) {
  // Well past lt-threads' 27 and any 32- or 64-bit mask.
  constexpr int kThreads = 300;
  Gate g;
  std::vector<tl_thread_id> ids(kThreads);
  for (int i = 0; i < kThreads; ++i) ASSERT_EQ(tl_spawn(nullptr, wait_gate, &g, &ids[i]), TL_OK) << tl_last_error();
  while (g.arrived.load() < kThreads) std::this_thread::yield();
  size_t n = 0;
  ASSERT_EQ(tl_thread_list(nullptr, 0, &n), TL_OK);
  EXPECT_GE(n, static_cast<size_t>(kThreads + 1));
  g.open = true;
  for (auto id : ids) ASSERT_EQ(tl_join(id), TL_OK);
}

TEST(ThreadErrors, JoinSelfIsDeadlock) {
  static std::atomic<int> rc{1};
  rc = 1;  // static: set again for --gtest_repeat
  tl_thread_id id = 0;
  ASSERT_EQ(tl_spawn("self-joiner", [](void*) { rc = tl_join(tl_self()); }, nullptr, &id), TL_OK);
  ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_EQ(rc.load(), TL_EDEADLK);
  EXPECT_EQ(tl_join(tl_self()), TL_EDEADLK);
  EXPECT_NE(std::strstr(tl_last_error(), "cannot join itself"), nullptr);
}

TEST(ThreadErrors, DoubleJoinAndUnknownIds) {
  tl_thread_id id = 0;
  ASSERT_EQ(tl_spawn(nullptr, count_fn, nullptr, &id), TL_OK);
  ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_EQ(tl_join(id), TL_ENOTHREAD);
  EXPECT_EQ(tl_join(0xffffffffu), TL_ENOTHREAD);
  EXPECT_EQ(tl_spawn(nullptr, nullptr, nullptr, &id), TL_EINVAL);
}

TEST(ThreadErrors, ConcurrentJoinsHaveOneWinner) {
  Gate g;
  tl_thread_id id = 0;
  ASSERT_EQ(tl_spawn(nullptr, wait_gate, &g, &id), TL_OK);
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> joiners;
  for (int i = 0; i < 4; ++i)
    joiners.emplace_back([&] {
      int rc = tl_join(id);
      (rc == TL_OK ? ok : refused).fetch_add(1);
      EXPECT_TRUE(rc == TL_OK || rc == TL_ENOTHREAD) << rc;
    });
  g.open = true;
  for (auto& t : joiners) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), 3);
}

TEST(ThreadErrors, MemoryExhaustionIsENOMEMAndRecoverable) {
  ASSERT_EQ(tl_trim(), TL_OK);  // no cached slot may hide the failure
  tl_counters before{};
  ASSERT_EQ(tl_get_counters(&before), TL_OK);
  tl_os_fail_next(TL_OS_MMAP, 1);
  tl_thread_id id = 0;
  EXPECT_EQ(tl_spawn(nullptr, count_fn, nullptr, &id), TL_ENOMEM);
  EXPECT_NE(std::strstr(tl_last_error(), "thread slot"), nullptr) << tl_last_error();
  tl_counters after{};
  ASSERT_EQ(tl_get_counters(&after), TL_OK);
  EXPECT_EQ(after.records_live, before.records_live);
  EXPECT_EQ(after.stacks_mapped, before.stacks_mapped);
  // Still usable.
  ASSERT_EQ(tl_spawn(nullptr, count_fn, nullptr, &id), TL_OK);
  ASSERT_EQ(tl_join(id), TL_OK);
}

TEST(ThreadErrors, ThreadExhaustionIsEAGAINAndRecoverable) {
  tl_counters before{};
  ASSERT_EQ(tl_get_counters(&before), TL_OK);
  tl_os_fail_next(TL_OS_THREAD_CREATE, 1);
  tl_thread_id id = 0;
  EXPECT_EQ(tl_spawn("refused", count_fn, nullptr, &id), TL_EAGAIN);
  EXPECT_NE(std::strstr(tl_last_error(), "pthread_create"), nullptr);
  tl_counters after{};
  ASSERT_EQ(tl_get_counters(&after), TL_OK);
  EXPECT_EQ(after.records_live, before.records_live);
  ASSERT_EQ(tl_spawn(nullptr, count_fn, nullptr, &id), TL_OK);
  ASSERT_EQ(tl_join(id), TL_OK);
}

// tl_os_fail_nth: the calling thread's nth failure-capable OS call fails,
// once. Swept over n, every call a spawn makes fails in turn: each failure
// is an error with a message, leaves the ledger as it was, and the first n
// past the spawn's last call lets it succeed.
TEST(ThreadErrors, FailNthSweepsEveryCallOfASpawn) {
  unsigned n = 1;
  for (; n < 64; ++n) {
    ASSERT_EQ(tl_trim(), TL_OK);
    tl_counters before{};
    ASSERT_EQ(tl_get_counters(&before), TL_OK);
    tl_os_fail_nth(n);
    tl_thread_id id = 0;
    const int rc = tl_spawn("nth", count_fn, nullptr, &id);
    tl_os_fail_nth(0);
    if (rc == TL_OK) {
      ASSERT_EQ(tl_join(id), TL_OK);
      break;
    }
    EXPECT_TRUE(rc == TL_ENOMEM || rc == TL_EAGAIN) << "n=" << n << ": " << tl_strerror(rc);
    EXPECT_STRNE(tl_last_error(), "") << "n=" << n;
    ASSERT_EQ(tl_trim(), TL_OK);  // a slot given back to the cache is not a leak
    tl_counters after{};
    ASSERT_EQ(tl_get_counters(&after), TL_OK);
    EXPECT_EQ(after.records_live, before.records_live) << "n=" << n;
    EXPECT_EQ(after.stacks_mapped, before.stacks_mapped) << "n=" << n;
  }
  EXPECT_GT(n, 1u) << "a spawn from an empty cache makes at least one failure-capable call";
  EXPECT_LT(n, 64u) << "tl_os_fail_nth never let the spawn through";
}

TEST(ThreadErrors, FailNthIsPerThreadAndDisarms) {
  ASSERT_EQ(tl_trim(), TL_OK);
  // Armed on another thread: this thread's calls do not count.
  std::thread other([] { tl_os_fail_nth(1); });
  other.join();
  tl_thread_id id = 0;
  ASSERT_EQ(tl_spawn("other-armed", count_fn, nullptr, &id), TL_OK);
  ASSERT_EQ(tl_join(id), TL_OK);
  // Armed, then disarmed: nothing fails.
  ASSERT_EQ(tl_trim(), TL_OK);
  tl_os_fail_nth(1);
  tl_os_fail_nth(0);
  ASSERT_EQ(tl_spawn("disarmed", count_fn, nullptr, &id), TL_OK);
  ASSERT_EQ(tl_join(id), TL_OK);
  // Consumed once: the spawn after a failed one succeeds unarmed.
  ASSERT_EQ(tl_trim(), TL_OK);
  tl_os_fail_nth(1);
  EXPECT_NE(tl_spawn("fails", count_fn, nullptr, &id), TL_OK);
  ASSERT_EQ(tl_spawn("after", count_fn, nullptr, &id), TL_OK);
  ASSERT_EQ(tl_join(id), TL_OK);
}

#if !defined(TL_UNDER_ASAN) && !defined(TL_UNDER_TSAN)
// A real limit, not a simulated one: in a child process, cap the address
// space and spawn until the OS says no.
TEST(ThreadErrorsDeathTest, RealAddressSpaceLimit) {
  // Under qemu-user the emulator's own reservations count against the
  // guest's RLIMIT_AS, so the limit says nothing about the runtime.
  if (std::getenv("QEMU_LD_PREFIX") || std::getenv("TL_UNDER_EMULATION"))
    GTEST_SKIP() << "address-space limits are meaningless under qemu-user";
  EXPECT_EXIT(
      {
        Gate g;
        std::vector<tl_thread_id> ids;
        tl_thread_id id = 0;
        if (tl_spawn(nullptr, count_fn, nullptr, &id) != TL_OK || tl_join(id) != TL_OK) _exit(3);
        struct rlimit rl;
        getrlimit(RLIMIT_AS, &rl);
        FILE* f = fopen("/proc/self/statm", "r");
        unsigned long pages = 0;
        if (!f || fscanf(f, "%lu", &pages) != 1) _exit(4);
        fclose(f);
        rl.rlim_cur = pages * 4096ul + (24ul << 20);
        setrlimit(RLIMIT_AS, &rl);
        int rc = TL_OK;
        for (int i = 0; i < 100000 && rc == TL_OK; ++i) {
          rc = tl_spawn(nullptr, wait_gate, &g, &id);
          if (rc == TL_OK) ids.push_back(id);
        }
        if (rc != TL_ENOMEM && rc != TL_EAGAIN) _exit(5);
        g.open = true;
        for (auto t : ids)
          if (tl_join(t) != TL_OK) _exit(6);
        if (tl_spawn(nullptr, count_fn, nullptr, &id) != TL_OK || tl_join(id) != TL_OK) _exit(7);
        fprintf(stderr, "refused after %zu threads: %s\n", ids.size(), tl_last_error());
        _exit(0);
      },
      ::testing::ExitedWithCode(0), "refused after [0-9]+ threads");
}
#endif

// ---- what the thread holding the world stopped may call (issue 9, bug 6) --

TEST(Stopper, MayNeitherSpawnNorJoinAndTheNextStopStillWorks) {
  Gate g;
  tl_thread_id other = 0;
  ASSERT_EQ(tl_spawn("other", wait_gate, &g, &other), TL_OK);
  while (g.arrived.load() == 0) std::this_thread::yield();
  ASSERT_EQ(tl_suspend_others(), TL_OK) << tl_last_error();
  tl_thread_id id = 0;
  EXPECT_EQ(tl_spawn("from-stopper", count_fn, nullptr, &id), TL_EDEADLK);
  EXPECT_NE(std::strstr(tl_last_error(), "holds the world stopped"), nullptr) << tl_last_error();
  EXPECT_EQ(tl_join(other), TL_EDEADLK);  // `other` is stopped: the join would never return
  EXPECT_NE(std::strstr(tl_last_error(), "holds the world stopped"), nullptr) << tl_last_error();
  tl_kill_report rep;
  EXPECT_EQ(tl_kill(other, 10, &rep), TL_EDEADLK);
  EXPECT_EQ(tl_interrupt(other, [](void*) {}, nullptr), TL_EDEADLK);
  EXPECT_EQ(tl_trim(), TL_EDEADLK);
  ASSERT_EQ(tl_resume_others(), TL_OK);
  // The refused calls left the stop's own lock alone: the next stop (which
  // hung on it when a spawn by the stopper released it) works.
  std::atomic<int> rc{-100};
  std::thread stopper([&] {
    if (tl_callback_enter() != TL_OK) return;
    rc = tl_suspend_others();
    if (rc == TL_OK) tl_resume_others();
    tl_callback_exit();
  });
  stopper.join();
  EXPECT_EQ(rc.load(), TL_OK) << tl_last_error();
  g.open = true;
  EXPECT_EQ(tl_join(other), TL_OK);
}

TEST(ThreadErrors, JoiningAnAdoptedOrTheInitialThreadIsEINVAL) {
  const tl_thread_id initial = tl_self();
  std::atomic<tl_thread_id> adopted{0};
  std::atomic<int> join_initial{-100};
  std::atomic<bool> release{false};
  std::thread foreign([&] {
    ASSERT_EQ(tl_callback_enter(), TL_OK);
    adopted = tl_self();
    join_initial = tl_join(initial);
    ASSERT_EQ(tl_callback_exit(), TL_OK);
    while (!release.load()) std::this_thread::yield();
  });
  while (adopted.load() == 0 || join_initial.load() == -100) std::this_thread::yield();
  EXPECT_EQ(join_initial.load(), TL_EINVAL);
  EXPECT_EQ(tl_join(adopted.load()), TL_EINVAL);
  EXPECT_NE(std::strstr(tl_last_error(), "not spawned by the runtime"), nullptr) << tl_last_error();
  release = true;
  foreign.join();
}
