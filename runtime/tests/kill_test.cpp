// kill_test.cpp — interrupts at safe points, and kill: cleanups, released
// locks, closed without-GC scopes, hard kills that say what they cost, and
// the error paths.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "threadlab/runtime.h"

namespace {

struct Spinner {
  std::atomic<bool> running{false}, stop{false};
  std::atomic<int> interrupts{0};
  std::atomic<bool> in_window{false}, leave_window{false};
};

void poll_loop(void* p) {
  auto* s = static_cast<Spinner*>(p);
  s->running = true;
  while (!s->stop.load()) tl_safepoint();
}

std::vector<int> g_order;
std::atomic<int> g_cleanups{0};
void note_cleanup(void* tag) {
  g_order.push_back(static_cast<int>(reinterpret_cast<uintptr_t>(tag)));
  g_cleanups.fetch_add(1);
}

}  // namespace

TEST(Interrupt, RunsOnTheTargetAtItsNextSafepoint) {
  Spinner s;
  tl_thread_id id;
  ASSERT_EQ(tl_spawn("target", poll_loop, &s, &id), TL_OK);
  while (!s.running.load()) std::this_thread::yield();
  static std::atomic<tl_thread_id> ran_on{0};
  ran_on = 0;  // static: set again for --gtest_repeat
  ASSERT_EQ(tl_interrupt(id, [](void*) { ran_on = tl_self(); }, nullptr), TL_OK);
  while (ran_on.load() == 0) std::this_thread::yield();
  EXPECT_EQ(ran_on.load(), id);
  s.stop = true;
  ASSERT_EQ(tl_join(id), TL_OK);
}

TEST(Interrupt, DeferredWhileInForeignCodeOrANoInterruptWindow) {
  struct Ctx {
    std::atomic<int> phase{0};
    std::atomic<int> ran{0};
    std::atomic<int> ran_in_foreign{0};
  } ctx;
  static Ctx* g;
  g = &ctx;
  tl_thread_id id;
  ASSERT_EQ(tl_spawn("deferrer", [](void*) {
              tl_foreign_begin();
              g->phase = 1;
              while (g->phase.load() != 2) {
              }
              tl_foreign_end();  // interrupt runs here, back in managed code
              tl_no_interrupt_begin();
              g->phase = 3;
              while (g->phase.load() != 4) tl_safepoint();  // polls inside the window do nothing
              tl_no_interrupt_end();  // second interrupt runs here
              g->phase = 5;
            }, nullptr, &id), TL_OK);
  auto fn = [](void*) {
    if (tl_foreign_begin() == TL_OK) {  // would succeed only from managed code
      tl_foreign_end();
    } else {
      g->ran_in_foreign.fetch_add(1);
    }
    g->ran.fetch_add(1);
  };
  while (ctx.phase.load() != 1) std::this_thread::yield();
  ASSERT_EQ(tl_interrupt(id, fn, nullptr), TL_OK);
  for (int i = 0; i < 1000; ++i) std::this_thread::yield();
  EXPECT_EQ(ctx.ran.load(), 0) << "ran inside foreign code";
  ctx.phase = 2;
  while (ctx.phase.load() != 3) std::this_thread::yield();
  EXPECT_EQ(ctx.ran.load(), 1);
  ASSERT_EQ(tl_interrupt(id, fn, nullptr), TL_OK);
  for (int i = 0; i < 1000; ++i) std::this_thread::yield();
  EXPECT_EQ(ctx.ran.load(), 1) << "ran inside a no-interrupt window";
  ctx.phase = 4;
  ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_EQ(ctx.ran.load(), 2);
  EXPECT_EQ(ctx.ran_in_foreign.load(), 0);
}

TEST(Interrupt, DeadOrUnknownTargetsAreErrors) {
  tl_thread_id id;
  ASSERT_EQ(tl_spawn("brief", [](void*) {}, nullptr, &id), TL_OK);
  ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_EQ(tl_interrupt(id, [](void*) {}, nullptr), TL_ENOTHREAD);
  EXPECT_EQ(tl_interrupt(tl_self(), nullptr, nullptr), TL_EINVAL);
}

TEST(Interrupt, NeverDeliveredDuringTeardown) {
  // Queue interrupts on adopted threads that exit without another safe
  // point: teardown drops them instead of running them on retired stacks.
  static std::atomic<int> ran{0};
  ran = 0;  // static: set again for --gtest_repeat
  for (int i = 0; i < 50; ++i) {
    std::atomic<tl_thread_id> id{0};
    std::atomic<bool> queued{false};
    std::thread t([&] {
      tl_callback_enter();
      id = tl_self();
      tl_callback_exit();  // foreign from here on: no safe point
      while (!queued.load()) std::this_thread::yield();
    });
    while (id.load() == 0) std::this_thread::yield();
    ASSERT_EQ(tl_interrupt(id.load(), [](void*) { ran.fetch_add(1); tl_value_push(1); }, nullptr), TL_OK);
    queued = true;
    t.join();
  }
  EXPECT_EQ(ran.load(), 0);
}

TEST(Kill, UnwindsCleanupsReleasesLocksAndEnds) {
  static tl_lock lock = TL_LOCK_INIT;
  lock = tl_lock TL_LOCK_INIT;  // static: fresh for --gtest_repeat
  static Spinner s;
  g_order.clear();
  g_cleanups = 0;
  tl_thread_id id;
  ASSERT_EQ(tl_spawn("victim", [](void*) {
              tl_cleanup_push(note_cleanup, reinterpret_cast<void*>(1));
              tl_cleanup_push(note_cleanup, reinterpret_cast<void*>(2));
              tl_lock_acquire(&lock);
              tl_without_gcing_begin();
              poll_loop(&s);
              ADD_FAILURE() << "not reached: killed in poll_loop";
            }, nullptr, &id), TL_OK);
  while (!s.running.load()) std::this_thread::yield();
  tl_kill_report rep;
  ASSERT_EQ(tl_kill(id, 2000, &rep), TL_OK) << tl_last_error();
  EXPECT_EQ(rep.hard, 0) << rep.text;
  EXPECT_EQ(rep.cleanups_run, 2u);
  EXPECT_EQ(rep.locks_released, 1u);
  EXPECT_EQ(rep.state_at_kill, TL_STATE_MANAGED);
  EXPECT_EQ(g_order, (std::vector<int>{2, 1})) << "innermost cleanup first";
  ASSERT_EQ(tl_join(id), TL_OK);
  // The lock is free again (its next taker told its owner died) and
  // collection is no longer inhibited.
  ASSERT_EQ(tl_lock_acquire(&lock), TL_EOWNERDEAD);
  ASSERT_EQ(tl_lock_release(&lock), TL_OK);
  ASSERT_EQ(tl_lock_acquire(&lock), TL_OK) << "told once";
  ASSERT_EQ(tl_lock_release(&lock), TL_OK);
  EXPECT_EQ(tl_gc_collect(), TL_OK);
  s.running = false;
}

TEST(Kill, ABlockedForeignCallIsEndedHardAndTheReportSaysSo) {
  static int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  static std::atomic<bool> in_read{false};
  in_read = false;  // static: set again for --gtest_repeat
  static tl_lock lock = TL_LOCK_INIT;
  lock = tl_lock TL_LOCK_INIT;  // static: fresh for --gtest_repeat
  g_cleanups = 0;
  tl_thread_id id;
  ASSERT_EQ(tl_spawn("stuck", [](void*) {
              tl_cleanup_push(note_cleanup, nullptr);
              tl_lock_acquire(&lock);
              tl_foreign_begin();
              in_read = true;
              char c;
              while (read(fds[0], &c, 1) != 0) {
              }  // blocks forever: no safe point
              ADD_FAILURE() << "not reached";
            }, nullptr, &id), TL_OK);
  while (!in_read.load()) std::this_thread::yield();
  tl_kill_report rep;
  int rc = tl_kill(id, 100, &rep);
#if defined(TL_UNDER_TSAN)
  // ThreadSanitizer runs the hard-kill handler only when the thread leaves
  // read() (runtime/src/sanitizer_policy.h): the kill reports that it is
  // still pending, and lands once the read returns.
  EXPECT_EQ(rc, TL_ETIMEDOUT);
  EXPECT_NE(std::string(tl_last_error()).find("stays pending"), std::string::npos) << tl_last_error();
  ASSERT_EQ(write(fds[1], "x", 1), 1);
  ASSERT_EQ(tl_join(id), TL_OK);
  close(fds[0]);
  close(fds[1]);
  return;
#endif
  ASSERT_EQ(rc, TL_OK) << tl_last_error();
  EXPECT_EQ(rep.hard, 1);
  EXPECT_EQ(rep.state_at_kill, TL_STATE_FOREIGN);
  EXPECT_EQ(rep.cleanups_run, 0u);
  EXPECT_EQ(rep.locks_released, 1u);
  EXPECT_NE(std::string(rep.text).find("foreign frames abandoned"), std::string::npos) << rep.text;
  EXPECT_EQ(g_cleanups.load(), 0);
  ASSERT_EQ(tl_join(id), TL_OK);
  ASSERT_EQ(tl_lock_acquire(&lock), TL_EOWNERDEAD);  // released by the hard kill, marked abandoned
  ASSERT_EQ(tl_lock_release(&lock), TL_OK);
  close(fds[0]);
  close(fds[1]);
}

TEST(Kill, AThreadWaitingOnALockIsKilledAndTheLockStaysConsistent) {
  static tl_lock lock = TL_LOCK_INIT;
  lock = tl_lock TL_LOCK_INIT;  // static: fresh for --gtest_repeat
  static std::atomic<bool> waiting{false};
  waiting = false;  // static: set again for --gtest_repeat
  ASSERT_EQ(tl_lock_acquire(&lock), TL_OK);
  tl_thread_id id;
  ASSERT_EQ(tl_spawn("waiter", [](void*) {
              waiting = true;
              tl_lock_acquire(&lock);
              ADD_FAILURE() << "not reached";
            }, nullptr, &id), TL_OK);
  while (!waiting.load()) std::this_thread::yield();
  // The wait-for graph shows the edge waiter -> owner (us) once it waits.
  tl_wait_edge e[4];
  while (tl_wait_edges(e, 4) == 0) std::this_thread::yield();
  EXPECT_EQ(e[0].waiter, id);
  EXPECT_EQ(e[0].owner, tl_self());
  EXPECT_EQ(e[0].lock, reinterpret_cast<uintptr_t>(&lock));
  tl_kill_report rep;
  ASSERT_EQ(tl_kill(id, 2000, &rep), TL_OK) << tl_last_error();
  EXPECT_EQ(rep.hard, 0) << "waiting on a runtime lock is a safe point: " << rep.text;
  EXPECT_EQ(tl_wait_edges(e, 4), 0u);
  ASSERT_EQ(tl_join(id), TL_OK);
  ASSERT_EQ(tl_lock_release(&lock), TL_OK);
  ASSERT_EQ(tl_lock_acquire(&lock), TL_OK);
  ASSERT_EQ(tl_lock_release(&lock), TL_OK);
}

TEST(Kill, DuringCreationTakesEffectBeforeAnyManagedCode) {
  for (int i = 0; i < 20; ++i) {
    static std::atomic<int> body_ran{0};
    body_ran = 0;  // static: set again for --gtest_repeat
    tl_thread_id id;
    ASSERT_EQ(tl_spawn("newborn", [](void*) { body_ran.fetch_add(1); }, nullptr, &id), TL_OK);
    tl_kill_report rep;
    int rc = tl_kill(id, 1000, &rep);
    // Either the kill landed first, or the thread had already finished.
    EXPECT_TRUE(rc == TL_OK || rc == TL_ESTATE) << tl_last_error();
    ASSERT_EQ(tl_join(id), TL_OK);
  }
}

TEST(KillErrors, SelfAdoptedDeadAndUnknown) {
  EXPECT_EQ(tl_kill(tl_self(), 100, nullptr), TL_EINVAL);
  EXPECT_EQ(tl_kill(999999, 100, nullptr), TL_ENOTHREAD);
  tl_thread_id id;
  ASSERT_EQ(tl_spawn("done", [](void*) {}, nullptr, &id), TL_OK);
  ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_EQ(tl_kill(id, 100, nullptr), TL_ENOTHREAD);
  std::atomic<tl_thread_id> adopted{0};
  std::atomic<bool> done{false};
  std::thread t([&] {
    tl_callback_enter();
    adopted = tl_self();
    tl_callback_exit();
    while (!done.load()) std::this_thread::yield();
  });
  while (adopted.load() == 0) std::this_thread::yield();
  EXPECT_EQ(tl_kill(adopted.load(), 100, nullptr), TL_EINVAL);
  EXPECT_NE(std::strstr(tl_last_error(), "not spawned"), nullptr) << tl_last_error();
  done = true;
  t.join();
}

TEST(KillErrors, LockMisuse) {
  tl_lock lock = TL_LOCK_INIT;
  EXPECT_EQ(tl_lock_release(&lock), TL_ESTATE);
  ASSERT_EQ(tl_lock_acquire(&lock), TL_OK);
  EXPECT_EQ(tl_lock_acquire(&lock), TL_EDEADLK);
  ASSERT_EQ(tl_lock_release(&lock), TL_OK);
  EXPECT_EQ(tl_cleanup_pop(0), TL_EUNBALANCED);
}
