// lookup_test.cpp — the three current-record lookups agree, on every kind
// of thread, and from signal handlers (on the thread's stack and on a
// sigaltstack, where the stack strategy uses the interrupted stack pointer).
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#if defined(__APPLE__)
#include <sys/ucontext.h>
#else
#include <ucontext.h>
#endif
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "threadlab/runtime.h"

namespace {

struct Seen {
  tl_thread_id tls, key, stack, self;
};
Seen by_all() {
  return {tl_self_by(TL_LOOKUP_TLS), tl_self_by(TL_LOOKUP_KEY), tl_self_by(TL_LOOKUP_STACK), tl_self()};
}

// Filled by the signal handler; plain atomics only (signal-safe).
std::atomic<tl_thread_id> g_sig_tls{0}, g_sig_stack{0}, g_sig_interrupted{0};
std::atomic<int> g_sig_count{0};
std::atomic<bool> g_sig_on_altstack{false};

uintptr_t interrupted_sp(void* uc_void) {
  auto* uc = static_cast<ucontext_t*>(uc_void);
#if defined(__x86_64__) && defined(__linux__)
  return static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
#elif defined(__aarch64__) && defined(__linux__)
  return static_cast<uintptr_t>(uc->uc_mcontext.sp);
#else
  (void)uc;
  return 0;
#endif
}

void on_sigusr2(int, siginfo_t*, void* uc) {
  stack_t cur;
  g_sig_on_altstack = sigaltstack(nullptr, &cur) == 0 && (cur.ss_flags & SS_ONSTACK);
  g_sig_tls = tl_self_by(TL_LOOKUP_TLS);
  g_sig_stack = tl_self_by(TL_LOOKUP_STACK);
  g_sig_interrupted = tl_thread_at_stack_address(interrupted_sp(uc));
  g_sig_count.fetch_add(1);
}

void install(bool on_altstack) {
  struct sigaction sa = {};
  sa.sa_sigaction = on_sigusr2;
  sa.sa_flags = SA_SIGINFO | (on_altstack ? SA_ONSTACK : 0);
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR2, &sa, nullptr), 0);
}

struct Target {
  std::atomic<bool> ready{false}, done{false};
  pthread_t self{};
  bool use_altstack = false;
  std::vector<char> alt;
};

void target_fn(void* p) {
  auto* t = static_cast<Target*>(p);
  if (t->use_altstack) {
    t->alt.resize(64 * 1024);
    stack_t ss = {};
    ss.ss_sp = t->alt.data();
    ss.ss_size = t->alt.size();
    sigaltstack(&ss, nullptr);
  }
  t->self = pthread_self();
  t->ready = true;
  while (!t->done.load()) std::this_thread::yield();
  if (t->use_altstack) {
    stack_t ss = {};
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, nullptr);
  }
}

void signal_a_spawned_thread(bool altstack) {
  install(altstack);
  Target t;
  t.use_altstack = altstack;
  tl_thread_id id = 0;
  ASSERT_EQ(tl_spawn("lookup-target", target_fn, &t, &id), TL_OK);
  while (!t.ready.load()) std::this_thread::yield();
  // Find its pthread through the registry-backed list: signal by kernel tid.
  std::vector<tl_thread_info> buf(1024);
  size_t n = 0;
  ASSERT_EQ(tl_thread_list(buf.data(), buf.size(), &n), TL_OK);
  int64_t tid = 0;
  for (size_t i = 0; i < n; ++i)
    if (buf[i].id == id) tid = buf[i].kernel_tid;
  ASSERT_NE(tid, 0);
  int before = g_sig_count.load();
  ASSERT_EQ(pthread_kill(t.self, SIGUSR2), 0);
  while (g_sig_count.load() == before) std::this_thread::yield();
  t.done = true;
  ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_EQ(g_sig_tls.load(), id);
  // ThreadSanitizer defers handlers and runs them on the thread's own stack,
  // so check against where the handler really ran.
  if (g_sig_on_altstack.load()) {
    EXPECT_EQ(g_sig_stack.load(), 0u) << "the handler's own stack is the altstack";
  } else {
    EXPECT_EQ(g_sig_stack.load(), id);
  }
#if !defined(TL_UNDER_TSAN)
  EXPECT_EQ(g_sig_on_altstack.load(), altstack);
#endif
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
  EXPECT_EQ(g_sig_interrupted.load(), id);
#endif
}

}  // namespace

TEST(Lookup, AllThreeAgreeOnASpawnedThread) {
  static Seen seen;
  tl_thread_id id = 0;
  ASSERT_EQ(tl_spawn("agree", [](void*) { seen = by_all(); }, nullptr, &id), TL_OK);
  ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_EQ(seen.self, id);
  EXPECT_EQ(seen.tls, id);
  EXPECT_EQ(seen.key, id);
  EXPECT_EQ(seen.stack, id);
}

TEST(Lookup, ManySpawnedThreadsEachFindTheirOwn) {
  constexpr int kThreads = 64;
  static std::atomic<int> mismatches{0};
  mismatches = 0;  // static: set again for --gtest_repeat
  std::vector<tl_thread_id> ids(kThreads);
  for (auto& id : ids)
    ASSERT_EQ(tl_spawn(nullptr, [](void*) {
                for (int i = 0; i < 1000; ++i) {
                  Seen s = by_all();
                  if (s.tls != s.self || s.key != s.self || s.stack != s.self || s.self == 0) mismatches.fetch_add(1);
                }
              }, nullptr, &id), TL_OK);
  for (auto id : ids) ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Lookup, AdoptedThreadsAgreeOnTlsAndKeyAndHaveNoStackRecord) {
  std::thread([] {
    Seen none = by_all();
    EXPECT_EQ(none.tls, 0u);
    EXPECT_EQ(none.key, 0u);
    EXPECT_EQ(none.stack, 0u);
    ASSERT_EQ(tl_callback_enter(), TL_OK);
    Seen s = by_all();
    EXPECT_NE(s.self, 0u);
    EXPECT_EQ(s.tls, s.self);
    EXPECT_EQ(s.key, s.self);
    EXPECT_EQ(s.stack, 0u) << "the OS made this stack; the runtime has no record at its base";
    ASSERT_EQ(tl_callback_exit(), TL_OK);
  }).join();
}

TEST(Lookup, InitialThreadAgreesOnTlsAndKey) {
  Seen s = by_all();
  EXPECT_NE(s.self, 0u);
  EXPECT_EQ(s.tls, s.self);
  EXPECT_EQ(s.key, s.self);
  EXPECT_EQ(s.stack, 0u);
}

TEST(Lookup, FromASignalHandlerOnTheThreadsOwnStack) { signal_a_spawned_thread(false); }

TEST(Lookup, FromASignalHandlerOnASigaltstack) { signal_a_spawned_thread(true); }

TEST(Lookup, AddressesOutsideAnySlotFindNothing) {
  int local = 0;
  EXPECT_EQ(tl_thread_at_stack_address(reinterpret_cast<uintptr_t>(&local)), 0u);
  EXPECT_EQ(tl_thread_at_stack_address(0), 0u);
  EXPECT_EQ(tl_thread_at_stack_address(~uintptr_t{0}), 0u);
  static int global;
  EXPECT_EQ(tl_thread_at_stack_address(reinterpret_cast<uintptr_t>(&global)), 0u);
}
