// crowd.cpp — see crowd.h.
#include "crowd.h"

#include <algorithm>

#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>

#include <fmt/format.h>

#include "world.h"

namespace threadlab::scn {
namespace {

void spin(Member& m) {
  while (!m.crowd->stop.load(std::memory_order_relaxed)) m.progress.fetch_add(1, std::memory_order_relaxed);
}

void poll(Member& m) {
  const tl_adapter* rt = m.crowd->ctx.rt;
  while (!m.crowd->stop.load(std::memory_order_relaxed)) {
    m.progress.fetch_add(1, std::memory_order_relaxed);
    rt->safepoint();
  }
}

void blocked(Member& m) {
  const tl_adapter* rt = m.crowd->ctx.rt;
  m.progress.fetch_add(1, std::memory_order_relaxed);
  for (;;) {
    char c;
    rt->blocking_begin();
    ssize_t n;
    do n = read(m.pipe_fds[0], &c, 1);
    while (n < 0);
    rt->blocking_end();
    if (n == 0) return;
    m.progress.fetch_add(1, std::memory_order_relaxed);
  }
}

void foreign(Member& m) {
  const tl_adapter* rt = m.crowd->ctx.rt;
  while (!m.crowd->stop.load(std::memory_order_relaxed)) {
    rt->foreign_begin();
    for (int i = 0; i < 2000; ++i) __asm__ volatile("" ::: "memory");
    rt->foreign_end();
    m.progress.fetch_add(1, std::memory_order_relaxed);
  }
}

void churn(Member& m) {
  Context& ctx = m.crowd->ctx;
  while (!m.crowd->stop.load(std::memory_order_relaxed) && !has_deadlock(ctx)) {
    tl_adapter_thread_id child = 0;
    auto body = +[](void* p) { static_cast<Member*>(p)->progress.fetch_add(1, std::memory_order_relaxed); };
    if (!ctx.call.spawn("crowd-newborn", body, &m, &child)) return;
    if (!ctx.call.join(child)) return;
  }
}

void* adopt_once(void* p) {
  thread_started();
  auto& m = *static_cast<Member*>(p);
  Context& ctx = m.crowd->ctx;
  if (!ctx.call.callback_enter()) return nullptr;
  m.progress.fetch_add(1, std::memory_order_relaxed);
  if (ctx.rt->caps & TL_CAP_VALUE_STACK) {
    uintptr_t w = 0;
    ctx.rt->value_push(0x600d);
    ctx.rt->value_pop(&w);
  }
  ctx.call.callback_exit();
  return nullptr;
}

void* adopting(void* p) {
  thread_started();
  auto& m = *static_cast<Member*>(p);
  while (!m.crowd->stop.load(std::memory_order_relaxed) && !has_deadlock(m.crowd->ctx)) {
    pthread_t t;
    if (pthread_create(&t, nullptr, adopt_once, &m) != 0) return nullptr;
    pthread_join(t, nullptr);
  }
  return nullptr;
}

void alloc(Member& m) {
  const tl_adapter* rt = m.crowd->ctx.rt;
  while (!m.crowd->stop.load(std::memory_order_relaxed)) {
    auto* o = static_cast<uint64_t*>(rt->alloc(48));
    if (o) o[0] = m.progress.load(std::memory_order_relaxed);
    m.progress.fetch_add(1, std::memory_order_relaxed);
  }
}

constexpr int kMaxMallocMembers = 4;

void malloc_loop(Member& m) {
  // Sizes above glibc's per-thread cache (1 KiB): every call takes the
  // arena lock, as freeing a dead thread's record does, and the member is
  // inside malloc or free nearly all the time, so a stop usually finds it
  // holding the lock (free_record_while_suspended is caught that way; even a
  // yield every 4096 calls made the hybrid policy miss it). glibc's arena
  // lock is not fair: the number of such members is capped instead
  // (kMaxMallocMembers), so they do not starve every other malloc.
  while (!m.crowd->stop.load(std::memory_order_relaxed)) {
    size_t n = 1200 + (m.progress.load(std::memory_order_relaxed) % 8) * 512;
    void* volatile p = malloc(n);
    free(p);
    m.progress.fetch_add(1, std::memory_order_relaxed);
  }
}

void window(Member& m) {
  using Clock = std::chrono::steady_clock;
  const tl_adapter* rt = m.crowd->ctx.rt;
  while (!m.crowd->stop.load(std::memory_order_relaxed)) {
    rt->no_interrupt_begin();
    m.in_window.store(true);
    const auto until = Clock::now() + std::chrono::milliseconds(1);
    while (Clock::now() < until && !m.crowd->stop.load(std::memory_order_relaxed)) {
    }
    m.in_window.store(false);
    rt->no_interrupt_end();  // a deferred stop is taken here
    m.progress.fetch_add(1, std::memory_order_relaxed);
  }
}

void member_main(void* p) {
  auto& m = *static_cast<Member*>(p);
  switch (m.kind) {
    case Kind::Spin: spin(m); break;
    case Kind::Poll: poll(m); break;
    case Kind::Blocked: blocked(m); break;
    case Kind::Foreign: foreign(m); break;
    case Kind::Churn: churn(m); break;
    case Kind::Alloc: alloc(m); break;
    case Kind::Malloc: malloc_loop(m); break;
    case Kind::Window: window(m); break;
    case Kind::Adopting: break;
  }
}

}  // namespace

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Spin: return "spinning in managed code";
    case Kind::Poll: return "polling safepoints";
    case Kind::Blocked: return "blocked in read()";
    case Kind::Foreign: return "in and out of foreign code";
    case Kind::Churn: return "creating and exiting threads";
    case Kind::Adopting: return "adopting foreign threads";
    case Kind::Alloc: return "allocating";
    case Kind::Malloc: return "in malloc and free";
    case Kind::Window: return "holding no-interrupt windows";
  }
  return "?";
}

Crowd* Crowd::start(Context& ctx, const std::vector<Kind>& kinds, int per_kind) {
  auto* c = new Crowd(ctx);
  for (Kind k : kinds) {
    // A few malloc members keep the one arena lock busy; more only starve
    // the rest of the process (see malloc_loop).
    const int count = k == Kind::Malloc ? std::min(per_kind, kMaxMallocMembers) : per_kind;
    for (int i = 0; i < count; ++i) {
      auto m = std::make_unique<Member>();
      m->kind = k;
      m->crowd = c;
      if (k == Kind::Blocked && pipe(m->pipe_fds) != 0) {
        ctx.finding(Verdict::Fail, "pipe() failed");
        c->ok_ = false;
        continue;
      }
      if (k == Kind::Adopting) {
        m->started = pthread_create(&m->foreign, nullptr, adopting, m.get()) == 0;
        if (!m->started) ctx.finding(Verdict::Fail, "pthread_create failed");
      } else {
        m->started = ctx.call.spawn("crowd", member_main, m.get(), &m->id);
      }
      c->ok_ = c->ok_ && m->started;
      ctx.progress();
      c->members_.push_back(std::move(m));
    }
  }
  return c;
}

void Crowd::wait_running() {
  for (auto& m : members_)
    while (m->started && m->progress.load(std::memory_order_relaxed) == 0 && !ctx.has_findings()) sched_yield();
}

void Crowd::snapshot(std::vector<uint64_t>& out) const {
  if (out.size() != members_.size()) out.resize(members_.size());
  for (size_t i = 0; i < members_.size(); ++i) out[i] = members_[i]->progress.load(std::memory_order_acquire);
}

void Crowd::poke() {
  for (auto& m : members_)
    if (m->kind == Kind::Blocked && m->pipe_fds[1] >= 0) {
      ssize_t w = write(m->pipe_fds[1], "x", 1);
      (void)w;
    }
}

bool Crowd::unchanged(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b, const char* while_what) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (a[i] != b[i]) {
      const Member& m = *members_[i];
      ctx.finding(Verdict::Invariant,
                  fmt::format("a thread {} (id {}) ran managed code while {}: {} steps", kind_name(m.kind), m.id,
                              while_what, b[i] - a[i]),
                  m.id);
      return false;
    }
  return true;
}

int Crowd::first_in_window() const {
  for (size_t i = 0; i < members_.size(); ++i)
    if (members_[i]->in_window.load()) return static_cast<int>(i);
  return -1;
}

void Crowd::report_stopped_in_window(int i) {
  const Member& m = *members_[static_cast<size_t>(i)];
  ctx.finding(Verdict::Invariant,
              fmt::format("thread {} was stopped inside its no-interrupt window (the stop must wait for the "
                          "window to close)",
                          m.id),
              m.id);
}

void Crowd::wait_progress_past(const std::vector<uint64_t>& b) {
  for (size_t i = 0; i < members_.size() && i < b.size(); ++i)
    while (members_[i]->started && members_[i]->progress.load(std::memory_order_relaxed) <= b[i] &&
           !has_deadlock(ctx))
      sched_yield();
}

void Crowd::finish() {
  stop = true;
  for (auto& m : members_)
    if (m->pipe_fds[1] >= 0) {
      close(m->pipe_fds[1]);
      m->pipe_fds[1] = -1;
    }
  if (has_deadlock(ctx)) return;  // abandoned: see crowd.h
  for (auto& m : members_) {
    if (!m->started) continue;
    if (m->kind == Kind::Adopting)
      pthread_join(m->foreign, nullptr);
    else
      ctx.call.join(m->id);
  }
  for (auto& m : members_)
    if (m->pipe_fds[0] >= 0) close(m->pipe_fds[0]);
  delete this;
}

}  // namespace threadlab::scn
