// thread_handles_test.cpp — per-thread kernel handles (thread_handles.h):
// every spawned, killed and adopted thread has its own while it lives, as
// the OS shows it (support/kernel_handles.h: POSIX timers on Linux, port
// rights and exception ports on Apple), and none outlives its thread; a
// failed creation is an error of that thread's start; the Linux CPU-time tick
// counts the thread's own CPU time; Apple's exception ports the thread had
// before are back after its release.
//
// Runs on Linux and in the macOS CI jobs. Where the platform refuses the
// handles (qemu-user) the tests skip, naming the reason the runtime gives.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "kernel_handles.h"
#include "record.h"
#include "thread_handles.h"
#include "threadlab/runtime.h"

namespace {

#define SKIP_WITHOUT_HANDLES()                                                          \
  do {                                                                                  \
    const char* why = nullptr;                                                          \
    if (!tl_thread_handles_supported(&why)) GTEST_SKIP() << "per-thread handles are off: " << why; \
  } while (0)

tl_counters counters() {
  tl_counters c{};
  EXPECT_EQ(tl_get_counters(&c), TL_OK);
  return c;
}

std::atomic<int> g_without_handle{0};
std::atomic<bool> g_victim_ready{false};

void check_own_handle(void*) {
  if (!tltest::os_thread_has_handle()) g_without_handle.fetch_add(1);
}

void poll_until_killed(void*) {
  check_own_handle(nullptr);
  g_victim_ready.store(true);
  for (;;) tl_safepoint();
}

void* foreign_callback(void*) {
  if (tl_callback_enter() != TL_OK) {
    g_without_handle.fetch_add(1000);  // not adopted at all
    return nullptr;
  }
  check_own_handle(nullptr);
  tl_callback_exit();
  return nullptr;  // the key destructor releases the record and its handle
}

TEST(ThreadHandles, EveryLifecycleHasItsOwnAndNoneOutlivesIt) {
  SKIP_WITHOUT_HANDLES();
  const long os_before = tltest::os_handle_count();
  ASSERT_GE(os_before, 0) << "the OS view of the handles cannot be read";
  const uint64_t ledger_before = counters().thread_handles;
  g_without_handle = 0;
  constexpr int kCycles = 100;  // 4 lifecycles each: returned, killed, 2 adopted
  for (int c = 0; c < kCycles; ++c) {
    tl_thread_id a = 0, v = 0;
    ASSERT_EQ(tl_spawn("handle-returner", check_own_handle, nullptr, &a), TL_OK) << tl_last_error();
    g_victim_ready = false;
    ASSERT_EQ(tl_spawn("handle-victim", poll_until_killed, nullptr, &v), TL_OK) << tl_last_error();
    while (!g_victim_ready.load()) sched_yield();
    ASSERT_EQ(tl_kill(v, 2000, nullptr), TL_OK) << tl_last_error();
    pthread_t f[2];
    for (auto& t : f) ASSERT_EQ(pthread_create(&t, nullptr, foreign_callback, nullptr), 0);
    for (auto& t : f) pthread_join(t, nullptr);
    ASSERT_EQ(tl_join(a), TL_OK) << tl_last_error();
    ASSERT_EQ(tl_join(v), TL_OK) << tl_last_error();
  }
  EXPECT_EQ(g_without_handle.load(), 0) << "threads that ran without their handle (x1000: not adopted)";
  EXPECT_EQ(counters().thread_handles, ledger_before);
  EXPECT_EQ(tltest::os_handle_count(), os_before) << "handles outlived their threads";
}

void set_flag(void* p) { static_cast<std::atomic<bool>*>(p)->store(true); }

TEST(ThreadHandles, ASpawnedThreadWithoutItsHandleNeverRunsAndJoinSaysWhy) {
  SKIP_WITHOUT_HANDLES();
  const uint64_t before = counters().thread_handles;
  std::atomic<bool> ran{false};
  tl_thread_id id = 0;
  tl_os_fail_next(TL_OS_THREAD_HANDLE, 1);
  ASSERT_EQ(tl_spawn("no-handle", set_flag, &ran, &id), TL_OK) << tl_last_error();
  EXPECT_EQ(tl_join(id), TL_EAGAIN);
  EXPECT_NE(std::strstr(tl_last_error(), "could not create its"), nullptr) << tl_last_error();
  EXPECT_FALSE(ran.load());
  EXPECT_EQ(tl_join(id), TL_ENOTHREAD);  // joined once, all the same
  // The next thread is unaffected.
  ASSERT_EQ(tl_spawn("with-handle", set_flag, &ran, &id), TL_OK);
  EXPECT_EQ(tl_join(id), TL_OK) << tl_last_error();
  EXPECT_TRUE(ran.load());
  EXPECT_EQ(counters().thread_handles, before);
}

void* refused_then_adopted(void* p) {
  auto* out = static_cast<std::string*>(p);
  tl_os_fail_next(TL_OS_THREAD_HANDLE, 1);
  if (tl_callback_enter() != TL_EAGAIN) {
    *out = "first callback was not refused";
    return nullptr;
  }
  const std::string msg = tl_last_error();
  if (msg.find("not adopted") == std::string::npos) *out = "message: " + msg;
  if (tl_self() != 0) *out = "a refused thread has a record";
  if (tl_callback_enter() != TL_OK) {
    *out = std::string("second callback: ") + tl_last_error();
    return nullptr;
  }
  if (!tltest::os_thread_has_handle()) *out = "adopted without its handle";
  tl_callback_exit();
  return nullptr;
}

TEST(ThreadHandles, AForeignThreadWithoutItsHandleIsNotAdoptedAndSaysWhy) {
  SKIP_WITHOUT_HANDLES();
  const uint64_t before = counters().thread_handles;
  const uint64_t records = counters().records_adopted;
  std::string problem;
  pthread_t t;
  ASSERT_EQ(pthread_create(&t, nullptr, refused_then_adopted, &problem), 0);
  pthread_join(t, nullptr);
  EXPECT_EQ(problem, "");
  EXPECT_EQ(counters().thread_handles, before);
  EXPECT_EQ(counters().records_adopted, records);
}

// Owned by the test thread itself: acquire and release on a record that is
// never registered, so the OS view can be checked between the two.
TEST(ThreadHandles, AcquireMakesTheThreadsOwnAndReleaseTakesItBack) {
  SKIP_WITHOUT_HANDLES();
  const long os_before = tltest::os_handle_count();
  const bool had_own = tltest::install_own_exception_port();  // Apple only
  tl::Record r;
  ASSERT_EQ(tl::handles_acquire(&r), TL_OK) << tl_last_error();
  EXPECT_TRUE(tltest::os_thread_has_handle());
  if (had_own) {
    EXPECT_FALSE(tltest::own_exception_port_installed()) << "the runtime's port is not the one installed";
  }
  tl::handles_release(&r);
  tl::handles_release(&r);  // idempotent: the second does nothing
  EXPECT_FALSE(tltest::os_thread_has_handle());
  if (had_own) {
    EXPECT_TRUE(tltest::own_exception_port_installed()) << "the thread's own exception port was not put back";
    tltest::remove_own_exception_port();
  }
  EXPECT_EQ(tltest::os_handle_count(), os_before);
}

#if defined(__linux__)
void* spin_for_ticks(void* p) {
  auto* got = static_cast<std::atomic<uint64_t>*>(p);
  if (tl_callback_enter() != TL_OK) return nullptr;
  // Burn this thread's own CPU time until three ticks arrived, or 10 s of it
  // (a tick that never comes is a failure, not a hang).
  timespec t{};
  while (tl_thread_cpu_ticks() < 3) {
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    if (t.tv_sec >= 10) break;
  }
  got->store(tl_thread_cpu_ticks());
  tl_callback_exit();
  return nullptr;
}

TEST(ThreadHandles, TheCpuTickCountsTheThreadsOwnCpuTimeOnly) {
  SKIP_WITHOUT_HANDLES();
  const uint64_t total_before = counters().cpu_ticks;
  ASSERT_EQ(tl_set_cpu_tick(1000), TL_OK) << tl_last_error();
  // The tick's signal sent by hand is not CPU time.
  const uint64_t mine = tl_thread_cpu_ticks();
  ASSERT_EQ(pthread_kill(pthread_self(), SIGRTMIN + 4), 0);
  EXPECT_EQ(tl_thread_cpu_ticks(), mine);
  std::atomic<uint64_t> got{0};
  pthread_t t;
  ASSERT_EQ(pthread_create(&t, nullptr, spin_for_ticks, &got), 0);
  pthread_join(t, nullptr);
  ASSERT_EQ(tl_set_cpu_tick(0), TL_OK);
  EXPECT_GE(got.load(), 3u) << "a thread that burnt 10 s of CPU got fewer than 3 ticks of 1 ms";
  EXPECT_GE(counters().cpu_ticks - total_before, got.load());
}
#else
TEST(ThreadHandles, TheCpuTickIsLinuxOnly) { EXPECT_EQ(tl_set_cpu_tick(1000), TL_ENOTSUP); }
#endif

// Last: with the defect on, every exit leaks (each CTest case runs in its
// own process; run by hand, nothing after this one counts handles).
TEST(ThreadHandles, InjectedLeakKeepsEveryExitedThreadsHandle) {
  SKIP_WITHOUT_HANDLES();
  if (!tl_injection_compiled()) GTEST_SKIP() << "injection points are not compiled into this build";
  ASSERT_EQ(tl_inject_enable("per_thread_handle_leak"), TL_OK) << tl_last_error();
  const long before = tltest::os_handle_count();
  constexpr int kThreads = 8;
  for (int i = 0; i < kThreads; ++i) {
    tl_thread_id id = 0;
    ASSERT_EQ(tl_spawn("leaker", check_own_handle, nullptr, &id), TL_OK);
    ASSERT_EQ(tl_join(id), TL_OK) << tl_last_error();
  }
  EXPECT_EQ(tltest::os_handle_count(), before + kThreads);
}

}  // namespace
