// interpreter_test.cpp — the interpreter against the reference adapter (and
// the pthread adapter for capability skips). Tests may link the reference
// adapter; the library itself never does.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <threadlab/fuzz/interpreter.h>
#include <threadlab/fuzz/program.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "exec.h"

extern "C" const tl_adapter tl_reference_adapter;
extern "C" const tl_adapter tl_pthread_adapter;

#if defined(__SANITIZE_THREAD__)
#define TL_TEST_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TL_TEST_UNDER_TSAN 1
#endif
#endif

namespace threadlab::fuzz {
namespace {

#if defined(TL_TEST_UNDER_TSAN)
constexpr bool kUnderTsan = true;
#else
constexpr bool kUnderTsan = false;
#endif
// The build's own flag (fork_op.cpp keys on it too).
#if defined(TL_UNDER_ASAN) || defined(TL_UNDER_TSAN)
constexpr bool kUnderSanitizer = true;
#else
constexpr bool kUnderSanitizer = false;
#endif

Program parse(const std::string& text) {
  Program p;
  ParseError err;
  EXPECT_TRUE(parse_text(text, &p, &err)) << err.line << ":" << err.column << ": " << err.message << "\n" << text;
  return p;
}

class Interp : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(exec_init(&tl_reference_adapter), ""); }
  ExecResult run(const std::string& text, unsigned timeout_ms = 10000) {
    ExecOptions o;
    o.op_timeout_ms = timeout_ms;
    return execute(&tl_reference_adapter, parse(text), o);
  }
};

bool has(const ExecResult& r, const std::string& verdict, const std::string& needle = "") {
  for (const Finding& f : r.findings)
    if (f.verdict == verdict && f.text.find(needle) != std::string::npos) return true;
  return false;
}

TEST_F(Interp, EveryOpKindRunsCleanOnTheReference) {
  const std::string text =
      "t1 = spawn\n"
      "t2 = spawn\n"
      "f1 = foreign\n"
      "callback f1\n"
      "lock l1 (on: t1)\n"
      "send m1 7 (on: f1)\n"
      "send m1 9 (on: t2, async)\n"
      "receive m1 (on: t2)\n"
      "unlock l1 (on: t1)\n"
      "interrupt t2\n"
      "safepoint (on: t2)\n"
      "yield (on: t1)\n"
      "priority t1 -3\n"
      "starve t2 200\n"
      "alloc 8 (on: t1)\n"
      "alloc 4 (on: f1)\n"
      "without_gc {\n"
      "  collect\n"
      "  alloc 2\n"
      "}\n"
      "blocking {\n"
      "  yield\n"
      "}\n"
      "suspend_all\n"
      "collect\n"
      "resume_all\n"
      "collect (on: t2, delay: 50us)\n"
      "overflow t1\n"
      "barrier_fault (on: t2)\n"
      "kill t2\n"
      "join t2\n"
      "exit f1\n"
      "join t1\n";
  // Under ASan and TSan the fork child runs no body (fork_op.cpp says why):
  // its three ops count as skipped there.
  const std::string fork = "fork {\n  t3 = spawn\n  alloc 4 (on: t3)\n  join t3\n}\n";
  const Program p = parse(text.substr(0, text.find("kill t2\n")) + fork + text.substr(text.find("kill t2\n")));
  const ExecResult r = execute(&tl_reference_adapter, p, ExecOptions{});
  EXPECT_TRUE(r.findings.empty()) << describe(r);
  EXPECT_TRUE(r.errors.empty()) << describe(r);
  EXPECT_EQ(r.skipped, kUnderSanitizer ? 3u : 0u) << describe(r);
  EXPECT_EQ(r.not_applicable, 0u) << describe(r);
  // Every op but the fork body's (those run in the child) counts as executed.
  EXPECT_EQ(r.executed, op_count(p) - 3) << describe(r);
}

// Ops `on:` a thread run on that thread: the observer sees the adapter's
// own idea of the calling thread.
std::mutex g_seen_mu;
std::multimap<std::string, tl_adapter_thread_id> g_seen;
void observe(detail::Actor& me, const Op&) {
  std::lock_guard<std::mutex> g(g_seen_mu);
  g_seen.emplace(me.name, tl_reference_adapter.self());
}

TEST_F(Interp, OpsOnAnotherThreadRunThere) {
  g_seen.clear();
  detail::g_observe = observe;
  const ExecResult r = run("t1 = spawn\nt2 = spawn\nyield (on: t1)\nsafepoint (on: t2)\nyield\n");
  detail::g_observe = nullptr;
  EXPECT_TRUE(r.findings.empty()) << describe(r);
  ASSERT_EQ(g_seen.count("t1"), 1u);
  ASSERT_EQ(g_seen.count("t2"), 1u);
  const auto t1 = g_seen.find("t1")->second, t2 = g_seen.find("t2")->second;
  const auto main_id = g_seen.find("main")->second;
  EXPECT_NE(t1, 0u);
  EXPECT_NE(t2, 0u);
  EXPECT_NE(t1, t2);
  EXPECT_NE(t1, main_id);
  EXPECT_EQ(main_id, tl_reference_adapter.self());
}

TEST_F(Interp, AsyncOpsDoNotWaitAndAllEndByTheTeardown) {
  // t1 is parked 20 ms async; the driver goes on (receive would wait for
  // a send not issued yet: not applicable).
  const ExecResult r = run("t1 = spawn\nstarve t1 20000\nreceive m1\nsend m1 3 (on: t1, async)\nreceive m1\n");
  EXPECT_TRUE(r.findings.empty()) << describe(r);
  EXPECT_EQ(r.not_applicable, 1u) << describe(r);
}

TEST_F(Interp, StateRulesMakeImpossibleOpsSafe) {
  const ExecResult r = run(
      "t1 = spawn\n"
      "join t1\n"
      "join t1\n"            // joined already
      "yield (on: t1)\n"     // ended thread
      "unlock l1\n"          // not held
      "lock l2\n"
      "lock l2\n"            // held by this thread: not recursive
      "t2 = spawn\n"
      "lock l2 (on: t2)\n"   // held by main, sync: would wait for good
      "lock l3 (on: t2)\n"
      "resume_all\n");       // no stop held
  EXPECT_TRUE(r.findings.empty()) << describe(r);
  EXPECT_EQ(r.not_applicable, 6u) << describe(r);
}

TEST_F(Interp, FailNthIsAnErrorAndLeaksNothing) {
  const ExecResult r = run("t1 = spawn (fail_nth: 1)\nyield (on: t1)\nt2 = spawn (fail_nth: 3)\nalloc 4 (on: t2)\n");
  EXPECT_TRUE(r.findings.empty()) << describe(r);  // the baseline check passed too
  ASSERT_FALSE(r.errors.empty()) << describe(r);
  EXPECT_NE(r.errors.front().find("spawn"), std::string::npos) << r.errors.front();
}

TEST_F(Interp, MailboxAccountingIsExact) {
  const ExecResult r = run("t1 = spawn\nsend m1 5 (on: t1)\nsend m1 6\nsend m2 1 (on: t1)\nreceive m1\n");
  EXPECT_TRUE(r.findings.empty()) << describe(r);
}

TEST_F(Interp, OppositeLockOrderDeadlockIsFoundByTheWatchdog) {
  // Sync ops are the barrier: each holds its first lock before either
  // asks for the second. The watchdog reports it, kills both, and the
  // teardown still leaves nothing behind (no baseline finding).
  const ExecResult r = run(
      "t1 = spawn\nt2 = spawn\n"
      "lock l1 (on: t1)\nlock l2 (on: t2)\n"
      "lock l2 (on: t1, async)\nlock l1 (on: t2, async)\n",
      1000);
  EXPECT_TRUE(has(r, "deadlock", "no op finished within 1000 ms")) << describe(r);
  EXPECT_TRUE(has(r, "deadlock", "waits for lock")) << describe(r);
  EXPECT_FALSE(has(r, "invariant", "after the teardown")) << describe(r);
}

TEST_F(Interp, OppositeLockOrderIsPredictedWithoutHanging) {
  if (kUnderTsan) GTEST_SKIP() << "ThreadSanitizer reports the inversion this test builds on purpose";
  const ExecResult r = run(
      "t1 = spawn\nt2 = spawn\n"
      "lock l1 (on: t1)\nlock l2 (on: t1)\nunlock l2 (on: t1)\nunlock l1 (on: t1)\n"
      "lock l2 (on: t2)\nlock l1 (on: t2)\n");
  EXPECT_TRUE(has(r, "invariant", "potential deadlock")) << describe(r);
  EXPECT_FALSE(has(r, "deadlock")) << describe(r);
}

TEST(InterpWatchdog, AbortsWithEveryThreadDumped) {
  // abort_on_finding: the engines' mode. In a child: the abort is the point.
  const pid_t pid = fork();
  if (pid == 0) {
    int fd = open("/dev/null", O_WRONLY);
    (void)fd;
    if (!exec_init(&tl_reference_adapter).empty()) _exit(3);
    ExecOptions o;
    o.op_timeout_ms = 500;
    o.abort_on_finding = true;
    Program p;
    ParseError err;
    if (!parse_text("t1 = spawn\nt2 = spawn\nlock l1 (on: t1)\nlock l2 (on: t2)\n"
                    "lock l2 (on: t1, async)\nlock l1 (on: t2, async)\n",
                    &p, &err))
      _exit(4);
    execute(&tl_reference_adapter, p, o);
    _exit(0);
  }
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGABRT);
}

TEST(InterpSkips, MissingCapabilitiesAreCountedNeverCalled) {
  ASSERT_EQ(tl_pthread_adapter.init(), TL_ADAPTER_OK);
  Program p = parse(
      "t1 = spawn\ncollect\nalloc 3 (on: t1)\nkill t1\nsuspend_all\nresume_all\n"
      "without_gc {\n  yield\n}\nlock l1 (on: t1)\nunlock l1 (on: t1)\njoin t1\n");
  const ExecResult r = detail::execute_in(&tl_pthread_adapter, p, ExecOptions{}, false);
  EXPECT_TRUE(r.findings.empty()) << describe(r);
  std::map<std::string, unsigned> by(r.skipped_by_op.begin(), r.skipped_by_op.end());
  EXPECT_EQ(by["collect"], 1u);
  EXPECT_EQ(by["alloc"], 1u);
  EXPECT_EQ(by["kill"], 1u);
  EXPECT_EQ(by["suspend_all"], 1u);
  EXPECT_EQ(by["resume_all"], 1u);
  EXPECT_EQ(by["without_gc"], 1u);
  EXPECT_EQ(r.skipped, 6u) << describe(r);
  EXPECT_EQ(r.executed, 5u) << describe(r);  // spawn, the body's yield, lock, unlock, join
}

TEST(Baseline, SeesAnExtraThreadAndAnExtraFd) {
  // A sanitizer starts its own helper thread with the process's first
  // thread (ThreadSanitizer's background thread): make it exist before the
  // baseline, as exec_init does with its warm-up thread.
  std::thread([] {}).join();
  const detail::Baseline base = detail::settled_baseline();  // the warm-up thread gone from the list
  std::promise<void> go;
  std::thread extra([f = go.get_future()]() mutable { f.wait(); });
  const int fd = open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  const std::string diff = detail::baseline_diff(base, detail::take_baseline());
  EXPECT_NE(diff.find("threads where the baseline had"), std::string::npos) << diff;
  EXPECT_NE(diff.find("fd " + std::to_string(fd) + " (/dev/null) left open"), std::string::npos) << diff;
  go.set_value();
  extra.join();
  close(fd);
  std::string after;
  for (int i = 0; i < 250; ++i) {  // the kernel reaps a joined thread a moment later
    after = detail::baseline_diff(base, detail::take_baseline());
    if (after.empty()) break;
    usleep(2000);
  }
  EXPECT_EQ(after, "");
}

// An injected runtime defect, found through the adapter only: the test runs
// itself again with THREADLAB_INJECT set (the runtime reads it at init).
TEST(InjectedDefect, KillKeepsLocksIsFound) {
  const pid_t pid = fork();
  if (pid == 0) {
    setenv("THREADLAB_INJECT", "kill_keeps_locks", 1);
    setenv("TL_FUZZ_EXEC_CHILD", "1", 1);
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) _exit(5);
    self[n] = 0;
    execl(self, self, "--gtest_filter=InjectedDefectChild.*", static_cast<char*>(nullptr));
    _exit(6);
  }
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child run did not find the injected defect";
}

TEST(InjectedDefectChild, FindsIt) {
  if (!std::getenv("TL_FUZZ_EXEC_CHILD")) GTEST_SKIP() << "run by InjectedDefect.KillKeepsLocksIsFound";
  ASSERT_EQ(exec_init(&tl_reference_adapter), "");
  ExecOptions o;
  o.op_timeout_ms = 1000;
  const ExecResult r = execute(&tl_reference_adapter,
                               parse("t1 = spawn\nt2 = spawn\nlock l1 (on: t1)\nkill t1\nlock l1 (on: t2, async)\n"), o);
  EXPECT_FALSE(r.findings.empty()) << describe(r);
}

TEST_F(Interp, TheSameCleanProgramWithoutInjectionFindsNothing) {
  const ExecResult r = run("t1 = spawn\nt2 = spawn\nlock l1 (on: t1)\nkill t1\nlock l1 (on: t2, async)\n", 1000);
  EXPECT_TRUE(r.findings.empty()) << describe(r);
}

}  // namespace
}  // namespace threadlab::fuzz
