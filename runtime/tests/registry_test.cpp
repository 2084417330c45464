// registry_test.cpp — the registry under concurrent spawn/exit, lock-free
// lookups by native id, and deferred freeing.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "os.h"
#include "registry.h"
#include "threadlab/runtime.h"
#include "world.h"
#include "lock_rank.h"

namespace {
size_t live_count() {
  size_t n = 0;
  EXPECT_EQ(tl_thread_list(nullptr, 0, &n), TL_OK);
  return n;
}
}  // namespace

TEST(Registry, IntegrityHoldsUnderConcurrentSpawnAndExit) {
  size_t base = live_count();
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0}, errors{0}, checks{0};
  std::thread checker([&] {
    std::vector<tl_thread_info> buf(512);
    while (!stop.load()) {
      tl_violation v[4];
      if (tl_check_integrity(v, 4) != 0) violations.fetch_add(1);
      size_t n = 0;
      if (tl_thread_list(buf.data(), buf.size(), &n) != TL_OK) errors.fetch_add(1);
      checks.fetch_add(1);
    }
  });
  std::vector<std::thread> spawners;
  for (int s = 0; s < 4; ++s)
    spawners.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        tl_thread_id ids[4];
        for (auto& id : ids)
          if (tl_spawn("churn", [](void*) {}, nullptr, &id) != TL_OK) errors.fetch_add(1);
        for (auto id : ids)
          if (tl_join(id) != TL_OK) errors.fetch_add(1);
      }
    });
  for (auto& t : spawners) t.join();
  // At least one check must overlap the churn, however the scheduler runs.
  while (checks.load() < 2) std::this_thread::yield();
  stop = true;
  checker.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(live_count(), base);
}

// The fuzzer checks integrity after every op while other threads push and
// pop their value stacks: the check reads each owner's value_sp as they
// run. Under the tsan preset this failed with a data race report (plain
// stores by the owner) until value_sp became a relaxed atomic store; in
// every build, the bounds it sees must hold.
TEST(Registry, IntegrityReadsValueStacksWhileTheirOwnersPushAndPop) {
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0}, rounds{0};
  auto pusher = [](void* p) {
    auto* st = static_cast<std::pair<std::atomic<bool>*, std::atomic<int>*>*>(p);
    while (!st->first->load(std::memory_order_relaxed)) {
      for (uintptr_t w = 0; w < 64; ++w)
        if (tl_value_push(w) != TL_OK) st->second->fetch_add(1);
      for (int i = 0; i < 64; ++i) {
        uintptr_t w = 0;
        if (tl_value_pop(&w) != TL_OK) st->second->fetch_add(1);
      }
    }
  };
  std::pair<std::atomic<bool>*, std::atomic<int>*> st{&stop, &errors};
  tl_thread_id ids[3];
  for (auto& id : ids) ASSERT_EQ(tl_spawn("pusher", pusher, &st, &id), TL_OK);
  int violations = 0;
  for (int i = 0; i < 2000; ++i) {
    tl_violation v[4];
    if (tl_check_integrity(v, 4) != 0) ++violations;
    rounds.fetch_add(1);
  }
  stop.store(true);
  for (auto id : ids) EXPECT_EQ(tl_join(id), TL_OK);
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(violations, 0);
}

TEST(Registry, LockFreeLookupByKernelTidFindsEveryLiveThread) {
  struct Ctx {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
  } ctx;
  constexpr int kThreads = 16;
  std::vector<tl_thread_id> ids(kThreads);
  for (auto& id : ids)
    ASSERT_EQ(tl_spawn(nullptr, [](void* p) {
                auto* c = static_cast<Ctx*>(p);
                c->ready.fetch_add(1);
                while (!c->go.load()) std::this_thread::yield();
              }, &ctx, &id), TL_OK);
  while (ctx.ready.load() < kThreads) std::this_thread::yield();
  std::vector<tl_thread_info> buf(1024);
  size_t n = 0;
  ASSERT_EQ(tl_thread_list(buf.data(), buf.size(), &n), TL_OK);
  int found = 0;
  for (size_t i = 0; i < n; ++i) {
    tl::Record* r = tl::registry().find_by_kernel_tid(buf[i].kernel_tid);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->id, buf[i].id);
    ++found;
  }
  EXPECT_GE(found, kThreads);
  EXPECT_EQ(tl::registry().find_by_kernel_tid(-1), nullptr);
  ctx.go = true;
  for (auto id : ids) ASSERT_EQ(tl_join(id), TL_OK);
}

TEST(Registry, DeadRecordsAreNotFreedWhileTheWorldIsStopped) {
  tl_counters before{};
  ASSERT_EQ(tl_get_counters(&before), TL_OK);
  size_t grave_before = tl::registry().graveyard_size();
  tl::registry().set_world_stopped(true);
  tl_thread_id id = 0;
  ASSERT_EQ(tl_spawn(nullptr, [](void*) {}, nullptr, &id), TL_OK);
  ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_EQ(tl::registry().graveyard_size(), grave_before + 1);
  tl::registry().reap();
  EXPECT_EQ(tl::registry().graveyard_size(), grave_before + 1) << "reap must wait for the world to restart";
  tl::registry().set_world_stopped(false);
  EXPECT_EQ(tl::registry().graveyard_size(), 0u);
  tl_counters after{};
  ASSERT_EQ(tl_get_counters(&after), TL_OK);
  EXPECT_EQ(after.records_live, before.records_live);
}

TEST(Registry, ScribbledCanaryIsReportedWithThreadAndAddress) {
  struct Ctx {
    std::atomic<bool> ready{false}, go{false};
    uintptr_t value_hi = 0;
  } ctx;
  tl_thread_id id = 0;
  ASSERT_EQ(tl_spawn("victim", [](void* p) {
              auto* c = static_cast<Ctx*>(p);
              c->ready = true;
              while (!c->go.load()) std::this_thread::yield();
            }, &ctx, &id), TL_OK);
  while (!ctx.ready.load()) std::this_thread::yield();
  tl::registry().lock();
  tl::Record* r = tl::registry().find_by_id_locked(id);
  ASSERT_NE(r, nullptr);
  auto* canary = reinterpret_cast<volatile uintptr_t*>(r->value.hi);
  uintptr_t saved = *canary;
  *canary = 0;  // what a runaway push would do
  tl::registry().unlock();
  tl_violation v[4];
  int n = tl_check_integrity(v, 4);
  EXPECT_EQ(n, 1);
  EXPECT_EQ(v[0].thread, id);
  EXPECT_EQ(v[0].address, reinterpret_cast<uintptr_t>(canary));
  EXPECT_NE(std::string(v[0].what).find("value-stack canary"), std::string::npos) << v[0].what;
  *canary = saved;
  EXPECT_EQ(tl_check_integrity(v, 4), 0);
  ctx.go = true;
  ASSERT_EQ(tl_join(id), TL_OK);
}

#if TL_INJECTION_COMPILED
// The lock order is checked where it is broken, not when a second thread
// turns it into a deadlock (lock_rank.h).
void registry_under_a_leaf() {
  static pthread_mutex_t leaf = PTHREAD_MUTEX_INITIALIZER;
  tl::lock_ranked(&leaf, tl::Rank::Leaf, "test leaf");
  tl::registry().lock();  // nothing is taken under a leaf lock
}

TEST(LockRankDeathTest, ALockTakenOutOfOrderIsFatalAndNamesBoth) {
  EXPECT_DEATH(
      {
        tl::registry().lock();
        tl::world::lifecycle_enter();  // lifecycle is outside the registry
      },
      "lock order violated: took the lifecycle lock .* while holding the registry lock");
  EXPECT_DEATH(registry_under_a_leaf(), "took the registry lock .* while holding the test leaf lock");
}

TEST(LockRank, TheDocumentedOrderIsAccepted) {
  tl::world::lifecycle_enter();
  tl::registry().lock();
  static pthread_mutex_t leaf = PTHREAD_MUTEX_INITIALIZER;
  tl::lock_ranked(&leaf, tl::Rank::Leaf, "test leaf");
  tl::unlock_ranked(&leaf, tl::Rank::Leaf);
  tl::registry().unlock();
  tl::world::lifecycle_leave();
  SUCCEED();
}
#endif
