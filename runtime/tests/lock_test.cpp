// lock_test.cpp — runtime locks (recursion, try and timed takes, hand-off,
// FIFO waiters, abandonment is the kill suite's), the lock-order graph,
// mailboxes and names.
#include <gtest/gtest.h>

#include <atomic>
#include <algorithm>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "threadlab/runtime.h"

namespace {

// Spawn a runtime thread running f; returns its id.
template <class F>
tl_thread_id spawn(F* f) {
  tl_thread_id id = 0;
  EXPECT_EQ(tl_spawn("t", [](void* p) { (*static_cast<F*>(p))(); }, f, &id), TL_OK);
  return id;
}

void wait_queued(tl_lock* l, size_t n) {
  while (tl_lock_waiters(l, nullptr, 0) < n) std::this_thread::yield();
}

TEST(Lock, RecursiveTakesAreCountedAndOthersAreRefused) {
  tl_lock l;
  ASSERT_EQ(tl_lock_init(&l, "rec", TL_LOCK_RECURSIVE), TL_OK);
  ASSERT_EQ(tl_lock_acquire(&l), TL_OK);
  ASSERT_EQ(tl_lock_acquire(&l), TL_OK);
  ASSERT_EQ(tl_lock_release(&l), TL_OK);
  int busy = 0;
  auto probe = [&] { busy = tl_lock_try(&l); };
  tl_join(spawn(&probe));
  EXPECT_EQ(busy, TL_EBUSY);  // still held once
  ASSERT_EQ(tl_lock_release(&l), TL_OK);
  EXPECT_EQ(tl_lock_release(&l), TL_ESTATE);
  EXPECT_EQ(tl_lock_init(&l, "bad", 64), TL_EINVAL);
}

// Waiters that block on a contended lock turn BLOCKED inside the lock's
// ThreadSanitizer bracket (pre_lock .. post_lock, where it ignores every
// synchronisation), and a collector stops them by that state. Without the
// divert around the state change (sanitizer_policy.h) ThreadSanitizer lost
// its release, and reported the collector's emptying of their allocation
// buffers as a data race with their last allocation (the tsan preset's
// halt_on_error fails this test then: 2 of 5 runs without the divert, 0 of
// 5 with it; 10 of 16 fork-busy runs reported it).
TEST(Lock, WaitersStoppedByStateAreSeenStoppedByTheCollector) {
  tl_lock l = TL_LOCK_INIT;
  std::atomic<bool> stop{false};
  std::atomic<int> fails{0};
  auto worker = [&] {
    while (!stop.load(std::memory_order_relaxed)) {
      if (tl_lock_acquire(&l) != TL_OK) {
        fails.fetch_add(1);
        return;
      }
      for (int k = 0; k < 8; ++k)
        if (!tl_gc_alloc(16 + 48 * static_cast<size_t>(k))) fails.fetch_add(1);
      if (tl_lock_release(&l) != TL_OK) fails.fetch_add(1);
    }
  };
  std::vector<tl_thread_id> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(spawn(&worker));
  for (int c = 0; c < 2000; ++c) ASSERT_EQ(tl_gc_collect(), TL_OK);
  stop.store(true);
  for (tl_thread_id id : ids) EXPECT_EQ(tl_join(id), TL_OK);
  EXPECT_EQ(fails.load(), 0);
}

TEST(Lock, TimedTakeGivesUpAndLeavesTheQueue) {
  tl_lock l = TL_LOCK_INIT;
  ASSERT_EQ(tl_lock_acquire(&l), TL_OK);
  int rc = 0;
  auto waiter = [&] { rc = tl_lock_acquire_timed(&l, 30); };
  tl_join(spawn(&waiter));
  EXPECT_EQ(rc, TL_ETIMEDOUT);
  EXPECT_EQ(tl_lock_waiters(&l, nullptr, 0), 0u);
  ASSERT_EQ(tl_lock_release(&l), TL_OK);
  EXPECT_EQ(tl_lock_try(&l), TL_OK);
  ASSERT_EQ(tl_lock_release(&l), TL_OK);
}

TEST(Lock, HandOffGoesToTheChosenWaiterThenFifo) {
  tl_lock l = TL_LOCK_INIT;
  ASSERT_EQ(tl_lock_acquire(&l), TL_OK);
  EXPECT_EQ(tl_lock_handoff(&l, 987654), TL_ENOTHREAD);  // not queued: still ours
  std::vector<int> order;
  std::vector<tl_thread_id> ids;
  constexpr int kN = 5;
  std::function<void()> fs[kN];
  for (int i = 0; i < kN; ++i) {
    fs[i] = [&, i] {
      ASSERT_EQ(tl_lock_acquire(&l), TL_OK);
      order.push_back(i);
      if (order.size() < kN) ASSERT_EQ(tl_lock_handoff(&l, 0), TL_OK);
      else ASSERT_EQ(tl_lock_release(&l), TL_OK);
    };
    ids.push_back(spawn(&fs[i]));
    wait_queued(&l, ids.size());
  }
  tl_thread_id q[kN];
  ASSERT_EQ(tl_lock_waiters(&l, q, kN), size_t{kN});
  EXPECT_TRUE(std::equal(ids.begin(), ids.end(), q));
  ASSERT_EQ(tl_lock_handoff(&l, ids[2]), TL_OK);
  for (auto id : ids) tl_join(id);
  EXPECT_EQ(order, (std::vector<int>{2, 0, 1, 3, 4}));
}

TEST(Lock, ManyWaitersWithIdsPastAnyBitmaskAllGetIt) {
  tl_lock l = TL_LOCK_INIT;
  ASSERT_EQ(tl_lock_acquire(&l), TL_OK);
  constexpr int kN = 80;
  std::atomic<int> got{0};
  auto f = [&] {
    ASSERT_EQ(tl_lock_acquire(&l), TL_OK);
    got.fetch_add(1);
    ASSERT_EQ(tl_lock_release(&l), TL_OK);
  };
  std::vector<tl_thread_id> ids;
  for (int i = 0; i < kN; ++i) ids.push_back(spawn(&f));
  wait_queued(&l, kN);
  ASSERT_EQ(tl_lock_release(&l), TL_OK);
  for (auto id : ids) tl_join(id);
  EXPECT_EQ(got.load(), kN);
}

// Plain, timed (1 ms: many give up, some after being woken to retry) and
// try takes mixed on one lock, with nested releases out of order: exactly
// one owner at a time, every take counted once, and nobody left queued or
// asleep on a free lock (a lost wake-up would hang the joins).
TEST(Lock, MixedPlainTimedAndTryTakesUnderContentionKeepExactCounts) {
  tl_lock l = TL_LOCK_INIT, other = TL_LOCK_INIT;
  constexpr int kThreads = 12, kTakes = 1500;
  uint64_t counter = 0;  // only under l
  std::atomic<int> inside{0};
  std::atomic<bool> overlap{false};
  std::function<void()> fs[kThreads];
  std::vector<tl_thread_id> ids;
  for (int i = 0; i < kThreads; ++i) {
    fs[i] = [&, i] {
      for (int k = 0; k < kTakes;) {
        const bool nested = i == 0 && k % 5 == 0;
        if (nested) {
          ASSERT_EQ(tl_lock_acquire(&other), TL_OK);
        }
        const int rc = (i % 3 == 1 && k % 2) ? tl_lock_acquire_timed(&l, 1)
                       : (i % 3 == 2 && k % 4 == 0) ? tl_lock_try(&l)
                                                    : tl_lock_acquire(&l);
        if (rc == TL_ETIMEDOUT || rc == TL_EBUSY) {
          if (nested) {
            ASSERT_EQ(tl_lock_release(&other), TL_OK);
          }
          continue;
        }
        ASSERT_EQ(rc, TL_OK);
        if (inside.exchange(1) != 0) overlap = true;
        ++counter;
        if (k % 8 == 0) std::this_thread::yield();
        inside.store(0);
        if (nested) {  // not the innermost: released first
          ASSERT_EQ(tl_lock_release(&other), TL_OK);
        }
        ASSERT_EQ(tl_lock_release(&l), TL_OK);
        ++k;
      }
    };
    ids.push_back(spawn(&fs[i]));
  }
  for (auto id : ids) tl_join(id);
  EXPECT_FALSE(overlap.load());
  EXPECT_EQ(counter, uint64_t{kThreads} * kTakes);
  EXPECT_EQ(tl_lock_waiters(&l, nullptr, 0), 0u);
  EXPECT_EQ(tl_lock_try(&l), TL_OK);
  EXPECT_EQ(tl_lock_release(&l), TL_OK);
}

TEST(LockOrder, ACheckingLockRefusesToCloseACycleAndTheCycleIsKept) {
  tl_lock a, b;
  ASSERT_EQ(tl_lock_init(&a, "order-a", TL_LOCK_CHECK_ORDER), TL_OK);
  ASSERT_EQ(tl_lock_init(&b, "order-b", TL_LOCK_CHECK_ORDER), TL_OK);
  const size_t before = tl_lock_order_cycles(nullptr, 0);
  ASSERT_EQ(tl_lock_acquire(&a), TL_OK);
  ASSERT_EQ(tl_lock_acquire(&b), TL_OK);  // a before b
  tl_lock_release(&b);
  tl_lock_release(&a);
  ASSERT_EQ(tl_lock_acquire(&b), TL_OK);
  EXPECT_EQ(tl_lock_acquire(&a), TL_EDEADLK) << "b before a closes the cycle";
  EXPECT_NE(std::strstr(tl_last_error(), "order-a"), nullptr) << tl_last_error();
  tl_lock_release(&b);
  tl_lock_cycle c[64];
  const size_t n = tl_lock_order_cycles(c, 64);
  ASSERT_EQ(n, before + 1);
  EXPECT_EQ(c[n - 1].n, 2u);
  EXPECT_STREQ(c[n - 1].names[0], "order-b");
  EXPECT_STREQ(c[n - 1].names[1], "order-a");
}

TEST(Mailbox, BlocksWhenFullAndEmptyWithTimeouts) {
  tl_mailbox* b = nullptr;
  ASSERT_EQ(tl_mailbox_new(2, "mb", &b), TL_OK);
  uint64_t w = 0;
  EXPECT_EQ(tl_mailbox_receive(b, &w, 0), TL_ETIMEDOUT);
  ASSERT_EQ(tl_mailbox_send(b, 1, 0), TL_OK);
  ASSERT_EQ(tl_mailbox_send(b, 2, 0), TL_OK);
  EXPECT_EQ(tl_mailbox_send(b, 3, 20), TL_ETIMEDOUT);
  ASSERT_EQ(tl_mailbox_receive(b, &w, TL_FOREVER), TL_OK);
  EXPECT_EQ(w, 1u);
  ASSERT_EQ(tl_mailbox_receive(b, &w, TL_FOREVER), TL_OK);
  EXPECT_EQ(w, 2u);
  EXPECT_EQ(tl_mailbox_new(0, "none", &b), TL_EINVAL);
  ASSERT_EQ(tl_mailbox_free(b), TL_OK);
}

TEST(Mailbox, CloseWakesEveryWaiterAndReceivesDrainFirst) {
  tl_mailbox* b = nullptr;
  ASSERT_EQ(tl_mailbox_new(1, "mb", &b), TL_OK);
  std::atomic<int> closed{0};
  auto recv = [&] {
    uint64_t w;
    if (tl_mailbox_receive(b, &w, TL_FOREVER) == TL_ECLOSED) closed.fetch_add(1);
  };
  std::vector<tl_thread_id> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(spawn(&recv));
  ASSERT_EQ(tl_mailbox_close(b), TL_OK);
  for (auto id : ids) tl_join(id);
  EXPECT_EQ(closed.load(), 4);
  EXPECT_EQ(tl_mailbox_send(b, 1, 0), TL_ECLOSED);
  ASSERT_EQ(tl_mailbox_free(b), TL_OK);
}

TEST(Names, RegisterFindRemoveAndClearErrors) {
  ASSERT_EQ(tl_name_register(TL_NAME_LOCK, "the-lock", 42), TL_OK);
  EXPECT_EQ(tl_name_register(TL_NAME_LOCK, "the-lock", 43), TL_EEXIST);
  EXPECT_NE(std::strstr(tl_last_error(), "the-lock"), nullptr) << tl_last_error();
  EXPECT_EQ(tl_name_register(TL_NAME_MAILBOX, "the-lock", 7), TL_OK);  // one table per kind
  uintptr_t v = 0;
  ASSERT_EQ(tl_name_find(TL_NAME_LOCK, "the-lock", &v), TL_OK);
  EXPECT_EQ(v, 42u);
  EXPECT_EQ(tl_name_find(TL_NAME_THREAD, "nobody", &v), TL_ENOTFOUND);
  EXPECT_EQ(tl_name_register(9, "x", 1), TL_EINVAL);
  EXPECT_EQ(tl_name_register(TL_NAME_LOCK, "", 1), TL_EINVAL);
  EXPECT_EQ(tl_name_remove(TL_NAME_LOCK, "the-lock"), TL_OK);
  EXPECT_EQ(tl_name_remove(TL_NAME_LOCK, "the-lock"), TL_ENOTFOUND);
  EXPECT_EQ(tl_name_remove(TL_NAME_MAILBOX, "the-lock"), TL_OK);
}

}  // namespace
