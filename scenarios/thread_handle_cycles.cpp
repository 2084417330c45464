// thread_handle_cycles.cpp — whole thread lifecycles that each own a
// per-thread kernel handle: managed threads that return, managed threads
// killed at a safepoint, and foreign threads adopted by a callback that then
// exit (released by their key destructor).
//
// Guards against: a per-thread kernel handle (a CPU-time timer, an eventfd,
// a Mach exception port) that outlives its thread on any of the three exit
// paths (leak: the probes count POSIX timers, fds by kind and Mach port
// rights after each cycle).
// Checks: every spawn, kill, join and callback succeeds; a killed thread
// never runs on; the leak counters have no slope over the cycles.
#include <sched.h>

#include <atomic>

#include <fmt/format.h>

#include "common.h"

namespace threadlab {
namespace {

struct Victim {
  Context* ctx = nullptr;
  std::atomic<bool> ready{false};
};

void victim_main(void* p) {
  auto& v = *static_cast<Victim*>(p);
  const tl_adapter* rt = v.ctx->rt;
  v.ready.store(true);
  for (;;) rt->safepoint();  // until the kill unwinds it
}

void kill_one(Context& ctx, int i) {
  Victim v;
  v.ctx = &ctx;
  tl_adapter_thread_id id = 0;
  const std::string name = fmt::format("handle-victim-{}", i);
  if (!ctx.call.spawn(name.c_str(), victim_main, &v, &id)) return;
  while (!v.ready.load()) sched_yield();
  ctx.call.kill(id);
  ctx.call.join(id);
}

void cycle(Context& ctx) {
  const int n = ctx.params.threads;
  // Threads that return.
  scn::run_managed(ctx, n - n / 2, "handle-returner", [&](int) { ctx.progress(); });
  // Threads killed at a safepoint.
  for (int i = 0; i < n / 2 && !ctx.has_findings(); ++i) {
    kill_one(ctx, i);
    ctx.progress();
  }
  // Foreign threads adopted by their first callback, released at exit.
  scn::run_foreign(n, [&](int) {
    scn::in_callback(ctx, [&] { ctx.progress(); });
  });
}

}  // namespace

const RegisterScenario registered{{
    .name = "thread-handle-cycles",
    .tags = {"threads", "lifecycle", "leak", "exceptions"},
    .caps = TL_CAP_SPAWN | TL_CAP_KILL | TL_CAP_FOREIGN_CALLBACK,
    .description = "Whole thread lifecycles, each thread owning a per-thread kernel handle (Linux: a CPU-time timer; "
        "Apple: an exception port): managed threads that return, managed threads killed at a safepoint, and "
        "foreign threads adopted by a callback that then exit. Guards against a handle that outlives its thread "
        "on any exit path (leak: POSIX timers, fds by kind, Mach port rights).",
    .defaults = {.threads = 4, .iterations = 1, .cycles = 20, .warmup = 2},
    .cycle = cycle,
    .catches = {{.defect = "per_thread_handle_leak", .verdict = Verdict::Leak, .cycles = 10}},
}};

}  // namespace threadlab
