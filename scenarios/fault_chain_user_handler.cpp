// fault_chain_user_handler.cpp — the program installs its own SIGSEGV
// handler after the runtime's, for pages of its own (a lazily committed
// mapping), and passes every other fault on to the handler it found.
//
// Guards against: a runtime whose fault path breaks when it is not first in
// line (it must still recover an overflow reached through a chained call,
// on whatever stack the program's handler runs), or that takes faults on
// pages it does not own for its own. (A handler installed before the runtime
// is runtime/tests/fault_chain_test.cpp: the runtime is initialised before
// any scenario runs.)
// Checks: every fault on the program's pages reaches its handler and the
// write lands; every overflow is recovered and was seen by the program's
// handler first; integrity.
#include <signal.h>
#include <sys/mman.h>

#include <atomic>

#include <fmt/format.h>

#include "fault_common.h"

namespace threadlab {
namespace {

struct sigaction g_prev;
std::atomic<uint64_t> g_own{0}, g_passed{0};
constexpr size_t kPages = 256;
char* g_region = nullptr;  // the program's own pages, protected until touched

void program_handler(int sig, siginfo_t* si, void* uc) {
  const auto a = reinterpret_cast<uintptr_t>(si->si_addr);
  const auto lo = reinterpret_cast<uintptr_t>(g_region);
  if (si->si_code > 0 && g_region && a >= lo && a < lo + kPages * 4096) {
    mprotect(reinterpret_cast<void*>(a & ~uintptr_t{4095}), 4096, PROT_READ | PROT_WRITE);
    g_own.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  g_passed.fetch_add(1, std::memory_order_relaxed);
  if (g_prev.sa_flags & SA_SIGINFO)
    g_prev.sa_sigaction(sig, si, uc);
  else if (g_prev.sa_handler != SIG_DFL && g_prev.sa_handler != SIG_IGN)
    g_prev.sa_handler(sig);
}

void setup(Context& ctx) {
  void* m = mmap(nullptr, kPages * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (!ctx.ok(m == MAP_FAILED ? TL_ADAPTER_EFAIL : TL_ADAPTER_OK, "mmap (the program's pages)")) return;
  g_region = static_cast<char*>(m);
  struct sigaction sa{};
  sa.sa_sigaction = program_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  ctx.ok(sigaction(SIGSEGV, &sa, &g_prev) == 0 ? TL_ADAPTER_OK : TL_ADAPTER_EFAIL, "sigaction (program handler)");
}

void teardown(Context&) { sigaction(SIGSEGV, &g_prev, nullptr); }

void cycle(Context& ctx) {
  if (!g_region) return;
  const uint64_t passed_before = g_passed.load(), own_before = g_own.load();
  std::atomic<uint64_t> overflows{0}, touches{0};
  scn::run_managed(ctx, ctx.params.threads, "chained", [&](int i) {
    char* page = g_region + (static_cast<size_t>(i) % kPages) * 4096;
    for (int k = 0; k < ctx.params.iterations && !ctx.has_findings(); ++k) {
      // The program's own fault: its handler commits the page; the write lands.
      mprotect(page, 4096, PROT_NONE);
      *reinterpret_cast<volatile int*>(page) = k + 1;
      touches.fetch_add(1);
      if (*reinterpret_cast<volatile int*>(page) != k + 1) {
        ctx.finding(Verdict::Fail, "a write to the program's own page did not land after its handler ran");
        break;
      }
      if (!scn::provoke(ctx, k % 5 == 4 ? TL_FAULT_NATIVE_OVERFLOW : TL_FAULT_STACK_OVERFLOW, "behind a program handler"))
        break;
      overflows.fetch_add(1);
      ctx.progress();
    }
  });
  const uint64_t passed = g_passed.load() - passed_before, own = g_own.load() - own_before;
  if (!ctx.has_findings() && own < touches.load())
    ctx.finding(Verdict::Invariant, fmt::format("{} faults on the program's own pages but its handler saw {}",
                                                touches.load(), own));
  if (!ctx.has_findings() && passed < overflows.load())
    ctx.finding(Verdict::Invariant, fmt::format("{} overflows recovered but the program's handler, installed after the "
                                                "runtime's, saw only {} faults",
                                                overflows.load(), passed));
}

}  // namespace

const RegisterScenario registered{{
    .name = "fault-chain-user-handler",
    .tags = {"faults", "chain", "overflow"},
    .caps = TL_CAP_SPAWN | TL_CAP_FAULTS,
    .description = "The program installs its own SIGSEGV handler after the runtime's and passes faults on to it. "
        "Guards against a runtime fault path that only works when it is first in line.",
    .defaults = {.threads = 4, .iterations = 100, .cycles = 4, .warmup = 1},
    .timeout_s = 60,
    .setup = setup,
    .cycle = cycle,
    .teardown = teardown,
}};

}  // namespace threadlab
