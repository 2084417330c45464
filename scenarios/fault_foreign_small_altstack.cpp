// fault_foreign_small_altstack.cpp — foreign threads, each with its own
// 16 KiB sigaltstack, call back and overflow inside the callback (value
// stack and native stack).
//
// Guards against: a runtime that runs its fault handler on a foreign
// thread's small altstack, replaces it for good, or frees it (Go #22930: a C
// thread's sigaltstack clobbered on callback); no altstack at all, which
// makes an overflow of the foreign thread's own stack fatal.
// Checks: each overflow is recovered inside the callback; during the
// callback the thread runs with an altstack of at least 64 KiB; in the
// penultimate round of its key destructors, after the runtime released its record, the
// thread has its own 16 KiB altstack back, exactly.
#include <pthread.h>
#include <signal.h>

#include <cstdlib>

#include <fmt/format.h>

#include "fault_common.h"

namespace threadlab {
namespace {

constexpr size_t kOwnBytes = 16 * 1024;
constexpr size_t kRuntimeMin = 64 * 1024;

struct Probe {
  Context* ctx;
  void* own;
  int round = 0;
};
pthread_key_t g_key;
pthread_once_t g_once = PTHREAD_ONCE_INIT;

// Re-armed until the penultimate destructor round, where the runtime
// releases adopted records (its key, made at init, comes before this one in
// the round). The thread then takes its own altstack down before it exits:
// ASan's thread exit unmaps whatever altstack is installed then, as if it
// were its own.
void probe_destructor(void* p) {
  auto* probe = static_cast<Probe*>(p);
  if (++probe->round < PTHREAD_DESTRUCTOR_ITERATIONS - 1) {
    pthread_setspecific(g_key, p);
    return;
  }
  stack_t now{};
  sigaltstack(nullptr, &now);
  if (now.ss_sp != probe->own || now.ss_size != kOwnBytes || (now.ss_flags & SS_DISABLE))
    probe->ctx->finding(Verdict::Invariant,
                        fmt::format("foreign thread's own {}-byte altstack at {} was not put back when its record was "
                                    "released (now {} bytes at {}, flags {})",
                                    kOwnBytes, probe->own, now.ss_size, now.ss_sp, now.ss_flags));
  stack_t off{};
  off.ss_flags = SS_DISABLE;
  if (now.ss_sp == probe->own) sigaltstack(&off, nullptr);
  std::free(probe->own);
  delete probe;
}

void cycle(Context& ctx) {
  pthread_once(&g_once, [] { pthread_key_create(&g_key, probe_destructor); });
  scn::run_foreign(ctx.params.threads, [&](int) {
    auto* probe = new Probe{&ctx, std::malloc(kOwnBytes)};
    stack_t ss{};
    ss.ss_sp = probe->own;
    ss.ss_size = kOwnBytes;
    if (!probe->own || sigaltstack(&ss, nullptr) != 0) {
      ctx.finding(Verdict::Fail, "could not install the foreign thread's 16 KiB altstack");
      std::free(probe->own);
      delete probe;
      return;
    }
    pthread_setspecific(g_key, probe);
    for (int k = 0; k < ctx.params.iterations && !ctx.has_findings(); ++k) {
      scn::in_callback(ctx, [&] {
        if (!scn::provoke(ctx, TL_FAULT_STACK_OVERFLOW, "in a callback")) return;
        if (!scn::provoke(ctx, TL_FAULT_NATIVE_OVERFLOW, "in a callback (the foreign thread's own stack)")) return;
        stack_t now{};
        sigaltstack(nullptr, &now);
        if (now.ss_sp == probe->own || now.ss_size < kRuntimeMin)
          ctx.finding(Verdict::Invariant,
                      fmt::format("in a callback the thread runs with a {}-byte altstack at {}: the fault handler "
                                  "would run on the thread's own 16 KiB one",
                                  now.ss_size, now.ss_sp));
      });
      ctx.progress();
    }
  });
}

}  // namespace

const RegisterScenario registered{{
    .name = "fault-foreign-small-altstack",
    .tags = {"faults", "foreign", "callback", "altstack", "overflow"},
    .caps = TL_CAP_FOREIGN_CALLBACK | TL_CAP_FAULTS,
    .description = "Foreign threads with their own 16 KiB sigaltstack call back and overflow their value and native "
        "stacks inside the callback. Guards against a runtime that handles faults on the thread's small altstack, "
        "replaces it for good or frees it (Go #22930), or has no altstack at all.",
    .defaults = {.threads = 4, .iterations = 20, .cycles = 6, .warmup = 2},
    .timeout_s = 60,
    .cycle = cycle,
    .catches = {{.defect = "no_sigaltstack", .verdict = Verdict::Crash, .cycles = 1}},
}};

}  // namespace threadlab
