// suspend_test.cpp — stop-the-world under the policy chosen by
// TL_TEST_POLICY (CTest runs this suite under both): 1, 8 and 64 threads in
// each state, 10,000 cycles, lost signals, nesting, and the error paths.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <tuple>

#include "inject.h"
#include "registry.h"
#include "world.h"
#include "threadlab/runtime.h"
#include "workers.h"

using tltest::Mode;
using tltest::Workers;

namespace {

// Observe `w` for a while without synchronising on it: with the world
// stopped, managed workers must not move at all.
bool frozen_for_a_while(const Workers& w) {
  uint64_t before = w.progress();
  for (int i = 0; i < 2000; ++i) {
    std::this_thread::yield();
    if (w.progress() != before) return false;
  }
  return true;
}

void wait_progress_beyond(const Workers& w, uint64_t mark) {
  while (w.progress() <= mark) std::this_thread::yield();
}

bool stops_progress(Mode m) {
  if (m == Mode::ManagedPolling || m == Mode::ManagedPure) return true;
  // A preemptive stop freezes a foreign spinner too; the hybrid policy lets
  // foreign code run on and only bars its return to managed code.
  // Under ThreadSanitizer the preemptive policy stops foreign code by state
  // too (runtime/src/sanitizer_policy.h).
  const char* policy = std::getenv("TL_TEST_POLICY");
#if defined(TL_UNDER_TSAN)
  (void)policy;
  return false;
#else
  return m == Mode::ForeignCall && !(policy && std::strcmp(policy, "hybrid") == 0);
#endif
}

class EachState : public ::testing::TestWithParam<std::tuple<Mode, int>> {};

TEST_P(EachState, StopsAndResumesEveryThread) {
  auto [mode, count] = GetParam();
  Workers w(mode, count);
  w.wait_running();
  for (int cycle = 0; cycle < 5; ++cycle) {
    ASSERT_EQ(tl_suspend_others(), TL_OK) << tl_last_error();
    EXPECT_EQ(tl_world_is_stopped(), 1);
    // Every worker's record shows the stop and a saved stack pointer
    // inside its control stack.
    tl::registry().lock();
    for (tl_thread_id id : w.ids()) {
      tl::Record* r = tl::registry().find_by_id_locked(id);
      ASSERT_NE(r, nullptr);
      EXPECT_GE(r->suspend_count.load(), 1) << tltest::mode_name(mode);
      uintptr_t sp = r->saved_sp.load();
      EXPECT_TRUE(sp >= r->control_lo && sp < r->control_hi)
          << tltest::mode_name(mode) << " sp " << sp << " not in [" << r->control_lo << ", " << r->control_hi << ")";
    }
    tl::registry().unlock();
    if (stops_progress(mode)) {
      EXPECT_TRUE(frozen_for_a_while(w)) << tltest::mode_name(mode);
    }
    uint64_t mark = w.progress();
    ASSERT_EQ(tl_resume_others(), TL_OK);
    EXPECT_EQ(tl_world_is_stopped(), 0);
    if (mode == Mode::ManagedPolling || mode == Mode::ManagedPure || mode == Mode::ForeignCall)
      wait_progress_beyond(w, mark);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Policy, EachState,
    ::testing::Combine(::testing::Values(Mode::ManagedPolling, Mode::ManagedPure, Mode::BlockedSyscall,
                                         Mode::ForeignCall, Mode::LockWait),
                       ::testing::Values(1, 8, 64)),
    [](const auto& info) {
      std::string n = tltest::mode_name(std::get<0>(info.param));
      for (auto& c : n)
        if (c == '-') c = '_';
      return n + "_" + std::to_string(std::get<1>(info.param));
    });

TEST(Suspend, TenThousandCyclesLoseNoThread) {
  Workers polling(Mode::ManagedPolling, 2), pure(Mode::ManagedPure, 2), blocked(Mode::BlockedSyscall, 2),
      foreign(Mode::ForeignCall, 2);
  polling.wait_running();
  pure.wait_running();
  blocked.wait_running();
  foreign.wait_running();
  tl_suspend_stats before{}, after{};
  ASSERT_EQ(tl_get_suspend_stats(&before), TL_OK);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_EQ(tl_suspend_others(), TL_OK) << "cycle " << i << ": " << tl_last_error();
    ASSERT_EQ(tl_resume_others(), TL_OK) << "cycle " << i;
  }
  ASSERT_EQ(tl_get_suspend_stats(&after), TL_OK);
  EXPECT_EQ(after.stops - before.stops, 10000u);
  EXPECT_EQ(after.timeouts, before.timeouts);
  // Everyone still runs afterwards.
  uint64_t a = polling.progress(), b = pure.progress();
  wait_progress_beyond(polling, a);
  wait_progress_beyond(pure, b);
}

// A thread that leaves MANAGED while a stop is pending acknowledges that
// stop itself and goes on in foreign code. It must acknowledge the stop that
// asked it, not whatever stop is current by the time it gets there: a later
// stop that has not yet set its stop bit would take the acknowledgement,
// and the thread would go back to managed code while that stop holds the
// world (a collector then frees what it is using). The stopper stops back
// to back while workers leave and re-enter managed code as fast as they
// can; each worker counts the times it was in managed code, and a count that
// moves while the world is stopped is the failure. The window is a few
// instructions wide natively; with a 2 ms sleep put into it by hand, the
// old code failed this test 4 runs of 4 and the fix passed 3 of 3.
TEST(Suspend, LeavingManagedAcknowledgesOnlyTheStopThatAsked) {
  constexpr int kWorkers = 3;
  struct Ctx {
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> managed[kWorkers] = {};
    std::atomic<int> running{0};
  } ctx;
  struct Arg {
    Ctx* ctx;
    int i;
  } args[kWorkers];
  tl_thread_id ids[kWorkers];
  for (int i = 0; i < kWorkers; ++i) {
    args[i] = {&ctx, i};
    ASSERT_EQ(tl_spawn("leaver", [](void* p) {
                auto* a = static_cast<Arg*>(p);
                a->ctx->running.fetch_add(1);
                while (!a->ctx->stop.load(std::memory_order_relaxed)) {
                  tl_foreign_begin();
                  tl_foreign_end();
                  a->ctx->managed[a->i].fetch_add(1, std::memory_order_relaxed);
                }
              }, &args[i], &ids[i]), TL_OK);
  }
  while (ctx.running.load() < kWorkers) std::this_thread::yield();
  int moved_in = -1;
  // Under ThreadSanitizer this loop once timed out at cycle ~1850 (a
  // 'leaver' FOREIGN by the deadline, never acknowledged): TSan ran the
  // deferred suspend handler between acknowledge_left_managed's check and
  // its store, the handler acknowledged, the stop ended, the next stop
  // acknowledged the now-foreign leaver by state, and the late store then
  // lowered acked_gen. AcknowledgementsOnlyGrow pins the fix.
  constexpr int kCycles = 4000;
  for (int cycle = 0; cycle < kCycles && moved_in < 0; ++cycle) {
    ASSERT_EQ(tl_suspend_others(), TL_OK) << "cycle " << cycle << ": " << tl_last_error();
    uint64_t before[kWorkers];
    for (int i = 0; i < kWorkers; ++i) before[i] = ctx.managed[i].load();
    for (int spin = 0; spin < 50; ++spin) std::this_thread::yield();
    for (int i = 0; i < kWorkers; ++i)
      if (ctx.managed[i].load() != before[i]) moved_in = cycle;
    ASSERT_EQ(tl_resume_others(), TL_OK);
  }
  ctx.stop = true;
  for (auto id : ids) ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_EQ(moved_in, -1) << "a worker ran managed code while the world was stopped (cycle " << moved_in << ")";
}

// A target's acknowledgement of an older stop can land after a newer stop
// acknowledged it (see LeavingManagedAcknowledgesOnlyTheStopThatAsked); it
// must not take the newer acknowledgement back.
TEST(Suspend, AcknowledgementsOnlyGrow) {
  Workers w(Mode::ManagedPolling, 1);
  w.wait_running();
  ASSERT_EQ(tl_suspend_others(), TL_OK) << tl_last_error();
  const uint64_t gen = tl::world::stop_gen();
  tl::registry().lock();
  tl::Record* r = tl::registry().find_by_id_locked(w.ids()[0]);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->acked_gen.load(), gen);
  tl::world::acknowledge(r, gen - 1);  // the late store of the stop before
  const uint64_t after = r->acked_gen.load();
  tl::registry().unlock();
  ASSERT_EQ(tl_resume_others(), TL_OK);
  EXPECT_EQ(after, gen) << "a late acknowledgement of stop " << gen - 1 << " took back the acknowledgement of stop " << gen;
}

TEST(Suspend, LostSignalsAreRecoveredByResending) {
  Workers pure(Mode::ManagedPure, 4);
  pure.wait_running();
  tl_suspend_stats before{}, after{};
  ASSERT_EQ(tl_get_suspend_stats(&before), TL_OK);
  tl_debug_drop_suspend_signals(3);
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(tl_suspend_others(), TL_OK) << "cycle " << i << ": " << tl_last_error();
    ASSERT_EQ(tl_resume_others(), TL_OK);
  }
  tl_debug_drop_suspend_signals(0);
  ASSERT_EQ(tl_get_suspend_stats(&after), TL_OK);
  EXPECT_GT(after.resends, before.resends);
  EXPECT_EQ(after.timeouts, before.timeouts);
}

TEST(Suspend, NestsWithASuspendCount) {
  Workers w(Mode::ManagedPolling, 2);
  w.wait_running();
  ASSERT_EQ(tl_suspend_others(), TL_OK);
  ASSERT_EQ(tl_suspend_others(), TL_OK);
  tl::registry().lock();
  for (tl_thread_id id : w.ids()) EXPECT_EQ(tl::registry().find_by_id_locked(id)->suspend_count.load(), 2);
  tl::registry().unlock();
  ASSERT_EQ(tl_resume_others(), TL_OK);
  EXPECT_EQ(tl_world_is_stopped(), 1);
  EXPECT_TRUE(frozen_for_a_while(w));
  uint64_t mark = w.progress();
  ASSERT_EQ(tl_resume_others(), TL_OK);
  EXPECT_EQ(tl_world_is_stopped(), 0);
  wait_progress_beyond(w, mark);
}

TEST(Suspend, ConcurrentStoppersAreSerialised) {
  Workers w(Mode::ManagedPolling, 4);
  w.wait_running();
  std::atomic<int> inside{0}, overlap{0}, errors{0};
  struct Ctx {
    std::atomic<int>* inside;
    std::atomic<int>* overlap;
    std::atomic<int>* errors;
  } ctx{&inside, &overlap, &errors};
  std::vector<tl_thread_id> ids(3);
  for (auto& id : ids)
    ASSERT_EQ(tl_spawn("stopper", [](void* p) {
                auto* c = static_cast<Ctx*>(p);
                for (int i = 0; i < 300; ++i) {
                  if (tl_suspend_others() != TL_OK) {
                    if (c->errors->fetch_add(1) == 0) ADD_FAILURE() << tl_last_error();
                    continue;
                  }
                  if (c->inside->fetch_add(1) != 0) c->overlap->fetch_add(1);
                  c->inside->fetch_sub(1);
                  if (tl_resume_others() != TL_OK) c->errors->fetch_add(1);
                  tl_safepoint();
                }
              }, &ctx, &id), TL_OK);
  for (auto id : ids) ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(overlap.load(), 0);
}

TEST(Suspend, SpawnAndExitDuringStopsAreSafe) {
  // Threads being created, exiting and adopted while others stop the world.
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::thread churn([&] {
    tl_callback_enter();
    while (!stop.load()) {
      tl_thread_id id;
      if (tl_spawn("short", [](void*) { tl_safepoint(); }, nullptr, &id) != TL_OK || tl_join(id) != TL_OK)
        errors.fetch_add(1);
    }
    tl_callback_exit();
  });
  std::thread adopters([&] {
    while (!stop.load()) {
      std::thread([&] {
        if (tl_callback_enter() != TL_OK) errors.fetch_add(1);
        tl_safepoint();
        tl_callback_exit();
      }).join();
    }
  });
  for (int i = 0; i < 500; ++i) {
    ASSERT_EQ(tl_suspend_others(), TL_OK) << tl_last_error();
    ASSERT_EQ(tl_resume_others(), TL_OK);
  }
  stop = true;
  churn.join();
  adopters.join();
  EXPECT_EQ(errors.load(), 0);
  tl_violation v[4];
  EXPECT_EQ(tl_check_integrity(v, 4), 0) << v[0].what;
}

TEST(Suspend, ForeignThreadCannotReturnWhileStopped) {
  struct Ctx {
    std::atomic<bool> in_foreign{false}, go_back{false}, returned{false};
  } ctx;
  tl_thread_id id;
  ASSERT_EQ(tl_spawn("returner", [](void* p) {
              auto* c = static_cast<Ctx*>(p);
              tl_foreign_begin();
              c->in_foreign = true;
              while (!c->go_back.load()) {
#if defined(TL_UNDER_TSAN)
                sigset_t unused;
                pthread_sigmask(SIG_BLOCK, nullptr, &unused);
#endif
              }
              tl_foreign_end();
              c->returned = true;
            }, &ctx, &id), TL_OK);
  while (!ctx.in_foreign.load()) std::this_thread::yield();
  ASSERT_EQ(tl_suspend_others(), TL_OK);
  ctx.go_back = true;
  for (int i = 0; i < 2000; ++i) {
    std::this_thread::yield();
    ASSERT_FALSE(ctx.returned.load()) << "returned to managed code while the world was stopped";
  }
  ASSERT_EQ(tl_resume_others(), TL_OK);
  ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_TRUE(ctx.returned.load());
}

TEST(Suspend, NoInterruptWindowDefersTheStop) {
  // The thread holds a window open until it sees that a stop was deferred
  // because of it, then closes it, and must stop right there.
  struct Ctx {
    std::atomic<bool> in_window{false}, left{false};
    std::atomic<uint64_t> progress{0};
    uint64_t deferred_before = 0;
  } ctx;
  tl_suspend_stats s0{};
  tl_get_suspend_stats(&s0);
  ctx.deferred_before = s0.deferred;
  tl_thread_id id;
  ASSERT_EQ(tl_spawn("window", [](void* p) {
              auto* c = static_cast<Ctx*>(p);
              tl_no_interrupt_begin();
              c->in_window = true;
              tl_suspend_stats s{};
              do {
                c->progress.fetch_add(1);
                tl_get_suspend_stats(&s);  // an intercepted call under TSan, too
              } while (s.deferred == c->deferred_before);
              tl_no_interrupt_end();  // the deferred stop is taken here
              c->left = true;
            }, &ctx, &id), TL_OK);
  while (!ctx.in_window.load()) std::this_thread::yield();
  ASSERT_EQ(tl_suspend_others(), TL_OK) << tl_last_error();
  EXPECT_FALSE(ctx.left.load()) << "ran past the end of its window while the world was stopped";
  uint64_t p = ctx.progress.load();
  for (int i = 0; i < 1000; ++i) std::this_thread::yield();
  EXPECT_EQ(ctx.progress.load(), p);
  ASSERT_EQ(tl_resume_others(), TL_OK);
  ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_TRUE(ctx.left.load());
}

TEST(SuspendErrors, UnknownThreadAndUnbalancedResume) {
  std::thread([] {
    EXPECT_EQ(tl_suspend_others(), TL_EUNKNOWN);
    EXPECT_NE(std::strstr(tl_last_error(), "has no record"), nullptr) << tl_last_error();
    EXPECT_EQ(tl_resume_others(), TL_EUNBALANCED);
  }).join();
  EXPECT_EQ(tl_resume_others(), TL_EUNBALANCED);
  EXPECT_EQ(tl_no_interrupt_end(), TL_EUNBALANCED);
  EXPECT_EQ(tl_foreign_end(), TL_ESTATE);
}

TEST(SuspendErrors, AThreadThatNeverAnswersIsNamed) {
  if (!tl_injection_compiled()) GTEST_SKIP() << "injection points compiled out";
  // Every signal lost and no resend (the drop_every_nth_signal defect with
  // n = 1): the stopper must give up, name the thread, and resume the rest.
  Workers w(Mode::ManagedPure, 1);
  w.wait_running();
  tl_debug_drop_suspend_signals(1);
  ASSERT_EQ(tl_inject_enable("drop_every_nth_signal"), TL_OK);
  int rc = tl_suspend_others();
  tl::inject::g_enabled.store(0);
  tl_debug_drop_suspend_signals(0);
  ASSERT_EQ(rc, TL_ETIMEDOUT);
  std::string msg = tl_last_error();
  EXPECT_NE(msg.find("never answered"), std::string::npos) << msg;
  EXPECT_NE(msg.find("thread " + std::to_string(w.ids()[0])), std::string::npos) << msg;
  EXPECT_NE(msg.find("managed"), std::string::npos) << msg;
  EXPECT_EQ(tl_world_is_stopped(), 0);
  // The runtime is still usable.
  ASSERT_EQ(tl_suspend_others(), TL_OK) << tl_last_error();
  ASSERT_EQ(tl_resume_others(), TL_OK);
}

}  // namespace
