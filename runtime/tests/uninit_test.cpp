// uninit_test.cpp — every entry point before tl_init, bad configurations,
// and double initialisation. Its own binary: tl_init is never called by a
// test main here. The runtime cannot be shut down again, so each test that
// could initialise it runs its body in a forked child (IN_CHILD): the test
// process itself stays uninitialised, and the tests pass in any order and
// under --gtest_repeat.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "threadlab/runtime.h"

// Run `body` in a forked child; the child exits 1 if any expectation in it
// failed (its messages show in the death test's output).
#define IN_CHILD(body)                                                     \
  EXPECT_EXIT(                                                             \
      {                                                                    \
        body;                                                              \
        std::exit(::testing::Test::HasFailure() ? 1 : 0);                  \
      },                                                                   \
      ::testing::ExitedWithCode(0), "")

TEST(Uninitialised, EveryCallFailsWithENOTINITAndAMessage) {
  IN_CHILD({
    ASSERT_FALSE(tl_is_initialized());
    tl_thread_id id = 0;
    EXPECT_EQ(tl_spawn("x", [](void*) {}, nullptr, &id), TL_ENOTINIT);
    EXPECT_NE(std::strstr(tl_last_error(), "tl_init"), nullptr) << tl_last_error();
    EXPECT_NE(std::strstr(tl_last_error(), "tl_spawn"), nullptr) << tl_last_error();
    EXPECT_EQ(tl_join(1), TL_ENOTINIT);
    EXPECT_EQ(tl_callback_enter(), TL_ENOTINIT);
    EXPECT_EQ(tl_callback_exit(), TL_ENOTINIT);
    size_t n = 0;
    EXPECT_EQ(tl_thread_list(nullptr, 0, &n), TL_ENOTINIT);
    tl_counters c;
    EXPECT_EQ(tl_get_counters(&c), TL_ENOTINIT);
    EXPECT_EQ(tl_check_integrity(nullptr, 0), TL_ENOTINIT);
    EXPECT_EQ(tl_set_adoption(1), TL_ENOTINIT);
    EXPECT_EQ(tl_trim(), TL_ENOTINIT);
    EXPECT_EQ(tl_self(), 0u);
    EXPECT_EQ(tl_value_push(1), TL_EUNKNOWN);
  });
}

TEST(Uninitialised, StatusCodesAreDistinctAndNamed) {
  std::set<std::string> names;
  for (int s = TL_ENOTFOUND; s <= TL_OK; ++s) {
    std::string n = tl_strerror(s);
    EXPECT_NE(n, "unknown status") << s;
    names.insert(n);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(TL_OK - TL_ENOTFOUND + 1));
}

TEST(Uninitialised, BadConfigurationsAreRefusedAndLeaveItUninitialised) {
  IN_CHILD({
    tl_config cfg;
    tl_config_defaults(&cfg);
    cfg.control_stack_bytes = 3 << 20;
    EXPECT_EQ(tl_init(&cfg), TL_EINVAL);
    EXPECT_NE(std::strstr(tl_last_error(), "power of two"), nullptr);
    tl_config_defaults(&cfg);
    cfg.suspend_policy = 7;
    EXPECT_EQ(tl_init(&cfg), TL_EINVAL);
    EXPECT_FALSE(tl_is_initialized());
  });
}

TEST(Uninitialised, UnknownInjectionPointIsNamed) {
  IN_CHILD({
    setenv("THREADLAB_INJECT", "no_such_defect", 1);
    EXPECT_EQ(tl_init(nullptr), TL_EINJECT);
    EXPECT_NE(std::strstr(tl_last_error(), "no_such_defect"), nullptr) << tl_last_error();
    unsetenv("THREADLAB_INJECT");
    EXPECT_FALSE(tl_is_initialized());
  });
}

TEST(Uninitialised, InitOnceThenAlready) {
  IN_CHILD({
    ASSERT_EQ(tl_init(nullptr), TL_OK);
    EXPECT_TRUE(tl_is_initialized());
    EXPECT_EQ(tl_init(nullptr), TL_EALREADY);
    EXPECT_EQ(tl_callback_exit(), TL_EUNBALANCED);
    // The process stays usable after every error above.
    tl_thread_id id = 0;
    ASSERT_EQ(tl_spawn("after", [](void*) {}, nullptr, &id), TL_OK);
    EXPECT_EQ(tl_join(id), TL_OK);
  });
}
