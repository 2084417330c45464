// fork_test.cpp — the runtime across fork() (fork.cpp, docs/architecture.md
// "Fork"): the child of a process whose threads run, wait, hold runtime
// locks or sit in callbacks is usable — it spawns, adopts a foreign thread,
// collects and stops the world — and what it took over is reported.
//
// Each child runs child_checks() and leaves with _exit: 0 when every check
// held, otherwise the number of the first that failed (its reason on
// stderr). The parent reaps it with a deadline and kills a child that hangs.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "threadlab/runtime.h"
#include "workers.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TL_FORK_TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(TL_FORK_TEST_TSAN)
// The narrowest setting that lets these children start threads under
// ThreadSanitizer: die_after_fork off for this binary only (TSAN_OPTIONS
// from the environment still apply on top). docs/architecture.md, "Fork".
extern "C" const char* __tsan_default_options() { return "die_after_fork=0"; }
#endif

namespace {

constexpr int kThreads = 16;

uint64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

// The child's exit status, or -1 if it was still running after timeout_ms
// (it is killed then). -2 - signal when a signal ended it.
int reap(pid_t pid, unsigned timeout_ms) {
  const uint64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    int status = 0;
    const pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -2 - WTERMSIG(status);
    if (got < 0) return -100;
    if (now_ms() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    struct timespec pause = {0, 2 * 1000 * 1000};  // polling the child's exit, not a synchronisation
    nanosleep(&pause, nullptr);
  }
}

#define CHILD_CHECK(n, cond)                                                                       \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "fork child: check %d failed: %s (%s)\n", n, #cond, tl_last_error());   \
      return n;                                                                                    \
    }                                                                                              \
  } while (0)

void* foreign_callback(void* p) {
  auto* ok = static_cast<std::atomic<int>*>(p);
  if (tl_callback_enter() != TL_OK) return nullptr;
  void* obj = tl_gc_alloc(64);
  if (obj && tl_self() != 0) ok->store(1);
  tl_callback_exit();
  return nullptr;
}

void spawned_allocates(void* p) {
  auto* n = static_cast<std::atomic<int>*>(p);
  for (int i = 0; i < 1000; ++i)
    if (tl_gc_alloc(32)) n->fetch_add(1);
}

// What every child does: the runtime must be whole again.
int child_checks(unsigned min_dropped) {
  tl_fork_info info{};
  CHILD_CHECK(1, tl_fork_report(&info) == TL_OK);
  CHILD_CHECK(2, info.in_child == 1);
  CHILD_CHECK(3, info.survivor == tl_self());
  CHILD_CHECK(4, info.records_dropped >= min_dropped);
  size_t n = 0;
  tl_thread_info list[8];
  CHILD_CHECK(5, tl_thread_list(list, 8, &n) == TL_OK);
  CHILD_CHECK(6, n == (tl_self() ? 1u : 0u));
  // Spawn and join.
  std::atomic<int> allocated{0};
  tl_thread_id t = 0;
  CHILD_CHECK(7, tl_spawn("child-spawned", spawned_allocates, &allocated, &t) == TL_OK);
  CHILD_CHECK(8, tl_join(t) == TL_OK);
  CHILD_CHECK(9, allocated.load() == 1000);
  // Adopt a foreign thread.
  std::atomic<int> adopted{0};
  pthread_t pt;
  CHILD_CHECK(10, pthread_create(&pt, nullptr, foreign_callback, &adopted) == 0);
  pthread_join(pt, nullptr);
  CHILD_CHECK(11, adopted.load() == 1);
  // A foreign thread (this one, if it had no record) calls back to collect.
  const bool had_record = tl_self() != 0;
  if (!had_record) CHILD_CHECK(12, tl_callback_enter() == TL_OK);
  CHILD_CHECK(13, tl_gc_collect() == TL_OK);
  // Stop the world with a spawned thread running.
  std::atomic<int> more{0};
  CHILD_CHECK(14, tl_spawn("child-running", spawned_allocates, &more, &t) == TL_OK);
  CHILD_CHECK(15, tl_suspend_others() == TL_OK);
  CHILD_CHECK(16, tl_resume_others() == TL_OK);
  CHILD_CHECK(17, tl_join(t) == TL_OK);
  tl_violation v[4];
  CHILD_CHECK(18, tl_check_integrity(v, 4) == 0);
  tl_counters c{};
  CHILD_CHECK(19, tl_get_counters(&c) == TL_OK);
  // Leak probe: only this thread's record is live (the adopted thread's is
  // released at its exit; cached records and slots are not live).
  CHILD_CHECK(20, c.records_live == 1u);
  if (!had_record) tl_callback_exit();
  return 0;
}

// Fork on this thread; the child runs body and _exits with its result.
int fork_and_check(const std::function<int()>& body, unsigned timeout_ms = 20000) {
  int pid = -1;
  if (tl_fork(&pid) != TL_OK) {
    ADD_FAILURE() << "tl_fork: " << tl_last_error();
    return -100;
  }
  if (pid == 0) _exit(body());
  return reap(pid, timeout_ms);
}

TEST(Fork, QuietProcessChildIsUsable) {
  EXPECT_EQ(fork_and_check([] { return child_checks(0); }), 0);
  tl_fork_info info{};
  ASSERT_EQ(tl_fork_report(&info), TL_OK);
  EXPECT_EQ(info.in_child, 0);
  EXPECT_GE(info.forks, 1u);
}

class ForkWith : public ::testing::TestWithParam<tltest::Mode> {};

TEST_P(ForkWith, SixteenThreadsChildIsUsable) {
  tltest::Workers w(GetParam(), kThreads);
  w.wait_running();
  EXPECT_EQ(fork_and_check([] { return child_checks(kThreads); }), 0) << tltest::mode_name(GetParam());
  // The parent and its threads go on.
  const uint64_t before = w.progress();
  if (GetParam() != tltest::Mode::LockWait && GetParam() != tltest::Mode::BlockedSyscall) {
    while (w.progress() == before) std::this_thread::yield();
  }
  EXPECT_EQ(tl_suspend_others(), TL_OK);
  EXPECT_EQ(tl_resume_others(), TL_OK);
}

INSTANTIATE_TEST_SUITE_P(States, ForkWith,
                         ::testing::Values(tltest::Mode::ManagedPolling, tltest::Mode::ManagedPure,
                                           tltest::Mode::BlockedSyscall, tltest::Mode::ForeignCall,
                                           tltest::Mode::LockWait),
                         [](const auto& info) {
                           std::string s = tltest::mode_name(info.param);
                           for (char& ch : s)
                             if (ch == '-') ch = '_';
                           return s;
                         });

// Threads that each hold a runtime lock at the fork: the child takes each
// over (free, abandoned: TL_EOWNERDEAD to its next taker) and lists it.
struct Holders {
  tl_lock locks[kThreads];
  std::atomic<int> holding{0};
  std::atomic<bool> stop{false};
  tl_thread_id ids[kThreads] = {};
};
struct HolderArg {
  Holders* h;
  int i;
};
void hold_lock(void* p) {
  auto* a = static_cast<HolderArg*>(p);
  tl_lock_acquire(&a->h->locks[a->i]);
  a->h->holding.fetch_add(1);
  while (!a->h->stop.load()) tl_safepoint();
  tl_lock_release(&a->h->locks[a->i]);
}

TEST(Fork, LocksOfVanishedThreadsAreTakenOverAndReported) {
  Holders h;
  HolderArg args[kThreads];
  static const char* const kName = "fork-held";
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_EQ(tl_lock_init(&h.locks[i], kName, 0), TL_OK);
    args[i] = {&h, i};
    ASSERT_EQ(tl_spawn("holder", hold_lock, &args[i], &h.ids[i]), TL_OK);
  }
  while (h.holding.load() < kThreads) std::this_thread::yield();
  Holders* hp = &h;
  const int status = fork_and_check([hp] {
    tl_fork_info info{};
    CHILD_CHECK(30, tl_fork_report(&info) == TL_OK);
    CHILD_CHECK(31, info.locks_taken_over == kThreads);
    CHILD_CHECK(32, info.nlocks == kThreads);
    for (size_t i = 0; i < info.nlocks; ++i) {
      bool known = false;
      for (int j = 0; j < kThreads; ++j)
        known |= info.locks[i].lock == reinterpret_cast<uintptr_t>(&hp->locks[j]) && info.locks[i].owner == hp->ids[j];
      CHILD_CHECK(33, known);
      CHILD_CHECK(34, info.locks[i].name == kName);
    }
    for (int j = 0; j < kThreads; ++j) {
      CHILD_CHECK(35, tl_lock_acquire_timed(&hp->locks[j], 2000) == TL_EOWNERDEAD);
      CHILD_CHECK(36, tl_lock_release(&hp->locks[j]) == TL_OK);
      CHILD_CHECK(37, tl_lock_try(&hp->locks[j]) == TL_OK);
      CHILD_CHECK(38, tl_lock_release(&hp->locks[j]) == TL_OK);
    }
    return child_checks(kThreads);
  });
  EXPECT_EQ(status, 0);
  h.stop.store(true);
  for (tl_thread_id id : h.ids) EXPECT_EQ(tl_join(id), TL_OK);
  // In the parent the locks were never abandoned.
  for (auto& l : h.locks) {
    EXPECT_EQ(tl_lock_try(&l), TL_OK);
    tl_lock_release(&l);
  }
}

// A thread asleep in a mailbox at the fork: the child's box does not count
// it (free would refuse a box with sleepers) and carries words.
void receive_once(void* p) {
  uint64_t w = 0;
  tl_mailbox_receive(static_cast<tl_mailbox*>(p), &w, TL_FOREVER);
}

TEST(Fork, MailboxSleepersThatVanishedAreUncounted) {
  tl_mailbox* box = nullptr;
  ASSERT_EQ(tl_mailbox_new(4, "fork-box", &box), TL_OK);
  tl_thread_id t = 0;
  ASSERT_EQ(tl_spawn("receiver", receive_once, box, &t), TL_OK);
  // The receiver counts itself a sleeper before it sleeps BLOCKED.
  for (bool blocked = false; !blocked;) {
    tl_thread_info list[64];
    size_t n = 0;
    ASSERT_EQ(tl_thread_list(list, 64, &n), TL_OK);
    for (size_t i = 0; i < n && i < 64; ++i) blocked |= list[i].id == t && list[i].state == TL_STATE_BLOCKED;
    if (!blocked) std::this_thread::yield();
  }
  ASSERT_EQ(tl_mailbox_free(box), TL_ESTATE);
  const int status = fork_and_check([box] {
    tl_fork_info info{};
    CHILD_CHECK(40, tl_fork_report(&info) == TL_OK);
    CHILD_CHECK(41, info.mailboxes_reset == 1);
    uint64_t w = 0;
    CHILD_CHECK(42, tl_mailbox_send(box, 7, 1000) == TL_OK);
    CHILD_CHECK(43, tl_mailbox_receive(box, &w, 1000) == TL_OK && w == 7);
    CHILD_CHECK(44, tl_mailbox_free(box) == TL_OK);
    return 0;
  });
  EXPECT_EQ(status, 0);
  ASSERT_EQ(tl_mailbox_send(box, 1, 1000), TL_OK);
  EXPECT_EQ(tl_join(t), TL_OK);
  EXPECT_EQ(tl_mailbox_free(box), TL_OK);
}

// Fork from a spawned thread: its record survives, re-keyed.
void fork_from_spawned(void* p) {
  *static_cast<int*>(p) = fork_and_check([] { return child_checks(1); });
}

TEST(Fork, FromASpawnedThread) {
  tltest::Workers w(tltest::Mode::ManagedPolling, kThreads);
  w.wait_running();
  int status = -100;
  tl_thread_id t = 0;
  ASSERT_EQ(tl_spawn("forker", fork_from_spawned, &status, &t), TL_OK);
  ASSERT_EQ(tl_join(t), TL_OK);
  EXPECT_EQ(status, 0);
}

// Fork from a thread the runtime never saw: every record is dropped, the
// initial thread's included; the child adopts itself to collect.
TEST(Fork, FromAThreadWithoutARecord) {
  tltest::Workers w(tltest::Mode::ForeignCall, kThreads);
  w.wait_running();
  int status = -100;
  std::thread forker([&] {
    int pid = -1;
    if (tl_fork(&pid) != TL_OK) return;
    if (pid == 0) _exit(child_checks(kThreads + 1));
    status = reap(pid, 20000);
  });
  forker.join();
  EXPECT_EQ(status, 0);
}

// Sixteen foreign threads sit inside callbacks (adopted records) at the
// fork, and the fork itself is made by another adopted thread from inside
// its callback: its adopted record survives, re-keyed (death watch armed
// on its new tid), and its callback can be left in the child.
TEST(Fork, FromInsideACallbackWithSixteenThreadsInCallbacks) {
  std::atomic<bool> stop{false};
  std::atomic<int> inside{0};
  std::vector<std::thread> sitters;
  for (int i = 0; i < kThreads; ++i)
    sitters.emplace_back([&] {
      if (tl_callback_enter() != TL_OK) return;
      inside.fetch_add(1);
      while (!stop.load()) {
        tl_gc_alloc(32);
        tl_safepoint();
      }
      tl_callback_exit();
    });
  while (inside.load() < kThreads) std::this_thread::yield();
  int status = -100;
  std::thread forker([&] {
    if (tl_callback_enter() != TL_OK) return;
    const tl_thread_id me = tl_self();
    int pid = -1;
    if (tl_fork(&pid) == TL_OK) {
      if (pid == 0) {
        tl_fork_info info{};
        if (tl_fork_report(&info) != TL_OK || info.survivor != me || info.records_dropped < kThreads) _exit(80);
        if (tl_self() != me) _exit(81);
        const int rc = child_checks(kThreads);
        if (rc != 0) _exit(rc);
        if (tl_callback_exit() != TL_OK) _exit(82);
        _exit(0);
      }
      status = reap(pid, 20000);
    }
    tl_callback_exit();
  });
  forker.join();
  stop.store(true);
  for (auto& t : sitters) t.join();
  EXPECT_EQ(status, 0);
}

// The stopper may not tl_fork; a raw fork by it ends the stop in the child.
TEST(Fork, StopperIsRefusedAndItsRawForkEndsTheStopInTheChild) {
  tltest::Workers w(tltest::Mode::ManagedPolling, 4);
  w.wait_running();
  ASSERT_EQ(tl_suspend_others(), TL_OK);
  int pid = -1;
  EXPECT_EQ(tl_fork(&pid), TL_EDEADLK);
  EXPECT_NE(std::string(tl_last_error()).find("holds the world stopped"), std::string::npos) << tl_last_error();
  const pid_t raw = fork();
  if (raw == 0) {
    tl_fork_info info{};
    if (tl_fork_report(&info) != TL_OK || info.by_stopper != 1) _exit(50);
    if (tl_world_is_stopped()) _exit(51);
    _exit(child_checks(4));
  }
  ASSERT_GT(raw, 0);
  ASSERT_EQ(tl_resume_others(), TL_OK);  // the parent's stop is untouched
  EXPECT_EQ(reap(raw, 20000), 0);
}

// A fork while another thread holds the world stopped waits for the stop to
// end: the forking thread (without a record, so never stopped) returns
// from fork only after the stopper began its resume.
TEST(Fork, DuringAStopWaitsForItsEnd) {
  std::atomic<int> phase{0};  // 1 world stopped, 2 forker about to fork, 3 resuming
  int status = -100;
  int seen = 0;
  // The forker exists before the stop: this (initial, managed) thread is
  // one of the stopped, and a thread it started only after the stop began
  // would never start (under ThreadSanitizer the stop landed inside its
  // pthread_create every time, and the stopper waited for it for good).
  std::thread forker([&] {
    while (phase.load() < 1) {
    }
    phase.store(2);
    int pid = -1;
    if (tl_fork(&pid) != TL_OK) return;
    if (pid == 0) _exit(0);
    seen = phase.load();
    status = reap(pid, 20000);
  });
  tl_thread_id stopper = 0;
  struct Arg {
    std::atomic<int>* phase;
  } arg{&phase};
  ASSERT_EQ(tl_spawn(
                "stopper",
                [](void* p) {
                  auto* ph = static_cast<Arg*>(p)->phase;
                  if (tl_suspend_others() != TL_OK) {
                    ph->store(1);  // let the forker go; the test then fails on seen
                    return;
                  }
                  ph->store(1);
                  while (ph->load() < 2) {
                  }
                  // Let the forker reach the prepare handler: it cannot get
                  // past the lifecycle lock until the resume below.
                  for (int i = 0; i < 2000000; ++i) asm volatile("" ::: "memory");
                  ph->store(3);
                  tl_resume_others();
                },
                &arg, &stopper),
            TL_OK);
  forker.join();
  ASSERT_EQ(tl_join(stopper), TL_OK);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(seen, 3);
}

// ---- heap images (gc/image.cpp) and fork-to-dump (tl_fork_and_save) ----

std::string temp_path(const char* what) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/fork_test-" + what + "-" + std::to_string(getpid()) + ".img";
}

// Equal to the heap's memory at addr, free (ASan-poisoned) cells included:
// compared without the sanitizer's checks, as the collector reads them.
__attribute__((no_sanitize("address", "thread"))) bool same_as_memory(const char* file, uintptr_t addr, size_t n) {
  const auto* mem = reinterpret_cast<const volatile char*>(addr);
  for (size_t i = 0; i < n; ++i)
    if (file[i] != mem[i]) return false;
  return true;
}

std::vector<char> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void spit(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(Image, RefusedWhileOtherThreadsRun) {
  tltest::Workers w(tltest::Mode::ManagedPolling, 2);
  w.wait_running();
  const std::string path = temp_path("refused");
  EXPECT_EQ(tl_save_image(path.c_str()), TL_ESTATE);
  EXPECT_NE(std::string(tl_last_error()).find("not single-threaded"), std::string::npos) << tl_last_error();
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "an image was written";
  EXPECT_EQ(tl_save_image(nullptr), TL_EINVAL);
}

// In a fork child: objects of known content and a root, saved; every block
// in the file equals the heap's memory byte for byte, every root its slot.
TEST(Image, RoundTripIsByteForByte) {
  tltest::Workers w(tltest::Mode::ManagedPolling, kThreads);  // the parent is busy
  w.wait_running();
  const std::string path = temp_path("roundtrip");
  static void* root = nullptr;
  const int status = fork_and_check([&path] {
    std::vector<unsigned char*> objs;
    for (int i = 0; i < 500; ++i) {
      auto* o = static_cast<unsigned char*>(tl_gc_alloc(16u << (i % 6)));
      CHILD_CHECK(60, o != nullptr);
      for (size_t k = 0; k < (16u << (i % 6)); ++k) o[k] = static_cast<unsigned char>(i * 31 + k);
      objs.push_back(o);
    }
    root = objs[7];
    CHILD_CHECK(61, tl_gc_add_root(&root) == TL_OK);
    CHILD_CHECK(62, tl_save_image(path.c_str()) == TL_OK);
    tl_image_header h{};
    CHILD_CHECK(63, tl_image_check(path.c_str(), &h) == TL_OK);
    CHILD_CHECK(64, h.blocks > 0 && h.roots >= 1);
    const std::vector<char> file = slurp(path);
    CHILD_CHECK(65, file.size() == sizeof h + h.payload_bytes);
    size_t at = sizeof h;
    size_t objects_seen = 0;
    for (uint64_t b = 0; b < h.blocks; ++b) {
      uint64_t addr = 0;
      std::memcpy(&addr, file.data() + at, 8);
      at += 8;
      CHILD_CHECK(66, same_as_memory(file.data() + at, addr, TL_IMAGE_BLOCK_BYTES));
      for (unsigned char* o : objs)
        if (reinterpret_cast<uintptr_t>(o) >= addr && reinterpret_cast<uintptr_t>(o) < addr + TL_IMAGE_BLOCK_BYTES)
          ++objects_seen;
      at += TL_IMAGE_BLOCK_BYTES;
    }
    CHILD_CHECK(67, objects_seen == objs.size());
    bool root_found = false;
    for (uint64_t r = 0; r < h.roots; ++r, at += 16) {
      uint64_t words[2];
      std::memcpy(words, file.data() + at, 16);
      root_found |= words[0] == reinterpret_cast<uint64_t>(&root) && words[1] == reinterpret_cast<uint64_t>(objs[7]);
    }
    CHILD_CHECK(68, root_found);
    return 0;
  });
  EXPECT_EQ(status, 0);
  // The image checks in this process too (a different heap: only the file).
  tl_image_header h{};
  EXPECT_EQ(tl_image_check(path.c_str(), &h), TL_OK) << tl_last_error();
  // A flipped byte, a short file, a wrong version, a stranger's file.
  std::vector<char> bytes = slurp(path);
  ASSERT_GT(bytes.size(), sizeof h + 100);
  const std::string bad = temp_path("bad");
  std::vector<char> flipped = bytes;
  flipped[sizeof h + 8 + 5000] ^= 0x40;
  spit(bad, flipped);
  EXPECT_EQ(tl_image_check(bad.c_str(), nullptr), TL_EINVAL);
  EXPECT_NE(std::string(tl_last_error()).find("checksum mismatch"), std::string::npos) << tl_last_error();
  spit(bad, std::vector<char>(bytes.begin(), bytes.end() - 1000));
  EXPECT_EQ(tl_image_check(bad.c_str(), nullptr), TL_EINVAL);
  EXPECT_NE(std::string(tl_last_error()).find("truncated"), std::string::npos) << tl_last_error();
  spit(bad, std::vector<char>(bytes.begin(), bytes.begin() + 10));
  EXPECT_EQ(tl_image_check(bad.c_str(), nullptr), TL_EINVAL);
  EXPECT_NE(std::string(tl_last_error()).find("truncated"), std::string::npos) << tl_last_error();
  std::vector<char> version = bytes;
  version[8] = 99;
  spit(bad, version);
  EXPECT_EQ(tl_image_check(bad.c_str(), nullptr), TL_EINVAL);
  EXPECT_NE(std::string(tl_last_error()).find("version 99"), std::string::npos) << tl_last_error();
  std::vector<char> magic = bytes;
  magic[0] = 'X';
  spit(bad, magic);
  EXPECT_EQ(tl_image_check(bad.c_str(), nullptr), TL_EINVAL);
  EXPECT_NE(std::string(tl_last_error()).find("bad magic"), std::string::npos) << tl_last_error();
  EXPECT_EQ(tl_image_check((bad + ".missing").c_str(), nullptr), TL_EINVAL);
  EXPECT_NE(std::string(tl_last_error()).find("cannot open"), std::string::npos) << tl_last_error();
  std::remove(bad.c_str());
  std::remove(path.c_str());
}

TEST(Image, SaveToAnUnwritablePlaceSaysWhere) {
  const int status = fork_and_check([] {
    CHILD_CHECK(70, tl_save_image("/nonexistent-dir/x.img") == TL_EINVAL);
    CHILD_CHECK(71, std::string(tl_last_error()).find("/nonexistent-dir/x.img.tmp.") != std::string::npos);
    return 0;
  });
  EXPECT_EQ(status, 0);
}

// The seed's recipe from the initial thread (it forks itself) and from a
// spawned thread (the initial thread runs the fork at a safe point); the
// parent's threads go on meanwhile.
TEST(ForkAndSave, FromTheInitialThreadAndFromASpawnedOne) {
  tltest::Workers w(tltest::Mode::ManagedPolling, kThreads);
  w.wait_running();
  const std::string a = temp_path("initial");
  int status = -5;
  ASSERT_EQ(tl_fork_and_save(a.c_str(), 20000, &status), TL_OK) << tl_last_error();
  EXPECT_EQ(status, 0);
  EXPECT_EQ(tl_image_check(a.c_str(), nullptr), TL_OK) << tl_last_error();
  std::remove(a.c_str());

  struct Req {
    std::string path;
    std::atomic<int> rc{1};
    int status = -5;
    std::atomic<bool> done{false};
  } req;
  req.path = temp_path("spawned");
  tl_thread_id t = 0;
  ASSERT_EQ(tl_spawn(
                "requester",
                [](void* p) {
                  auto* r = static_cast<Req*>(p);
                  r->rc.store(tl_fork_and_save(r->path.c_str(), 20000, &r->status));
                  r->done.store(true);
                },
                &req, &t),
            TL_OK);
  const uint64_t before = w.progress();
  while (!req.done.load()) tl_safepoint();  // the initial thread: the fork runs here
  ASSERT_EQ(tl_join(t), TL_OK);
  EXPECT_EQ(req.rc.load(), TL_OK) << tl_last_error();
  EXPECT_EQ(req.status, 0);
  EXPECT_EQ(tl_image_check(req.path.c_str(), nullptr), TL_OK) << tl_last_error();
  std::remove(req.path.c_str());
  while (w.progress() == before) std::this_thread::yield();  // the parent's threads kept running
}

// A child that hangs is killed at the timeout and reported with its
// threads. The hang: a fork child handler of this test that never returns.
std::atomic<bool> g_hang_children{false};
void hang_if_asked() {
  while (g_hang_children.load()) pause();
}

TEST(ForkAndSave, AHungChildIsKilledAndReported) {
  static bool installed = false;
  if (!installed) installed = pthread_atfork(nullptr, nullptr, hang_if_asked) == 0;
  ASSERT_TRUE(installed);
  g_hang_children.store(true);
  const std::string path = temp_path("hung");
  int status = -5;
  const uint64_t t0 = now_ms();
  const int rc = tl_fork_and_save(path.c_str(), 500, &status);
  g_hang_children.store(false);
  EXPECT_EQ(rc, TL_ETIMEDOUT);
  EXPECT_GE(now_ms() - t0, 500u);
  EXPECT_NE(std::string(tl_last_error()).find("was killed; its threads: tid"), std::string::npos) << tl_last_error();
  EXPECT_EQ(status, 128 + SIGKILL);
  EXPECT_NE(access(path.c_str(), F_OK), 0);
}

TEST(ForkAndSave, BadArgumentsAndTheStopper) {
  int status = 0;
  EXPECT_EQ(tl_fork_and_save(nullptr, 100, &status), TL_EINVAL);
  EXPECT_EQ(status, -1);
  ASSERT_EQ(tl_suspend_others(), TL_OK);
  EXPECT_EQ(tl_fork_and_save("/tmp/never.img", 100, &status), TL_EDEADLK);
  ASSERT_EQ(tl_resume_others(), TL_OK);
}

}  // namespace
