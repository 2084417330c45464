// leak_analysis_test.cpp — the leak rule: slopes, warm-up exclusion, steps
// that are not leaks, and naming the new items.
#include <gtest/gtest.h>

#include "probes/leak_analysis.h"

using namespace threadlab;

namespace {
ProbeSample fds(int n) {
  ProbeSample s;
  s.counters.push_back({"fd_eventfd", static_cast<double>(n), Unit::Count, true});
  for (int i = 0; i < n; ++i) s.items["fds"]["fd " + std::to_string(10 + i)] = "anon_inode:[eventfd] (eventfd)";
  return s;
}
}  // namespace

TEST(LeakAnalysis, SlopeOfALine) {
  EXPECT_DOUBLE_EQ(slope({1, 3, 5, 7}, 0), 2.0);
  EXPECT_DOUBLE_EQ(slope({100, 0, 1, 2, 3}, 1), 1.0);
  EXPECT_DOUBLE_EQ(slope({5}, 0), 0.0);
}

TEST(LeakAnalysis, OnePerCycleIsALeakAndNamesTheNewFds) {
  SeriesSet s(2);
  for (int c = 0; c < 10; ++c) {
    auto p = fds(c);
    s.add(p);
    s.end_sample(&p);
  }
  auto leaks = s.leaks();
  ASSERT_EQ(leaks.size(), 1u);
  EXPECT_EQ(leaks[0]["counter"], "fd_eventfd");
  EXPECT_NEAR(leaks[0]["slope"].get<double>(), 1.0, 1e-9);
  ASSERT_FALSE(leaks[0]["new"].empty());
  EXPECT_NE(leaks[0]["new"][0].get<std::string>().find("eventfd"), std::string::npos);
}

TEST(LeakAnalysis, WarmupGrowthAndASingleStepAreNotLeaks) {
  SeriesSet s(4);
  const double v[] = {0, 5, 10, 15, 20, 20, 20, 20, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28};
  for (double x : v) {
    s.add_counter("threads", x, Unit::Count, true);
    s.end_sample(nullptr);
  }
  EXPECT_TRUE(s.leaks().empty());
}

TEST(LeakAnalysis, UnjudgedCountersNeverLeak) {
  SeriesSet s(0);
  for (int c = 0; c < 10; ++c) {
    s.add_counter("rss_bytes", c * 1e6, Unit::Bytes, false);
    s.end_sample(nullptr);
  }
  EXPECT_TRUE(s.leaks().empty());
}

TEST(LeakAnalysis, TooFewSamplesGiveNoVerdict) {
  SeriesSet s(2);
  for (int c = 0; c < 5; ++c) {
    s.add_counter("threads", c, Unit::Count, true);
    s.end_sample(nullptr);
  }
  EXPECT_TRUE(s.leaks().empty());
}

TEST(LeakAnalysis, JudgementCarriesWhatTheRuleLookedAt) {
  // Bytes: a steep slope from two big steps is not a leak (2 rises of 7).
  auto j = judge_series({0, 0, 0, 0, 0, 8192 * 4, 8192 * 4, 8192 * 4, 8192 * 8, 8192 * 8}, Unit::Bytes, 2);
  EXPECT_TRUE(j.enough);
  EXPECT_EQ(j.steps, 7u);
  EXPECT_EQ(j.rises, 2u);
  EXPECT_EQ(j.rises_needed, 5u);
  EXPECT_GE(j.slope, j.threshold);
  EXPECT_FALSE(j.leaking);
  // Counts: one per cycle after warm-up leaks; the fit starts at the first judged value.
  auto k = judge_series({9, 9, 1, 2, 3, 4, 5}, Unit::Count, 2);
  EXPECT_TRUE(k.leaking);
  EXPECT_DOUBLE_EQ(k.slope, 1.0);
  EXPECT_DOUBLE_EQ(k.intercept, 1.0);
  EXPECT_DOUBLE_EQ(k.threshold, 0.3);
  EXPECT_FALSE(judge_series({1, 2, 3}, Unit::Count, 0).enough);
}

// Mappings of a cache of guarded stacks split and merge as slots are
// reopened and retired: the count wanders by one and now and then jumps to
// a new high-water mark. Seen at 64 threads (ci/scale, spawn-exit-churn);
// its least-squares slope passes the threshold, but it is not steady growth.
TEST(LeakAnalysis, AWanderingCountWithJumpsIsNotALeak) {
  auto j = judge_series({700, 710, 720, 725, 731, 730, 729, 729, 731, 734, 735, 746, 747, 748, 749, 749, 748, 747, 748, 748},
                        Unit::Count, 4);
  EXPECT_GE(j.slope, j.threshold);
  EXPECT_EQ(j.rises, 8u);
  EXPECT_EQ(j.falls, 4u);
  EXPECT_FALSE(j.leaking);
  // A steady climb of one per cycle that now and then stalls or slips back
  // by one is a leak.
  auto k = judge_series({0, 0, 0, 0, 10, 11, 12, 12, 13, 14, 13, 15, 16, 17, 17, 18, 19, 18, 20, 21}, Unit::Count, 4);
  EXPECT_EQ(k.falls, 2u);
  EXPECT_TRUE(k.leaking);
}
