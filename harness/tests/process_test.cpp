// process_test.cpp — the environment a runner child gets: env_extra replaces
// the parent's variable of the same name (one entry, never two), and the
// GLIBC_TUNABLES of scenario children switch glibc's stack cache off while
// keeping the user's own tunables.
#include <poll.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <string>

#include "runner/process.h"
#include "runner/runner.h"

namespace threadlab {
namespace {

// Runs argv with env_extra to completion; returns what it printed.
std::string run_with_env(const std::vector<std::string>& argv, const std::vector<std::string>& extra) {
  SpawnSpec spec;
  spec.argv = argv;
  spec.env_extra = extra;
  Proc p;
  std::string err;
  EXPECT_TRUE(proc_spawn(spec, &p, &err)) << err;
  while (!proc_try_reap(&p)) {
    pollfd fd{p.out_fd, POLLIN, 0};
    poll(&fd, 1, 100);
    proc_drain(&p);
  }
  EXPECT_TRUE(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
  return p.out.text();
}

TEST(ProcessEnv, ExtraVariableReplacesTheParentsOfTheSameName) {
  ASSERT_EQ(setenv("TL_PROCESS_TEST_VAR", "parent", 1), 0);
  ASSERT_EQ(setenv("TL_PROCESS_TEST_VARX", "kept", 1), 0);
  const std::string out = run_with_env({"/usr/bin/env"}, {"TL_PROCESS_TEST_VAR=child"});
  EXPECT_NE(out.find("TL_PROCESS_TEST_VAR=child\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("TL_PROCESS_TEST_VAR=parent"), std::string::npos) << out;
  // A variable whose name merely starts with the overridden one stays.
  EXPECT_NE(out.find("TL_PROCESS_TEST_VARX=kept\n"), std::string::npos) << out;
  unsetenv("TL_PROCESS_TEST_VAR");
  unsetenv("TL_PROCESS_TEST_VARX");
}

TEST(ProcessEnv, ScenarioChildrenRunWithoutGlibcsStackCache) {
  EXPECT_EQ(child_glibc_tunables(nullptr), "GLIBC_TUNABLES=glibc.pthread.stack_cache_size=0");
  EXPECT_EQ(child_glibc_tunables(""), "GLIBC_TUNABLES=glibc.pthread.stack_cache_size=0");
  EXPECT_EQ(child_glibc_tunables("glibc.malloc.arena_max=2"),
            "GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.pthread.stack_cache_size=0");
  // The user's own choice of the cache wins.
  EXPECT_EQ(child_glibc_tunables("glibc.pthread.stack_cache_size=1048576"),
            "GLIBC_TUNABLES=glibc.pthread.stack_cache_size=1048576");
}

}  // namespace
}  // namespace threadlab
