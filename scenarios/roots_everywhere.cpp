// roots_everywhere.cpp — managed objects whose only reference sits in one
// place of one thread, for every place a conservative collector must look:
// each callee-saved register in turn, in each thread state (running managed
// code, stopped at a safepoint, in foreign code, in a blocking region,
// waiting on a contended runtime lock, waiting in join), the outermost
// frame of a foreign thread's stack, a foreign thread's start argument
// (which the C library keeps at the very top of the thread's stack
// mapping), and the value stack. The driver
// collects several times while they hold, then checks every object.
//
// Guards against: roots missed by the collector — one register left out of
// the saved context (the gc_skips_saved_registers class), a thread that
// moved to a waiting state without saving its context first (a stale sp or
// stale registers), a stack scanned short of its outermost page (bounds off
// by a page), a value stack not scanned. Also against registers changed by
// a stop and resume: each holder gets its register's value back at the end.
// Checks: an object freed or reused although still referenced is
// `invariant`; a register that came back changed is `scribble`.
//
// Invariants:
//   - The plain pointer exists in exactly one place of the holder; the
//     driver and the holders' own records carry it encoded (register_hold.h),
//     in memory the collector does not scan (the C heap).
//   - Objects are allocated inside a without-GC scope that ends only once
//     every holder holds its object, so no collection runs while a pointer
//     exists only encoded.
//   - Dead copies of plain pointers below a stack pointer are scrubbed
//     before anything holds (a stale copy above the scanned sp would hide a
//     missed root; one below it is never scanned).
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "common.h"
#include "register_hold.h"
#include "scenario_os.h"

namespace threadlab {
namespace {

enum class Place {
  ManagedSpin, Safepoint, Foreign, Blocking, LockWait, JoinWait, ForeignOuterFrame, ForeignThreadArg, ValueStack
};
constexpr int kPlaces = 9;
const char* place_name(Place p) {
  switch (p) {
    case Place::ManagedSpin: return "a thread running managed code";
    case Place::Safepoint: return "a thread stopped at a safepoint";
    case Place::Foreign: return "a thread in a foreign region";
    case Place::Blocking: return "a thread in a blocking region";
    case Place::LockWait: return "a thread waiting on a contended runtime lock";
    case Place::JoinWait: return "a thread waiting in join";
    case Place::ForeignOuterFrame: return "the outermost frame of a foreign thread's stack";
    case Place::ForeignThreadArg: return "a foreign thread's start argument (kept by the C library at the top of its stack)";
    case Place::ValueStack: return "a thread's value stack";
  }
  return "?";
}
bool is_foreign(Place p) { return p == Place::ForeignOuterFrame || p == Place::ForeignThreadArg; }
bool uses_register(Place p) { return !is_foreign(p) && p != Place::ValueStack; }

struct Holder {
  Context* ctx;
  Place place;
  int reg;
  uint64_t tag;
  uintptr_t encoded = 0;   // the object, encoded (kRegisterKey)
  uintptr_t returned = 0;  // what came back, encoded
  std::atomic<int> phase{0};  // 1: holding; 2: told to let go
  std::atomic<int>* release = nullptr;  // the driver's "let go" (JoinWait's child waits on it)
  tl_adapter_handle lock = 0;
  tl_adapter_thread_id id = 0;
  pthread_t foreign{};
  bool started = false;
  std::string where() const {
    return uses_register(place) ? fmt::format("held only in {} of {}", scn::register_name(reg), place_name(place))
                                : fmt::format("held only in {}", place_name(place));
  }
};

// Overwrite the dead stack below the caller, where earlier calls may have
// left plain copies of a pointer.
__attribute__((noinline)) void scrub_stack() {
  volatile unsigned char area[16384];
  for (size_t i = 0; i < sizeof area; i += 8) area[i] = 0;
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) uintptr_t new_encoded(Context& ctx, uint64_t tag) {
  auto* o = static_cast<uint64_t*>(ctx.rt->alloc(scn::kObjectWords * 8));
  if (!o) return 0;
  scn::fill_object(o, tag);
  return reinterpret_cast<uintptr_t>(o) ^ scn::kRegisterKey;
}

void wait_release(Holder* h) {
  while (h->release->load(std::memory_order_acquire) == 0) sched_yield();
}
// Managed and holding: poll safepoints until the driver lets go.
void poll_until_release(Holder* h) {
  while (h->release->load(std::memory_order_acquire) == 0) h->ctx->rt->safepoint();
}

// Runs with the pointer in the holder's register.
void in_state(void* p) {
  auto* h = static_cast<Holder*>(p);
  Context& ctx = *h->ctx;
  switch (h->place) {
    case Place::Safepoint:
      h->phase.store(1);
      poll_until_release(h);
      break;
    case Place::Foreign:
      if (!ctx.call.foreign_begin()) break;
      h->phase.store(1);
      wait_release(h);
      ctx.call.foreign_end();
      break;
    case Place::Blocking:
      if (!ctx.call.blocking_begin()) break;
      h->phase.store(1);
      wait_release(h);
      ctx.call.blocking_end();
      break;
    case Place::LockWait:  // the driver holds the lock until it lets go
      h->phase.store(1);
      if (ctx.call.lock(h->lock)) ctx.call.unlock(h->lock);
      break;
    case Place::JoinWait: {
      tl_adapter_thread_id child = 0;
      auto body = +[](void* q) { wait_release(static_cast<Holder*>(q)); };
      if (!ctx.call.spawn("roots-join-target", body, h, &child)) break;
      h->phase.store(1);
      ctx.call.join(child);
      break;
    }
    default:
      break;
  }
  h->phase.store(1);  // also after a failed call: the driver must not wait forever
}

__attribute__((noinline)) void push_decoded(Context& ctx, uintptr_t encoded) {
  ctx.call.value_push(encoded ^ scn::kRegisterKey);
}

void managed_holder(void* p) {
  auto* h = static_cast<Holder*>(p);
  Context& ctx = *h->ctx;
  switch (h->place) {
    case Place::ManagedSpin:
      h->returned = scn::spin_holding(h->reg, h->encoded, &h->phase);
      return;
    case Place::ValueStack: {
      push_decoded(ctx, h->encoded);
      scrub_stack();
      h->phase.store(1);
      poll_until_release(h);
      auto popped = std::make_unique<uintptr_t>(0);  // off the scanned stacks
      if (ctx.call.value_pop(popped.get())) h->returned = *popped ^ scn::kRegisterKey;
      return;
    }
    default:
      h->returned = scn::call_holding(h->reg, h->encoded, in_state, h);
  }
}

// The outermost frame of a foreign thread: the plain pointer lives in a
// local here, and the callback happens 64 frames further down, so the
// collector must scan the thread's stack up to its very top.
__attribute__((noinline)) void deep_callback(Holder* h, int depth) {
  volatile char pad[256];
  pad[0] = static_cast<char>(depth);
  if (depth > 0) {
    deep_callback(h, depth - 1);
    __asm__ volatile("" ::"r"(pad) : "memory");
    return;
  }
  Context& ctx = *h->ctx;
  scrub_stack();
  if (!ctx.call.callback_enter()) {
    h->phase.store(1);
    return;
  }
  h->phase.store(1);
  poll_until_release(h);
  ctx.call.callback_exit();
}

void* foreign_holder(void* p) {
  thread_started();
  auto* h = static_cast<Holder*>(p);
  volatile uintptr_t plain = h->encoded ^ scn::kRegisterKey;
  deep_callback(h, 64);
  h->returned = plain ^ scn::kRegisterKey;
  return nullptr;
}

// The start argument is the plain pointer itself: the C library keeps it in
// the thread's descriptor, at the top of the thread's stack mapping, for the
// thread's whole life. The thread finds its holder through the encoded
// value and lets the plain one go at once.
std::vector<std::unique_ptr<Holder>>* g_arg_holders;  // set while a cycle's holders start
__attribute__((noinline)) void foreign_arg_main(uintptr_t encoded) {
  thread_started();
  Holder* h = nullptr;
  for (auto& c : *g_arg_holders)
    if (c->place == Place::ForeignThreadArg && c->encoded == encoded) h = c.get();
  if (!h) return;  // cannot happen: the driver started us with one of its own
  deep_callback(h, 64);
  h->returned = h->encoded;  // nothing of ours held it; the check is the object's
}
void* foreign_arg_entry(void* plain) {
  foreign_arg_main(reinterpret_cast<uintptr_t>(plain) ^ scn::kRegisterKey);
  return nullptr;
}

__attribute__((noinline)) void check_all(Context& ctx, const std::vector<std::unique_ptr<Holder>>& hs, int k) {
  for (auto& h : hs) {
    if (!h->started || h->encoded == 0) continue;
    scn::check_object(ctx, reinterpret_cast<const uint64_t*>(h->encoded ^ scn::kRegisterKey), h->tag,
                      fmt::format("{}, collection {}", h->where(), k + 1), true);
  }
}

void cycle(Context& ctx) {
  const int n = std::max(ctx.params.threads, kPlaces);
  const int nregs = std::max(1, scn::register_count());
  std::atomic<int> release{0};
  tl_adapter_handle lock = 0;
  if (!ctx.call.as("the lock LockWait holders wait on").lock_new("roots-lock", &lock)) return;
  if (!ctx.call.lock(lock)) return;
  std::vector<std::unique_ptr<Holder>> hs;
  if (!ctx.call.without_gc_begin()) return;
  for (int k = 0; k < n; ++k) {
    auto h = std::make_unique<Holder>();
    h->ctx = &ctx;
    h->place = static_cast<Place>(k % kPlaces);
    if (h->place == Place::ManagedSpin && !scn::register_spin_supported()) h->place = Place::Safepoint;
    if (h->place == Place::ForeignThreadArg && !scn::start_argument_on_stack()) h->place = Place::ForeignOuterFrame;
    h->reg = (ctx.cycle_index + k / kPlaces + k) % nregs;
    h->tag = (static_cast<uint64_t>(ctx.cycle_index + 1) << 32) | static_cast<uint64_t>(k + 1);
    h->release = &release;
    h->lock = lock;
    h->encoded = new_encoded(ctx, h->tag);
    if (!h->encoded) {
      ctx.finding(Verdict::Fail, "alloc returned NULL for a 64-byte object");
      break;
    }
    hs.push_back(std::move(h));
  }
  g_arg_holders = &hs;  // read only by this cycle's ForeignThreadArg holders, all joined below
  scrub_stack();
  for (auto& h : hs) {
    if (is_foreign(h->place)) {
      const int e = h->place == Place::ForeignOuterFrame
                        ? pthread_create(&h->foreign, nullptr, foreign_holder, h.get())
                        : pthread_create(&h->foreign, nullptr, foreign_arg_entry,
                                         reinterpret_cast<void*>(h->encoded ^ scn::kRegisterKey));
      if (e != 0) ctx.finding(Verdict::Fail, fmt::format("pthread_create (a foreign holder): {}", std::strerror(e)));
      h->started = e == 0;
    } else {
      h->started = ctx.call.spawn("roots-holder", managed_holder, h.get(), &h->id);
    }
  }
  for (auto& h : hs)
    while (h->started && h->phase.load() < 1) sched_yield();
  ctx.call.without_gc_end();  // a deferred collection may run here: the first check
  for (int k = 0; k < ctx.params.iterations && !ctx.has_findings(); ++k) {
    if (!ctx.call.collect()) break;
    check_all(ctx, hs, k);
    scrub_stack();
    ctx.progress();
  }
  ctx.call.unlock(lock);
  release.store(1, std::memory_order_release);
  for (auto& h : hs) {
    h->phase.store(2);  // ManagedSpin holders spin on their phase
    if (!h->started) continue;
    if (is_foreign(h->place))
      pthread_join(h->foreign, nullptr);
    else
      ctx.call.join(h->id);
  }
  ctx.call.lock_free(lock);
  for (auto& h : hs) {
    if (!h->started || h->returned == h->encoded || ctx.has_findings()) continue;
    ctx.finding(Verdict::Scribble,
                fmt::format("{}: the holder got {:#x} back instead of {:#x} — changed while the thread was stopped",
                            h->where(), h->returned ^ scn::kRegisterKey, h->encoded ^ scn::kRegisterKey),
                h->id, h->encoded ^ scn::kRegisterKey);
  }
}

}  // namespace

const RegisterScenario registered{{
    .name = "roots-everywhere",
    .tags = {"gc", "suspend", "roots"},
    .caps = TL_CAP_SPAWN | TL_CAP_FOREIGN_CALLBACK | TL_CAP_COLLECT | TL_CAP_HEAP | TL_CAP_VALUE_STACK |
            TL_CAP_REGIONS | TL_CAP_LOCKS,
    .description = "Managed objects whose only reference is in one place of one thread — each callee-saved register "
        "in turn, in every thread state (running managed code, at a safepoint, foreign, blocking, waiting on a "
        "contended runtime lock, waiting in join), the outermost frame of a foreign thread's stack, a foreign "
        "thread's start argument (kept by the C library at the top of the thread's stack), the value stack — survive repeated collections. Guards against roots the collector misses: a register left out of "
        "a stopped thread's saved context, a thread that starts waiting without saving its context, a stack "
        "scanned short of its ends (invariant), and registers changed by a stop and resume (scribble).",
    .defaults = {.threads = 8, .iterations = 4, .cycles = 12, .warmup = 2},
    .cycle = cycle,
    .catches = {{.defect = "gc_skips_saved_registers", .verdict = Verdict::Invariant}},
}};

}  // namespace threadlab
