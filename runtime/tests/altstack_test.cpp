// altstack_test.cpp — threads stopped while a signal handler runs managed
// code on a sigaltstack (issue 9, bugs 2 and 3).
//
// The handler is entered by a synchronous fault: the thread writes to a page
// the test protected, and the SIGSEGV handler (SA_ONSTACK) calls back, holds
// objects, and unprotects the page before it returns, so the write then
// succeeds. A synchronous signal runs its handler at once, on the altstack,
// in every preset (ThreadSanitizer defers only asynchronous ones), so the
// same test runs in default, asan and tsan.
//
//  - Roots: objects held only in the handler's frame (on the altstack) and
//    only in the interrupted frame (on the normal stack) survive a
//    collection made while the thread is stopped in the handler; adopted
//    threads (altstack found at adoption) and spawned ones (registered),
//    stopped by signal (spinning) or at a safepoint, under both policies.
//  - Small altstack: a foreign thread with an 8 KiB altstack calls back from
//    its handler while the world is stopped over and over. The suspend
//    signal then nests on that altstack. Run in a fresh process (a death
//    test child), so the suspend handler's first run in the process is the
//    one on the small altstack: the lazy PLT resolver used to run there and
//    overflow it. This binary links with -z lazy (CMakeLists.txt).
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "threadlab/runtime.h"

namespace {

constexpr uintptr_t kKey = 0x5a5aa5a5c3c33c3cull;  // pointers are kept encoded
constexpr int kHeld = 10;
constexpr unsigned char kFill = 0xA5;

#if defined(TL_UNDER_TSAN)
constexpr bool kSignalReachesAHandler = false;
#else
constexpr bool kSignalReachesAHandler = true;
#endif
// Why a spinning handler cannot be stopped under ThreadSanitizer.
constexpr const char* kTsanNoSignalInHandler =
    "ThreadSanitizer holds an asynchronous signal that arrives while a handler runs until that handler "
    "returns, so a handler spinning without safepoints never answers the suspend signal";

int initial_policy() {
  const char* p = std::getenv("TL_TEST_POLICY");
  return p && std::strcmp(p, "hybrid") == 0 ? TL_SUSPEND_HYBRID : TL_SUSPEND_PREEMPTIVE;
}

__attribute__((noinline)) void scrub_stack() {
  volatile char junk[16384];
  std::memset(const_cast<char*>(junk), 0, sizeof junk);
}

uint64_t tag_of(int set, int i) { return 0x7100 + static_cast<uint64_t>(set) * 100 + static_cast<uint64_t>(i); }

__attribute__((noinline)) uintptr_t alloc_encoded(uint64_t tag) {
  auto* p = static_cast<uint64_t*>(tl_gc_alloc(48));
  p[0] = tag;
  return reinterpret_cast<uintptr_t>(p) ^ kKey;
}

// Live and still holding its tag (a freed cell is poisoned; its contents
// are read only when the collector says it is live).
bool intact(uintptr_t p, uint64_t tag) {
  return tl_gc_is_live(reinterpret_cast<void*>(p)) && reinterpret_cast<const uint64_t*>(p)[0] == tag;
}

// An altstack filled with a pattern (to measure how much of it was used),
// with a guard page below it so an overflow faults instead of writing over
// whatever is mapped there, and a page whose first write faults.
struct Stacks {
  size_t alt_bytes = 0;
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  char* guard = nullptr;
  char* alt = nullptr;
  char* trap = nullptr;

  explicit Stacks(size_t bytes) : alt_bytes(bytes) {
    guard = static_cast<char*>(mmap(nullptr, page + alt_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    alt = guard + page;
    mprotect(alt, alt_bytes, PROT_READ | PROT_WRITE);
    trap = static_cast<char*>(mmap(nullptr, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    std::memset(alt, kFill, alt_bytes);
  }
  ~Stacks() {
    munmap(guard, page + alt_bytes);
    munmap(trap, page);
  }
  void arm() const { mprotect(trap, page, PROT_NONE); }
  void disarm() const { mprotect(trap, page, PROT_READ | PROT_WRITE); }
  // Bytes below the top that were ever written.
  size_t used() const {
    size_t i = 0;
    while (i < alt_bytes && static_cast<unsigned char>(alt[i]) == kFill) ++i;
    return alt_bytes - i;
  }
  // Install on the calling thread.
  void install() const {
    stack_t ss{};
    ss.ss_sp = alt;
    ss.ss_size = alt_bytes;
    ASSERT_EQ(sigaltstack(&ss, nullptr), 0);
  }
  static void uninstall() {
    stack_t ss{};
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, nullptr);
  }
};

// The test's SIGSEGV handler calls g_on_fault for a fault on the trap page.
struct FaultHook {
  const Stacks* stacks;
  void (*fn)(void*);
  void* arg;
};
std::atomic<FaultHook*> g_hook{nullptr};

bool on_altstack_now() {
  stack_t ss{};
  return sigaltstack(nullptr, &ss) == 0 && (ss.ss_flags & SS_ONSTACK);
}

void on_fault(int sig, siginfo_t* si, void*) {
  FaultHook* h = g_hook.load(std::memory_order_acquire);
  const auto* a = static_cast<const char*>(si->si_addr);
  if (!h || a < h->stacks->trap || a >= h->stacks->trap + h->stacks->page) {
    signal(sig, SIG_DFL);  // a real fault: return and take it again, unhandled
    return;
  }
  h->fn(h->arg);
  h->stacks->disarm();  // the faulting write succeeds on return
}

class FaultHandler {
 public:
  FaultHandler() {
    struct sigaction sa {};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_);
  }
  ~FaultHandler() {
    sigaction(SIGSEGV, &old_, nullptr);
    g_hook.store(nullptr);
  }

 private:
  struct sigaction old_ {};
};

// ---- bug 2: roots on both stacks of a thread stopped on its altstack ----

enum class Kind { Adopted, Spawned };
enum class Wait { Spin, Safepoints };

struct Case {
  int policy;
  Kind kind;
  Wait wait;
};

std::string case_name(const testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  return std::string(c.policy == TL_SUSPEND_HYBRID ? "Hybrid" : "Preemptive") +
         (c.kind == Kind::Adopted ? "Adopted" : "SpawnedRegistered") + (c.wait == Wait::Spin ? "Spinning" : "AtSafepoints");
}

struct RootsCtx {
  Case c{};
  Stacks* stacks = nullptr;
  uintptr_t in_frame[kHeld] = {};    // encoded
  uintptr_t in_handler[kHeld] = {};  // encoded
  std::atomic<int> phase{0};         // 1: handler holds; 2: collected, let go
  std::atomic<bool> handler_on_altstack{false};
  std::atomic<int> callback_rc{1};
  std::atomic<int> frame_intact{-1}, handler_intact{-1};
  std::atomic<int> register_rc{1};
};

void wait_for(const std::atomic<int>& phase, int value, Wait how) {
  while (phase.load(std::memory_order_acquire) != value)
    if (how == Wait::Safepoints) tl_safepoint();
}

__attribute__((noinline)) void hold_in_handler(void* p) {
  auto* c = static_cast<RootsCtx*>(p);
  c->handler_on_altstack = on_altstack_now();
  const int rc = tl_callback_enter();
  c->callback_rc = rc;
  if (rc != TL_OK) {
    c->phase = 1;
    return;
  }
  volatile uintptr_t held[kHeld];  // the only plain copies, on the altstack
  for (int i = 0; i < kHeld; ++i) held[i] = c->in_handler[i] ^ kKey;
  c->phase.store(1, std::memory_order_release);
  wait_for(c->phase, 2, c->c.wait);  // stopped here, managed, on the altstack
  int ok = 0;
  for (int i = 0; i < kHeld; ++i) ok += intact(held[i], tag_of(1, i));
  c->handler_intact = ok;
  tl_callback_exit();
}

__attribute__((noinline)) void hold_in_frame(RootsCtx* c) {
  volatile uintptr_t held[kHeld];  // the only plain copies, on the normal stack
  for (int i = 0; i < kHeld; ++i) held[i] = c->in_frame[i] ^ kKey;
  *reinterpret_cast<volatile char*>(c->stacks->trap) = 1;  // SIGSEGV: hold_in_handler on the altstack
  int ok = 0;
  for (int i = 0; i < kHeld; ++i) ok += intact(held[i], tag_of(0, i));
  c->frame_intact = ok;
}

void roots_thread(RootsCtx* c) {
  c->stacks->install();
  if (c->c.kind == Kind::Spawned) c->register_rc = tl_register_altstack(c->stacks->alt, c->stacks->alt_bytes);
  // A foreign thread is adopted outside the handler (adoption allocates, so
  // it is not async-signal-safe: runtime.h), after its altstack exists:
  // adoption finds it.
  if (c->c.kind == Kind::Adopted && tl_callback_enter() == TL_OK) tl_callback_exit();
  hold_in_frame(c);
  if (c->c.kind == Kind::Spawned) tl_unregister_altstack();
  Stacks::uninstall();
}

class AltstackRoots : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override { ASSERT_EQ(tl_set_suspend_policy(GetParam().policy), TL_OK); }
  void TearDown() override { tl_set_suspend_policy(initial_policy()); }
};

TEST_P(AltstackRoots, HandlerFrameAndInterruptedFrameSurviveACollection) {
  RootsCtx c;
  c.c = GetParam();
  if (!kSignalReachesAHandler && c.c.wait == Wait::Spin) GTEST_SKIP() << kTsanNoSignalInHandler;
  Stacks stacks(64 * 1024);
  c.stacks = &stacks;
  for (int i = 0; i < kHeld; ++i) {
    c.in_frame[i] = alloc_encoded(tag_of(0, i));
    c.in_handler[i] = alloc_encoded(tag_of(1, i));
  }
  FaultHandler handler;
  FaultHook hook{&stacks, hold_in_handler, &c};
  g_hook.store(&hook);
  tl_suspend_stats before{};
  ASSERT_EQ(tl_get_suspend_stats(&before), TL_OK);

  std::thread foreign;
  tl_thread_id spawned = 0;
  if (c.c.kind == Kind::Adopted)
    foreign = std::thread(roots_thread, &c);
  else
    ASSERT_EQ(tl_spawn("altstack-roots", [](void* p) { roots_thread(static_cast<RootsCtx*>(p)); }, &c, &spawned), TL_OK);
  while (c.phase.load(std::memory_order_acquire) != 1) std::this_thread::yield();

  scrub_stack();
  const int collected = tl_gc_collect();
  int live_frame = 0, live_handler = 0;
  for (int i = 0; i < kHeld; ++i) {
    live_frame += tl_gc_is_live(reinterpret_cast<void*>(c.in_frame[i] ^ kKey));
    live_handler += tl_gc_is_live(reinterpret_cast<void*>(c.in_handler[i] ^ kKey));
  }
  tl_suspend_stats after{};
  tl_get_suspend_stats(&after);
  c.phase.store(2, std::memory_order_release);
  if (foreign.joinable()) foreign.join();
  if (spawned) {
    ASSERT_EQ(tl_join(spawned), TL_OK);
  }

  ASSERT_EQ(c.callback_rc.load(), TL_OK) << "the handler's tl_callback_enter failed";
  if (c.c.kind == Kind::Spawned) {
    EXPECT_EQ(c.register_rc.load(), TL_OK);
  }
  ASSERT_EQ(collected, TL_OK) << tl_last_error();
  EXPECT_TRUE(c.handler_on_altstack.load()) << "the handler did not run on the altstack";
  EXPECT_EQ(live_handler, kHeld) << "objects held only in the handler's frame on the altstack were freed";
  EXPECT_EQ(live_frame, kHeld) << "objects held only in the interrupted frame on the normal stack were freed";
  EXPECT_EQ(c.handler_intact.load(), kHeld);
  EXPECT_EQ(c.frame_intact.load(), kHeld);
  if (c.c.wait == Wait::Spin) {
    EXPECT_GT(after.stopped_by_signal, before.stopped_by_signal) << "a spinning handler is stopped by the suspend signal";
  }
  std::printf("[ altstack ] %zu of %zu bytes of the altstack used\n", stacks.used(), stacks.alt_bytes);
}

INSTANTIATE_TEST_SUITE_P(BothPolicies, AltstackRoots,
                         testing::Values(Case{TL_SUSPEND_PREEMPTIVE, Kind::Adopted, Wait::Spin},
                                         Case{TL_SUSPEND_PREEMPTIVE, Kind::Adopted, Wait::Safepoints},
                                         Case{TL_SUSPEND_PREEMPTIVE, Kind::Spawned, Wait::Spin},
                                         Case{TL_SUSPEND_PREEMPTIVE, Kind::Spawned, Wait::Safepoints},
                                         Case{TL_SUSPEND_HYBRID, Kind::Adopted, Wait::Spin},
                                         Case{TL_SUSPEND_HYBRID, Kind::Adopted, Wait::Safepoints},
                                         Case{TL_SUSPEND_HYBRID, Kind::Spawned, Wait::Spin},
                                         Case{TL_SUSPEND_HYBRID, Kind::Spawned, Wait::Safepoints}),
                         case_name);

// ---- bug 3: the suspend handler on a small user altstack ----

// SIGSTKSZ as it was (glibc now computes it at run time): 8 KiB on x86_64,
// 16 KiB on aarch64, whose kernel signal frames are larger (MINSIGSTKSZ is
// 5 KiB there, and the test nests two of them: the user's handler and the
// suspend handler; 8 KiB overflowed under qemu-aarch64). AddressSanitizer's
// redzones make the handler's and tl_callback_enter's frames about twice as
// large; there the test gives the altstack what those frames need on top.
#if defined(TL_UNDER_ASAN) || defined(__aarch64__)
constexpr size_t kSmallAltstack = 16 * 1024;
#else
constexpr size_t kSmallAltstack = 8 * 1024;
#endif
constexpr int kRounds = 20;
constexpr int kStopsPerRound = 3;

struct SmallCtx {
  Stacks* stacks = nullptr;
  std::atomic<int> in_callback{0};  // round number the handler is holding in
  std::atomic<int> released{0};     // round number the main thread let go
  std::atomic<int> failures{0};
};

void small_handler(void* p) {
  auto* c = static_cast<SmallCtx*>(p);
  if (!on_altstack_now() || tl_callback_enter() != TL_OK) {
    c->failures.fetch_add(1);
    c->in_callback.fetch_add(1);
    return;
  }
  const int round = c->in_callback.fetch_add(1) + 1;
  // Spin in managed code: only the suspend signal stops it, on this
  // altstack. Under ThreadSanitizer that signal waits for the handler to
  // return (kTsanNoSignalInHandler): there the handler polls safepoints, so
  // the stops still land while it holds the small altstack, though not in
  // the suspend handler.
  while (c->released.load(std::memory_order_acquire) < round)
    if (!kSignalReachesAHandler) tl_safepoint();
  tl_callback_exit();
}

void small_thread(SmallCtx* c) {
  if (tl_callback_enter() != TL_OK) {  // adopted on its normal stack
    c->failures.fetch_add(kRounds);
    c->in_callback.store(kRounds);
    return;
  }
  tl_callback_exit();
  c->stacks->install();
  for (int r = 0; r < kRounds; ++r) {
    c->stacks->arm();
    *reinterpret_cast<volatile char*>(c->stacks->trap) = 1;  // handler calls back on the altstack
  }
  Stacks::uninstall();
}

// In the death-test child: stop the world kStopsPerRound times (the last a
// collection) in each round, while the handler holds.
int run_small_altstack(int policy) {
  alarm(60);  // a wedged child fails the test (SIGALRM) instead of hanging it; a pass takes well under a second
  if (tl_set_suspend_policy(policy) != TL_OK) return 10;
  Stacks stacks(kSmallAltstack);
  SmallCtx c;
  c.stacks = &stacks;
  FaultHandler handler;
  FaultHook hook{&stacks, small_handler, &c};
  g_hook.store(&hook);
  std::thread t(small_thread, &c);
  int bad_stops = 0;
  for (int r = 1; r <= kRounds; ++r) {
    while (c.in_callback.load(std::memory_order_acquire) < r) std::this_thread::yield();
    for (int s = 0; s < kStopsPerRound; ++s) {
      if (s + 1 < kStopsPerRound) {
        if (tl_suspend_others() != TL_OK) {
          ++bad_stops;
          std::fprintf(stderr, "stop failed: %s\n", tl_last_error());
          continue;
        }
        tl_resume_others();
      } else if (tl_gc_collect() != TL_OK) {
        ++bad_stops;
        std::fprintf(stderr, "collection failed: %s\n", tl_last_error());
      }
    }
    c.released.store(r, std::memory_order_release);
  }
  t.join();
  std::fprintf(stderr, "[ altstack ] %zu of %zu bytes of the small altstack used\n", stacks.used(), stacks.alt_bytes);
  return c.failures.load() == 0 && bad_stops == 0 ? 0 : 1;
}

class SmallAltstack : public testing::TestWithParam<int> {};

TEST_P(SmallAltstack, HandlerCallsBackWhileTheWorldStopsRepeatedly) {
  const int policy = GetParam();
  if (!kSignalReachesAHandler) std::printf("[ altstack ] stopped at safepoints, not by signal: %s\n", kTsanNoSignalInHandler);
  EXPECT_EXIT(
      {
        const int rc = run_small_altstack(policy);
        std::fflush(stderr);
        _exit(rc);
      },
      testing::ExitedWithCode(0), "altstack used");
}

INSTANTIATE_TEST_SUITE_P(BothPolicies, SmallAltstack, testing::Values(TL_SUSPEND_PREEMPTIVE, TL_SUSPEND_HYBRID),
                         [](const testing::TestParamInfo<int>& i) {
                           return std::string(i.param == TL_SUSPEND_HYBRID ? "Hybrid" : "Preemptive");
                         });

// ---- the C ABI ----

TEST(AltstackAbi, RegistrationChecksItsArguments) {
  char buf[64];
  EXPECT_EQ(tl_register_altstack(nullptr, 4096), TL_EINVAL);
  EXPECT_EQ(tl_register_altstack(buf, 0), TL_EINVAL);
  EXPECT_EQ(tl_register_altstack(buf, sizeof buf), TL_OK);
  EXPECT_EQ(tl_unregister_altstack(), TL_OK);
  std::thread([] {
    char b[64];
    EXPECT_EQ(tl_register_altstack(b, sizeof b), TL_EUNKNOWN) << "a thread without a record";
  }).join();
}

}  // namespace
