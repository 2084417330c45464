// fatal_test.cpp — the fatal-error path needs no record, cannot re-enter
// itself, reports once when many threads fail at once, and (with the
// fatal_path_needs_record defect injected) the harness can see the
// recursive crash it guards against.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>
#include <vector>

#include "threadlab/runtime.h"

TEST(FatalDeathTest, ReportsFromAThreadWithoutARecord) {
  EXPECT_EXIT(
      {
        std::thread([] {
          if (tl_self() != 0) _exit(3);
          tl_fatal("no record here");
        }).join();
        _exit(0);
      },
      ::testing::KilledBySignal(SIGABRT), "threadlab: fatal: no record here \\[tid [0-9]+\\]");
}

TEST(FatalDeathTest, ConcurrentFatalErrorsReportExactlyOnce) {
  EXPECT_EXIT(
      {
        std::vector<std::thread> ts;
        for (int i = 0; i < 8; ++i) ts.emplace_back([] { tl_fatal("many"); });
        for (auto& t : ts) t.join();
        _exit(0);
      },
      ::testing::KilledBySignal(SIGABRT), "^threadlab: fatal: many \\[tid [0-9]+\\]\n$");
}

namespace {
void reenter_on_abrt(int) { tl_fatal("from the SIGABRT handler"); }
}  // namespace

TEST(FatalDeathTest, ACaughtAbortCannotLeadBackIn) {
  // A program that catches SIGABRT and calls the fatal path again must not
  // loop: the fatal path resets SIGABRT to its default first.
  EXPECT_EXIT(
      {
        signal(SIGABRT, reenter_on_abrt);
        tl_fatal("first");
      },
      ::testing::KilledBySignal(SIGABRT), "^threadlab: fatal: first \\[tid [0-9]+\\]\n$");
}

TEST(FatalDeathTest, InjectedRecordLookupRecursesUntilItCrashes) {
  if (!tl_injection_compiled()) GTEST_SKIP() << "injection points compiled out in this build";
  // The defect the harness must catch: the report is never printed, the
  // process dies of the recursion instead.
  auto body = [] {
    if (tl_inject_enable("fatal_path_needs_record") != TL_OK) _exit(3);
    std::thread([] { tl_fatal("should recurse"); }).join();
    _exit(0);
  };
#if defined(TL_UNDER_ASAN)
  // AddressSanitizer catches the overflow itself and aborts.
  EXPECT_EXIT(body(), ::testing::KilledBySignal(SIGABRT), "AddressSanitizer: stack-overflow");
#else
  EXPECT_EXIT(body(), ::testing::KilledBySignal(SIGSEGV), "");
#endif
}
