// test_main.cpp — GoogleTest main for runtime suites: initialises the
// runtime once, on the main thread, before any test runs.
#include <gtest/gtest.h>

#include <cstdio>

#include "threadlab/runtime.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Death tests fork; "threadsafe" re-executes the binary so the child does
  // not inherit the parent's threads.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  if (int rc = tl_init(nullptr); rc != TL_OK) {
    std::fprintf(stderr, "tl_init failed: %s\n", tl_last_error());
    return 2;
  }
  return RUN_ALL_TESTS();
}
