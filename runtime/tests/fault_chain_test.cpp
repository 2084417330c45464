// fault_chain_test.cpp — a SIGSEGV handler the program installed before
// tl_init: faults that are not the runtime's reach it, its dispositions
// come back at tl_fault_restore_handlers. Its own main: tl_init must run
// after the handler is installed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>

#include "threadlab/runtime.h"

namespace {

std::atomic<int> g_calls{0};
void* g_page = nullptr;

// Makes the page writable and resumes: a lazily committed mapping, the
// program's own use of SIGSEGV.
void program_handler(int, siginfo_t* si, void*) {
  g_calls++;
  if (si->si_addr == g_page) mprotect(g_page, 4096, PROT_READ | PROT_WRITE);
}

TEST(FaultChain, FaultsThatAreNotTheRuntimesReachTheEarlierHandler) {
  *static_cast<volatile int*>(g_page) = 7;
  EXPECT_EQ(g_calls.load(), 1);
  EXPECT_EQ(*static_cast<volatile int*>(g_page), 7);
  tl_fault_stats s{};
  ASSERT_EQ(tl_get_fault_stats(&s), TL_OK);
  EXPECT_EQ(s.chained, 1u);
}

TEST(FaultChain, OverflowStaysTheRuntimes) {
  const int calls = g_calls.load();
  const int rc = tl_catch([](void*) -> int {
    for (;;) tl_value_push_unchecked(1);
  }, nullptr);
  EXPECT_EQ(rc, TL_EOVERFLOW);
  EXPECT_EQ(g_calls.load(), calls) << "the runtime's own fault reached the program's handler";
}

TEST(FaultChain, RestoreGivesTheProgramItsHandlerBack) {
  ASSERT_EQ(tl_fault_restore_handlers(), TL_OK);
  struct sigaction now{};
  sigaction(SIGSEGV, nullptr, &now);
  EXPECT_EQ(now.sa_sigaction, program_handler);
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  g_page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct sigaction sa{};
  sa.sa_sigaction = program_handler;
  sa.sa_flags = SA_SIGINFO;
  if (g_page == MAP_FAILED || sigaction(SIGSEGV, &sa, nullptr) != 0) return 2;
  if (tl_init(nullptr) != TL_OK) {
    fprintf(stderr, "tl_init: %s\n", tl_last_error());
    return 2;
  }
  return RUN_ALL_TESTS();
}
