// test_main.cpp — GoogleTest main for runtime suites: initialises the
// runtime once, on the main thread, before any test runs.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "threadlab/runtime.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Death tests fork; "threadsafe" re-executes the binary so the child does
  // not inherit the parent's threads.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // TL_TEST_POLICY=hybrid runs the suite under the hybrid suspension
  // policy (CTest registers the stop-the-world suites under both).
  tl_config cfg;
  tl_config_defaults(&cfg);
  const char* policy = std::getenv("TL_TEST_POLICY");
  if (policy && std::strcmp(policy, "hybrid") == 0) cfg.suspend_policy = TL_SUSPEND_HYBRID;
  cfg.suspend_timeout_ms = 3000;
  if (int rc = tl_init(&cfg); rc != TL_OK) {
    std::fprintf(stderr, "tl_init failed: %s\n", tl_last_error());
    return 2;
  }
  return RUN_ALL_TESTS();
}
