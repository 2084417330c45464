// wait_graph_test.cpp — cycle detection in the wait-for graph.
#include <gtest/gtest.h>

#include "probes/wait_graph.h"

using namespace threadlab;

static tl_adapter_wait_edge edge(uint64_t w, uint64_t o) {
  tl_adapter_wait_edge e{};
  e.waiter = w;
  e.owner = o;
  return e;
}

TEST(WaitGraph, FindsAnAbbaCycle) {
  auto c = find_wait_cycle({edge(1, 2), edge(2, 1)});
  ASSERT_EQ(c.size(), 2u);
}

TEST(WaitGraph, ChainWithoutCycleIsNotADeadlock) {
  EXPECT_TRUE(find_wait_cycle({edge(1, 2), edge(2, 3)}).empty());
}

TEST(WaitGraph, CycleReachedFromATail) {
  auto c = find_wait_cycle({edge(9, 1), edge(1, 2), edge(2, 3), edge(3, 1)});
  ASSERT_EQ(c.size(), 3u);
  for (auto& e : c) EXPECT_NE(e.waiter, 9u);
}

TEST(WaitGraph, UnownedLockIsNoEdge) { EXPECT_TRUE(find_wait_cycle({edge(1, 0)}).empty()); }
