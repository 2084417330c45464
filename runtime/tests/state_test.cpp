// state_test.cpp — the record state machine: every edge of the table is
// allowed, every other move is refused, and a refused move is fatal.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "state.h"

using tl::State;

namespace {
const State kAll[] = {State::Creating, State::Managed, State::Foreign,
                      State::Blocked, State::Exiting, State::Dead};
}

TEST(StateMachine, TableHasExactlyTheDocumentedEdges) {
  std::set<std::pair<State, State>> edges = {
      {State::Creating, State::Managed}, {State::Creating, State::Dead},
      {State::Managed, State::Foreign},  {State::Managed, State::Blocked},
      {State::Managed, State::Exiting},  {State::Foreign, State::Managed},
      {State::Foreign, State::Exiting},  {State::Blocked, State::Managed},
      {State::Exiting, State::Dead}};
  for (State a : kAll)
    for (State b : kAll)
      EXPECT_EQ(tl::transition_allowed(a, b), edges.count({a, b}) == 1)
          << tl::state_name(a) << " -> " << tl::state_name(b);
}

TEST(StateMachine, TransitionKeepsFlagBits) {
  std::atomic<uint32_t> word{0xab00u | static_cast<uint32_t>(State::Managed)};
  tl::transition(word, State::Managed, State::Blocked, 1);
  EXPECT_EQ(tl::state_of(word.load()), State::Blocked);
  EXPECT_EQ(word.load() & ~tl::kStateMask, 0xab00u);
}

TEST(StateMachine, DeadIsTerminal) {
  for (State b : kAll) EXPECT_FALSE(tl::transition_allowed(State::Dead, b));
}

TEST(StateMachineDeathTest, IllegalEdgeIsFatalAndNamed) {
  EXPECT_DEATH(
      {
        std::atomic<uint32_t> word{static_cast<uint32_t>(State::Dead)};
        tl::transition(word, State::Dead, State::Managed, 42);
      },
      "invalid state transition dead \\(expected dead\\) -> managed for thread 42");
}

TEST(StateMachineDeathTest, WrongCurrentStateIsFatal) {
  EXPECT_DEATH(
      {
        std::atomic<uint32_t> word{static_cast<uint32_t>(State::Foreign)};
        tl::transition(word, State::Managed, State::Blocked, 7);
      },
      "invalid state transition foreign \\(expected managed\\) -> blocked");
}

TEST(StateMachine, NamesMatchTheCAbi) {
  EXPECT_STREQ(tl_state_name(TL_STATE_EXITING), "exiting");
  EXPECT_STREQ(tl_state_name(99), "invalid");
}

// The edge list in state.h's header comment is the table, not a drawing of
// it: every edge listed is allowed, and every allowed edge is listed.
TEST(StateMachine, HeaderEdgeListMatchesTheTable) {
  std::ifstream in(TL_RUNTIME_SRC "/state.h");
  ASSERT_TRUE(in) << "cannot read " TL_RUNTIME_SRC "/state.h";
  const char* names[] = {"CREATING", "MANAGED", "FOREIGN", "BLOCKED", "EXITING", "DEAD"};
  bool listed[tl::kStateCount][tl::kStateCount] = {};
  int from_lines = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("//   ", 0) != 0 || line.find("->") == std::string::npos) continue;
    std::istringstream words(line.substr(2));
    std::string from, arrow, to;
    words >> from >> arrow;
    int f = -1;
    for (int i = 0; i < tl::kStateCount; ++i)
      if (from == names[i]) f = i;
    ASSERT_GE(f, 0) << line;
    ++from_lines;
    while (words >> to) {
      if (to == "|" || to == "(none)") continue;
      int t = -1;
      for (int i = 0; i < tl::kStateCount; ++i)
        if (to == names[i]) t = i;
      ASSERT_GE(t, 0) << line;
      listed[f][t] = true;
    }
  }
  EXPECT_EQ(from_lines, tl::kStateCount);
  for (int f = 0; f < tl::kStateCount; ++f)
    for (int t = 0; t < tl::kStateCount; ++t)
      EXPECT_EQ(listed[f][t], tl::transition_allowed(static_cast<tl::State>(f), static_cast<tl::State>(t)))
          << names[f] << " -> " << names[t];
}
