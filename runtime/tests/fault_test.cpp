// fault_test.cpp — the fault machinery (fault.h): per-record altstacks,
// recoverable overflow with re-protected zones, catch frames and bindings,
// scribble reports, the write barrier, forwarded mode, chaining to a user
// handler installed after the runtime. (Before the runtime:
// fault_chain_test.cpp.)
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "current.h"
#include "record.h"
#include "threadlab/runtime.h"

namespace {

constexpr size_t kMinAlt = 64 * 1024;

__attribute__((noinline)) int managed_recurse(uintptr_t depth) {
  for (unsigned i = 0; i < 32; ++i) tl_value_push_unchecked(depth);
  volatile uintptr_t next = depth + 1;
  if (next == 0) return 0;
  return managed_recurse(next) + 1;
}
int overflow_value(void*) { return managed_recurse(0); }

__attribute__((noinline)) int native_recurse(volatile char* up) {
  volatile char frame[1024];
  frame[0] = up ? up[0] : 1;
  frame[sizeof frame - 1] = frame[0];
  if (frame[0] == 2) return 0;
  return native_recurse(frame) + frame[sizeof frame - 1];
}
int overflow_native(void*) { return native_recurse(nullptr); }

tl_fault_stats stats() {
  tl_fault_stats s{};
  EXPECT_EQ(tl_get_fault_stats(&s), TL_OK);
  return s;
}

int violations() { return tl_check_integrity(nullptr, 0); }

void spawn_join(void (*fn)(void*), void* arg) {
  tl_thread_id id = 0;
  ASSERT_EQ(tl_spawn("fault", fn, arg, &id), TL_OK) << tl_last_error();
  ASSERT_EQ(tl_join(id), TL_OK) << tl_last_error();
}

TEST(Fault, EveryRecordRunsWithALargeEnoughAltstack) {
  struct Seen {
    stack_t ss;
  } seen{};
  spawn_join([](void* p) { sigaltstack(nullptr, &static_cast<Seen*>(p)->ss); }, &seen);
  EXPECT_FALSE(seen.ss.ss_flags & SS_DISABLE);
  EXPECT_GE(seen.ss.ss_size, kMinAlt);
  stack_t mine;
  ASSERT_EQ(sigaltstack(nullptr, &mine), 0);
  EXPECT_GE(mine.ss_size, kMinAlt) << "the initial thread runs with one too";
}

TEST(Fault, SpawnedAltstacksAreReleasedAtThreadExit) {
  const uint64_t before = stats().altstacks_mapped;
  for (int i = 0; i < 50; ++i) spawn_join([](void*) {}, nullptr);
  EXPECT_EQ(stats().altstacks_mapped, before);
}

// A foreign thread with its own altstack: a small one is replaced while the
// record lives and put back exactly at release; a large one is kept.
struct Foreign {
  size_t own_bytes;
  stack_t in_callback{};
  stack_t at_last_round{};
  void* own = nullptr;
};
pthread_key_t g_probe_key;
pthread_once_t g_probe_once = PTHREAD_ONCE_INIT;
void probe_destructor(void* p);
void make_probe_key() { pthread_key_create(&g_probe_key, probe_destructor); }

void probe_destructor(void* p) {
  // Re-armed until the runtime's teardown has run: that is the penultimate
  // destructor round (current.h), and the runtime's key, made by tl_init,
  // comes before this one in it. The thread then takes its own altstack
  // down before it exits: ASan's thread exit unmaps whatever altstack is
  // installed then, as if it were its own (docs/architecture.md, faults
  // under sanitizers).
  static thread_local int round = 0;
  if (++round < PTHREAD_DESTRUCTOR_ITERATIONS - 1) {
    pthread_setspecific(g_probe_key, p);
    return;
  }
  auto* f = static_cast<Foreign*>(p);
  sigaltstack(nullptr, &f->at_last_round);
  if (f->at_last_round.ss_sp == f->own) {
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, nullptr);
  }
}

void* foreign_main(void* p) {
  pthread_once(&g_probe_once, make_probe_key);
  auto* f = static_cast<Foreign*>(p);
  f->own = malloc(f->own_bytes);
  stack_t ss{};
  ss.ss_sp = f->own;
  ss.ss_size = f->own_bytes;
  if (sigaltstack(&ss, nullptr) != 0) return nullptr;
  pthread_setspecific(g_probe_key, f);
  for (int i = 0; i < 3; ++i) {
    if (tl_callback_enter() != TL_OK) return nullptr;
    sigaltstack(nullptr, &f->in_callback);
    EXPECT_EQ(tl_catch(overflow_value, nullptr), TL_EOVERFLOW);
    EXPECT_EQ(tl_catch(overflow_native, nullptr), TL_EOVERFLOW) << "overflow of the foreign thread's own stack";
    tl_callback_exit();
  }
  return nullptr;
}

TEST(Fault, ForeignThreadsSmallAltstackIsRestoredAtRelease) {
  Foreign f{16 * 1024};
  pthread_t t;
  ASSERT_EQ(pthread_create(&t, nullptr, foreign_main, &f), 0);
  pthread_join(t, nullptr);
  EXPECT_NE(f.in_callback.ss_sp, f.own) << "a 16 KiB altstack is too small to run the fault handler on";
  EXPECT_GE(f.in_callback.ss_size, kMinAlt);
  EXPECT_EQ(f.at_last_round.ss_sp, f.own) << "the thread's own altstack was not put back";
  EXPECT_EQ(f.at_last_round.ss_size, 16u * 1024);
  EXPECT_FALSE(f.at_last_round.ss_flags & SS_DISABLE);
  free(f.own);
}

TEST(Fault, ForeignThreadsLargeAltstackIsKept) {
  Foreign f{256 * 1024};
  pthread_t t;
  const uint64_t mapped = stats().altstacks_mapped;
  ASSERT_EQ(pthread_create(&t, nullptr, foreign_main, &f), 0);
  pthread_join(t, nullptr);
  EXPECT_EQ(f.in_callback.ss_sp, f.own);
  EXPECT_EQ(f.at_last_round.ss_sp, f.own);
  EXPECT_EQ(stats().altstacks_mapped, mapped);
  free(f.own);
}

TEST(Fault, ValueOverflowUnwindsToTheCatchFrameAndReprotects) {
  const size_t depth = tl_value_depth();
  const uint64_t before = stats().overflows_recovered;
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(tl_catch(overflow_value, nullptr), TL_EOVERFLOW) << "overflow " << i;
    ASSERT_EQ(tl_value_depth(), depth);
  }
  EXPECT_EQ(stats().overflows_recovered, before + 20);
  tl::Record* r = tl::current_record();
  ASSERT_NE(r->value.zone, 0u);
  // The yellow zone is closed again: mincore would not tell; a probe write
  // from a forked child must fault.
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGSEGV, SIG_DFL);
    *reinterpret_cast<volatile uintptr_t*>(r->value.zone) = 1;
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) << "yellow zone writable after recovery";
  EXPECT_EQ(violations(), 0);
}

TEST(Fault, OverflowOn8ThreadsRecovers1000TimesEach) {
  const uint64_t before = stats().overflows_recovered;
  std::vector<tl_thread_id> ids(8);
  static std::atomic<int> bad{0};
  for (auto& id : ids)
    ASSERT_EQ(tl_spawn("overflow", [](void*) {
      const size_t depth = tl_value_depth();
      for (int i = 0; i < 1000; ++i)
        if (tl_catch(i % 10 == 9 ? overflow_native : overflow_value, nullptr) != TL_EOVERFLOW || tl_value_depth() != depth) bad++;
    }, nullptr, &id), TL_OK);
  for (auto id : ids) ASSERT_EQ(tl_join(id), TL_OK);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(stats().overflows_recovered, before + 8000);
  EXPECT_EQ(violations(), 0) << "a control-stack overflow leaves its canaries re-armed";
}

TEST(Fault, ThrowUnwindsBindingsCleanupsAndDepths) {
  static uintptr_t special = 1;
  static int cleaned = 0;
  ASSERT_EQ(tl_bind(&special, 2), TL_OK);
  const size_t depth = tl_value_depth();
  const int rc = tl_catch([](void*) -> int {
    tl_bind(&special, 3);
    tl_value_push(7);
    tl_cleanup_push([](void*) { ++cleaned; }, nullptr);
    tl_bind(&special, 4);
    tl_throw(42);
  }, nullptr);
  EXPECT_EQ(rc, 42);
  EXPECT_EQ(special, 2u);
  EXPECT_EQ(cleaned, 1);
  EXPECT_EQ(tl_value_depth(), depth);
  EXPECT_EQ(tl_unbind(), TL_OK);
  EXPECT_EQ(special, 1u);
  EXPECT_EQ(tl_unbind(), TL_EUNBALANCED);
  EXPECT_EQ(tl_catch([](void*) { return 5; }, nullptr), 5);
}

TEST(Fault, CheckedPushStopsBeforeTheZone) {
  const size_t depth = tl_value_depth();
  int rc = TL_OK;
  size_t pushed = 0;
  while ((rc = tl_value_push(1)) == TL_OK) ++pushed;
  EXPECT_EQ(rc, TL_ENOMEM);
  for (size_t i = 0; i < pushed; ++i) tl_value_pop(nullptr);
  EXPECT_EQ(tl_value_depth(), depth);
  EXPECT_EQ(violations(), 0);
}

TEST(Fault, WriteBarrierMarksCardsAndCollectionRearms) {
  void* region = nullptr;
  ASSERT_EQ(tl_gc_barrier_region(16 * 4096, &region), TL_OK) << tl_last_error();
  EXPECT_EQ(tl_gc_barrier_region(4096, &region), TL_ESTATE) << "one region per process";
  ASSERT_EQ(tl_gc_barrier_arm(), TL_OK);
  auto* words = static_cast<volatile uintptr_t*>(region);
  const uint64_t before = stats().barrier_faults;
  EXPECT_EQ(tl_gc_barrier_card_dirty(region), 0);
  // A managed object referenced only from the region survives collection.
  void* obj = tl_gc_alloc(64);
  words[0] = reinterpret_cast<uintptr_t>(obj);
  obj = nullptr;
  EXPECT_EQ(tl_gc_barrier_card_dirty(region), 1);
  words[1] = 5;  // same page: no second fault
  EXPECT_EQ(stats().barrier_faults, before + 1);
  EXPECT_EQ(tl_gc_barrier_card_dirty(static_cast<char*>(region) + 4096), 0);
  ASSERT_EQ(tl_gc_collect(), TL_OK);
  EXPECT_EQ(tl_gc_barrier_card_dirty(region), 0) << "collection re-arms";
  EXPECT_EQ(tl_gc_is_live(reinterpret_cast<void*>(words[0])), 1);
  words[2] = 6;
  EXPECT_EQ(tl_gc_barrier_card_dirty(region), 1);
  EXPECT_EQ(stats().barrier_faults, before + 2);
  EXPECT_EQ(words[1], 5u);
}

// The handler thread must be answering when tl_set_fault_mode returns: the
// very first fault after it, on the calling thread, is forwarded (it was
// once handled directly when the handler thread had not been scheduled).
TEST(Fault, FirstFaultAfterSwitchingIsForwarded) {
  const uint64_t before = stats().forwarded;
  ASSERT_EQ(tl_set_fault_mode(TL_FAULT_FORWARDED), TL_OK) << tl_last_error();
  const int rc = tl_catch(overflow_value, nullptr);
  const uint64_t after = stats().forwarded;
  ASSERT_EQ(tl_set_fault_mode(TL_FAULT_DIRECT), TL_OK);
  EXPECT_EQ(rc, TL_EOVERFLOW);
  EXPECT_EQ(after, before + 1);
}

TEST(Fault, ForwardedModeRecoversOnTheHandlerThread) {
  ASSERT_EQ(tl_set_fault_mode(TL_FAULT_FORWARDED), TL_OK) << tl_last_error();
  const uint64_t before = stats().forwarded;
  std::vector<tl_thread_id> ids(4);
  static std::atomic<int> bad{0};
  for (auto& id : ids)
    ASSERT_EQ(tl_spawn("fwd", [](void*) {
      for (int i = 0; i < 100; ++i)
        if (tl_catch(i % 2 ? overflow_native : overflow_value, nullptr) != TL_EOVERFLOW) bad++;
    }, nullptr, &id), TL_OK);
  for (auto id : ids) ASSERT_EQ(tl_join(id), TL_OK);
  ASSERT_EQ(tl_set_fault_mode(TL_FAULT_DIRECT), TL_OK);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GE(stats().forwarded, before + 400);
  EXPECT_EQ(tl_set_fault_mode(7), TL_EINVAL);
}

std::atomic<int> g_user_calls{0};
struct sigaction g_user_prev;
void user_handler(int sig, siginfo_t* si, void* uc) {
  g_user_calls++;
  g_user_prev.sa_sigaction(sig, si, uc);  // a good citizen chains to what it found
}

TEST(Fault, UserHandlerInstalledAfterTheRuntimeChainsToIt) {
  struct sigaction sa{};
  sa.sa_sigaction = user_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  ASSERT_EQ(sigaction(SIGSEGV, &sa, &g_user_prev), 0);
  ASSERT_TRUE(g_user_prev.sa_flags & SA_SIGINFO);
  EXPECT_EQ(tl_catch(overflow_value, nullptr), TL_EOVERFLOW);
  EXPECT_GE(g_user_calls.load(), 1);
  sigaction(SIGSEGV, &g_user_prev, nullptr);
}

// Death tests re-execute the binary: each runs in a fresh runtime.
TEST(FaultDeath, OverflowWithoutCatchFrameIsACrashReport) {
  EXPECT_DEATH(overflow_value(nullptr), "stack overflow with no catch frame");
}

TEST(FaultDeath, OverflowDuringRecoveryHitsTheRedZone) {
  EXPECT_DEATH(
      {
        tl_catch([](void*) -> int {
          // A cleanup that overflows again while the yellow zone is open.
          tl_cleanup_push([](void*) { managed_recurse(0); }, nullptr);
          return overflow_value(nullptr);
        }, nullptr);
      },
      "red zone while recovering");
}

TEST(FaultDeath, WriteIntoAnotherThreadsZoneIsAScribble) {
  EXPECT_DEATH(
      {
        static std::atomic<uintptr_t> zone{0};
        static std::atomic<bool> done{false};
        tl_thread_id id;
        tl_spawn("victim", [](void*) {
          zone = tl::current_record()->value.zone;
          while (!done) sched_yield();
        }, nullptr, &id);
        while (!zone) sched_yield();
        int rc = tl_catch([](void*) -> int {
          *reinterpret_cast<volatile uintptr_t*>(zone.load()) = 1;
          return 0;
        }, nullptr);
        tl_violation v[4];
        int n = tl_check_integrity(v, 4);
        done = true;
        tl_join(id);
        if (rc == TL_ESCRIBBLE && n == 1 && strstr(v[0].what, "hit the value-stack guard zone of thread"))
          tl_fatal(v[0].what);
        tl_fatal("scribble not reported");
      },
      "scribble: thread 1 .* hit the value-stack guard zone of thread 2");
}

TEST(FaultDeath, FaultOnAThreadWithoutRecordChainsToTheDefault) {
  EXPECT_DEATH(
      {
        std::thread t([] {
          volatile uintptr_t addr = 16;
          *reinterpret_cast<volatile int*>(addr) = 1;
        });
        t.join();
      },
      // Under a sanitizer the handler found at install is the sanitizer's,
      // and the chained call is its SEGV report.
      "is not the runtime's \\(tid [0-9]+, no record\\); default action|Sanitizer: SEGV");
}

}  // namespace
