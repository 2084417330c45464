// world.cpp — see world.h.
#include "world.h"

#include <atomic>

#include <fmt/format.h>

namespace threadlab::scn {
namespace {
// Context has no query for the worst verdict; scenarios that stop the world
// record deadlocks through stop_world, which remembers it here per process.
std::atomic<bool> g_deadlock{false};
}  // namespace

bool stop_world(Context& ctx, const char* why) {
  int rc = ctx.rt->suspend_all();
  if (rc == TL_ADAPTER_OK) return true;
  const char* err = ctx.rt->last_error ? ctx.rt->last_error() : "";
  if (rc == TL_ADAPTER_ETIMEDOUT) {
    g_deadlock = true;
    ctx.finding(Verdict::Deadlock, fmt::format("stop-the-world ({}) timed out: {}", why, err ? err : ""));
  } else {
    ctx.finding(Verdict::Fail, fmt::format("suspend_all ({}) failed with status {}: {}", why, rc, err ? err : ""));
  }
  return false;
}

bool restart_world(Context& ctx) { return ctx.call.resume_all(); }

bool has_deadlock(Context&) { return g_deadlock.load(); }

}  // namespace threadlab::scn
