// progress_test.cpp — the pure parts of "slow is not stuck": judge_cpu (exec's
// outside view), watchdog_plan (the child's stall and time-up rule) and
// run_timeout (timeouts that grow with the work asked for).
//
// Invariant: each test states a case where the wrong rule gives the other
// answer (asleep vs busy, deadlock vs timeout, grown vs not).
#include <gtest/gtest.h>

#include "child/watchdog.h"
#include "probes/cpu_judge.h"
#include "runner/runner.h"

namespace threadlab {
namespace {

TEST(JudgeCpu, EveryThreadAsleepIsNotBusy) {
  auto j = judge_cpu({{1, 0.50}, {2, 0.02}}, {{1, 0.50}, {2, 0.02}}, 5.0);
  EXPECT_FALSE(j.busy);
  EXPECT_EQ(j.threads, 2);
  EXPECT_EQ(j.busy_threads, 0);
  EXPECT_DOUBLE_EQ(j.cpu_s, 0.0);
}

TEST(JudgeCpu, ASpinningThreadIsBusyEvenBesideSleepers) {
  auto j = judge_cpu({{1, 0.1}, {2, 3.0}, {3, 0}}, {{1, 0.1}, {2, 7.5}, {3, 0}}, 5.0);
  EXPECT_TRUE(j.busy);
  EXPECT_EQ(j.busy_threads, 1);
  EXPECT_NEAR(j.cpu_s, 4.5, 1e-9);
}

TEST(JudgeCpu, OneTickInALongWindowIsStillAsleep) {
  // A stray wakeup (one 10 ms tick in 10 s) is under 2 % of the window.
  auto j = judge_cpu({{1, 1.0}}, {{1, 1.01}}, 10.0);
  EXPECT_EQ(j.busy_threads, 1);
  EXPECT_FALSE(j.busy);
}

TEST(JudgeCpu, AThreadBornInTheWindowCountsAllItsTime) {
  auto j = judge_cpu({{1, 2.0}}, {{1, 2.0}, {9, 0.8}}, 2.0);
  EXPECT_TRUE(j.busy);
  EXPECT_NEAR(j.cpu_s, 0.8, 1e-9);
  // A reused tid with less time than before never counts negative.
  EXPECT_NEAR(judge_cpu({{5, 3.0}}, {{5, 0.3}}, 2.0).cpu_s, 0.3, 1e-9);
}

TEST(WatchdogPlan, WithoutAStallAllowanceTheHangIsCalledAtTimeUp) {
  auto p = watchdog_plan(30, 0);
  EXPECT_EQ(p.stall_ms, p.time_up_ms);
  EXPECT_EQ(p.time_up_ms, 28000);  // 30 s less the 2 s margin
  EXPECT_EQ(p.recent_ms, 7000);
}

TEST(WatchdogPlan, AStallAllowanceCallsAHangBeforeAGrownTimeout) {
  auto p = watchdog_plan(480, 30);
  EXPECT_EQ(p.time_up_ms, 478000);
  EXPECT_EQ(p.stall_ms, 28000);
  EXPECT_EQ(p.recent_ms, 7000);
  EXPECT_EQ(watchdog_plan(2, 0).recent_ms, 500);       // floor
  EXPECT_EQ(watchdog_plan(600, 600).recent_ms, 10000);  // ceiling
}

Scenario scenario(int threads, int iterations, int cycles, int timeout_s) {
  Scenario s{};
  s.name = "t";
  s.description = "";
  s.defaults.threads = threads;
  s.defaults.iterations = iterations;
  s.defaults.cycles = cycles;
  s.timeout_s = timeout_s;
  return s;
}

TEST(RunTimeout, DefaultSizeKeepsTheScenarioTimeout) {
  Job j;
  auto t = run_timeout(scenario(4, 50, 20, 30), j, std::nullopt);
  EXPECT_DOUBLE_EQ(t.timeout_s, 30);
  EXPECT_DOUBLE_EQ(t.stall_s, 30);
}

TEST(RunTimeout, GrowsWithEachParameterAskedAboveItsDefault) {
  Job j;
  j.threads = 64;      // x16
  j.iterations = 25;   // below the default: x1, never shrinks
  j.cycles = 40;       // x2
  auto t = run_timeout(scenario(4, 50, 20, 30), j, std::nullopt);
  EXPECT_DOUBLE_EQ(t.timeout_s, 30 * 16 * 2);
  EXPECT_DOUBLE_EQ(t.stall_s, 30);  // a hang is called as soon as at default size
}

TEST(RunTimeout, GrowthIsCappedAndAnExplicitTimeoutWins) {
  Job j;
  j.threads = 1024;
  j.iterations = 5000;
  EXPECT_DOUBLE_EQ(run_timeout(scenario(4, 50, 20, 10), j, std::nullopt).timeout_s, 10 * kMaxTimeoutGrowth);
  auto t = run_timeout(scenario(4, 50, 20, 10), j, 7.0);
  EXPECT_DOUBLE_EQ(t.timeout_s, 7);
  EXPECT_DOUBLE_EQ(t.stall_s, 7);
}

}  // namespace
}  // namespace threadlab
