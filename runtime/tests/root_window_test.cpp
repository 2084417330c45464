// root_window_test.cpp — a managed pointer on its way onto or off the value
// stack, or through a cleanup, is always somewhere the collector scans: at
// every single instruction, not just at the calls' boundaries.
//
// A stop may land on any instruction. The collector of a stopped thread
// scans its registers, its value and temp stacks up to their stack
// pointers, and its control stack from sp (less the red zone) to the top.
// This test forks a child, single-steps it with ptrace through a push and
// pop (and a cleanup push and run), and after the marker word first
// appears in one of those places requires it in one of them at every step
// until the child says it is done. A stack pointer moved before the word is
// in a register (or written) shows up as the step, and the function, where
// the word was nowhere.
//
// Linux on x86_64 and aarch64 only (ptrace register sets); skipped where
// ptrace is not available (qemu-user, some containers).
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <elf.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "current.h"
#include "record.h"
#include "regs.h"
#include "threadlab/runtime.h"

namespace {

constexpr uintptr_t kKey = 0x5a5a0f0fc3c3a5a5ull;
volatile uintptr_t g_encoded = 0;  // the marker, stored encoded so no plain copy exists
volatile uintptr_t g_out = 0;      // a use after the end marker keeps the word live up to it
constexpr int kSkip = 77;  // child exit status: ptrace unavailable

#if defined(__x86_64__)
constexpr size_t kSpIndex = offsetof(user_regs_struct, rsp) / sizeof(uint64_t);
// Zero the caller-saved registers a stale copy of the marker could linger
// in, so the test sees what the code under test keeps, not leftovers.
#define CLOBBER_SCRATCH()                                                                                  \
  __asm__ volatile("xor %%eax,%%eax\n\txor %%ecx,%%ecx\n\txor %%edx,%%edx\n\txor %%esi,%%esi\n\t"          \
                   "xor %%edi,%%edi\n\txor %%r8d,%%r8d\n\txor %%r9d,%%r9d\n\txor %%r10d,%%r10d\n\t"           \
                   "xor %%r11d,%%r11d" ::                                                                  \
                       : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory")
#elif defined(__aarch64__)
constexpr size_t kSpIndex = offsetof(user_regs_struct, sp) / sizeof(uint64_t);
#define CLOBBER_SCRATCH()                                                                                   \
  __asm__ volatile("mov x0, xzr\n\tmov x1, xzr\n\tmov x2, xzr\n\tmov x3, xzr\n\tmov x4, xzr\n\t"           \
                   "mov x5, xzr\n\tmov x6, xzr\n\tmov x7, xzr\n\tmov x8, xzr\n\tmov x9, xzr\n\t"             \
                   "mov x10, xzr\n\tmov x11, xzr\n\tmov x12, xzr\n\tmov x13, xzr\n\tmov x14, xzr\n\t"        \
                   "mov x15, xzr\n\tmov x16, xzr\n\tmov x17, xzr" ::                                        \
                       : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",   \
                         "x13", "x14", "x15", "x16", "x17", "memory")
#endif

#if defined(__x86_64__) || defined(__aarch64__)

// Where the collector looks for one thread, as addresses valid in the child
// (a fork of this process, so the same as here).
struct Places {
  uintptr_t value_lo, value_sp_at;  // value stack base, &record->value_sp
  uintptr_t temp_lo, temp_sp_at;    // temp stack base, &record->temp_sp
  uintptr_t control_hi;
};

bool read_child(pid_t pid, uintptr_t at, void* out, size_t n) {
  iovec local{out, n}, remote{reinterpret_cast<void*>(at), n};
  return process_vm_readv(pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(n);
}

bool range_holds(pid_t pid, uintptr_t lo, uintptr_t hi, uintptr_t word) {
  if (hi <= lo || hi - lo > (64u << 20)) return false;
  std::vector<uintptr_t> buf((hi - lo) / sizeof(uintptr_t));
  if (buf.empty() || !read_child(pid, lo, buf.data(), buf.size() * sizeof(uintptr_t))) return false;
  for (uintptr_t w : buf)
    if (w == word) return true;
  return false;
}

// Is `word` anywhere the collector would scan in the stopped child?
bool visible(pid_t pid, const Places& p, uintptr_t word, uintptr_t* pc_out) {
  uint64_t regs[64] = {};
  iovec iov{regs, sizeof regs};
  if (ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov) != 0) return false;
  const size_t n = iov.iov_len / sizeof(uint64_t);
#if defined(__x86_64__)
  *pc_out = regs[offsetof(user_regs_struct, rip) / sizeof(uint64_t)];
#else
  *pc_out = regs[offsetof(user_regs_struct, pc) / sizeof(uint64_t)];
#endif
  for (size_t i = 0; i < n; ++i)
    if (regs[i] == word) return true;
  uintptr_t vsp = 0, tsp = 0;
  if (!read_child(pid, p.value_sp_at, &vsp, sizeof vsp) || !read_child(pid, p.temp_sp_at, &tsp, sizeof tsp)) return false;
  if (range_holds(pid, p.value_lo, vsp, word) || range_holds(pid, p.temp_lo, tsp, word)) return true;
  const uintptr_t sp = regs[kSpIndex] - tl::kRedZoneBytes;
  return range_holds(pid, sp, p.control_hi, word);
}

std::string describe(uintptr_t pc) {
  Dl_info info{};
  char buf[64];
  if (dladdr(reinterpret_cast<void*>(pc), &info) && info.dli_sname) {
    snprintf(buf, sizeof buf, "+0x%lx", static_cast<unsigned long>(pc - reinterpret_cast<uintptr_t>(info.dli_saddr)));
    return std::string(info.dli_sname) + buf;
  }
  snprintf(buf, sizeof buf, "pc 0x%lx", static_cast<unsigned long>(pc));
  return buf;
}

// Run `body` in a traced child between two SIGSTOPs and step through it.
// Returns "" when the marker never went missing once seen, else what
// happened.
std::string trace(void (*body)()) {
  tl::Record* r = tl::current_record();
  if (!r) return "the test thread has no record";
  const Places places{r->value.lo, reinterpret_cast<uintptr_t>(&r->value_sp), r->temp.lo,
                      reinterpret_cast<uintptr_t>(&r->temp_sp), r->control_hi};
  const pid_t pid = fork();
  if (pid < 0) return std::string("fork: ") + strerror(errno);
  if (pid == 0) {
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) _exit(kSkip);
    raise(SIGSTOP);  // start
    body();          // ends with its own raise(SIGSTOP); the parent kills us there
    _exit(0);
  }
  const uintptr_t marker = g_encoded ^ kKey;
  int status = 0;
  std::string verdict;
  if (waitpid(pid, &status, 0) != pid) return "waitpid failed";
  if (WIFEXITED(status) && WEXITSTATUS(status) == kSkip) return "skip";
  if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) return "the child did not stop at the start";
  bool seen = false;
  unsigned steps = 0;
  for (;;) {
    if (ptrace(PTRACE_SINGLESTEP, pid, nullptr, nullptr) != 0) {
      verdict = "PTRACE_SINGLESTEP failed";
      break;
    }
    if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
      verdict = "the child ended before its end marker";
      break;
    }
    if (WSTOPSIG(status) == SIGSTOP) break;  // the body's end marker
    if (WSTOPSIG(status) != SIGTRAP) {
      verdict = "the child stopped with signal " + std::to_string(WSTOPSIG(status));
      break;
    }
    ++steps;
    uintptr_t pc = 0;
    const bool here = visible(pid, places, marker, &pc);
    if (here) seen = true;
    if (seen && !here) {
      verdict = "after " + std::to_string(steps) + " steps the word was in no register and on no scanned stack, at " +
                describe(pc);
      break;
    }
  }
  if (verdict.empty() && !seen) verdict = "the marker was never seen (the test is not testing anything)";
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return verdict;
}

void value_body() {
  uintptr_t out = 0;
  tl_value_push(g_encoded ^ kKey);
  CLOBBER_SCRATCH();
  tl_value_pop(&out);
  raise(SIGSTOP);  // end: `out` holds it, on this frame
  g_out = out;
}

void keep(void* p) {
  raise(SIGSTOP);  // end: the cleanup got its argument
  g_out = reinterpret_cast<uintptr_t>(p);
}

void cleanup_body() {
  tl_cleanup_push(keep, reinterpret_cast<void*>(g_encoded ^ kKey));
  CLOBBER_SCRATCH();
  tl_cleanup_pop(1);
}

void warm_up() {
  // Resolve every PLT entry the bodies use before anything is stepped.
  uintptr_t w;
  tl_value_push(0);
  tl_value_pop(&w);
  tl_cleanup_push([](void*) {}, nullptr);
  tl_cleanup_pop(1);
  g_encoded = (reinterpret_cast<uintptr_t>(&w) * 0x9e3779b97f4a7c15ull) | 1;
}

TEST(RootWindow, AValueStackPopNeverHidesTheWord) {
  warm_up();
  const std::string v = trace(value_body);
  if (v == "skip") GTEST_SKIP() << "ptrace is not available here";
  EXPECT_EQ(v, "");
}

TEST(RootWindow, ACleanupPopNeverHidesItsArgument) {
  warm_up();
  const std::string v = trace(cleanup_body);
  if (v == "skip") GTEST_SKIP() << "ptrace is not available here";
  EXPECT_EQ(v, "");
}

#endif

}  // namespace
