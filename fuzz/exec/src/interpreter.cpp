// interpreter.cpp — what each op means, through the adapter ABI.
//
// The driver (the thread that called execute()) walks the program. For each
// op it picks the thread that runs it, decides (the model below) whether it
// can apply, and either runs it itself or delivers it to that thread's
// actor (actor.cpp), waiting for it unless `async`.
//
// Capabilities: an op whose capability the adapter lacks is skipped and
// counted (skipped, skipped_by_op), never called; ops needing the runtime
// on a foreign thread need TL_CAP_FOREIGN_CALLBACK as well. A `fail_nth`
// the adapter cannot honour (no TL_CAP_OS_FAIL) is counted as a skipped
// "fail_nth" and the op runs without it. A `without_gc` or `blocking` block
// whose capability is lacking still runs its body, without the scope.
//
// Rules for ops that cannot apply now (counted in not_applicable):
//   - An op `on:` (or aimed at) a thread not defined, whose spawn was
//     skipped or failed, or that has exited, been joined or killed.
//   - Locks are modelled as the driver issues ops: each lock's holder after
//     every issued op completes, and the threads queued for it. `lock` by a
//     thread that holds or waits for it (not recursive) does not apply; a
//     lock that another thread holds is waited for only by an `async` op on
//     a spawned or foreign thread outside a body: otherwise the waiter would
//     be the driver, or a thread the driver waits for, and the release can
//     only come from an op the driver has not issued yet (a deadlock of the
//     interpreter's making, not the runtime's). `unlock` applies only to a
//     thread that holds (or has queued for) the lock; one queued for it
//     still waits for the holder first (it stays queued in the model). A
//     sync op aimed at a thread queued for a lock, or at one not made yet
//     whose maker is, is not waited for (it runs as if async).
//   - Locks a thread holds when it ends (exit, join, the teardown) are
//     released by it first; a killed thread's are released by the runtime
//     (TL_CAP_KILL promises so); the driver's at the teardown.
//   - `receive` applies only when a word is sure to be there for it: the
//     words sent so far plus those sent before it in its own task outnumber
//     the receives issued. Failing that, the driver waits for the oldest
//     task whose send it counts on to finish, and tries again; with none
//     left it does not apply. So a receive never waits for a word nothing
//     will send (a send whose thread failed to start, was killed first, or
//     erred). A send is counted on only when its thread will get to it: not
//     when the thread is queued for a lock (the op, or the task it is in —
//     that lock may never come), nor behind a receive not known to have
//     finished. Mailboxes hold 1024 words (> kMaxOps): a send never blocks.
//   - `exit tN`/`join tN` from inside a body, joining oneself, joining a
//     thread that is queued for a lock (or was told to exit while queued),
//     killing oneself: do not apply. Nor
//     do `kill` and `join` given (as the op or in its body) to a thread
//     queued for a lock: the model would count on an end that may never
//     come.
//     `join tN` ends tN (it leaves after the ops it was given, or at once if
//     a kill issued before got it first) and then joins it on the op's
//     thread; a kill the model counted on may fail, so the teardown too
//     tells every thread not yet told to leave, killed ones included; `exit` ends the thread without a join
//     (the teardown joins it).
//   - World stops: `suspend_all`/`resume_all` run on the driver whatever
//     `on:` says (so do the ops run inside a stop), and not in bodies. While the driver holds the world
//     stopped it must not allocate (a stopped thread may hold the malloc
//     lock): only `collect`, `yield`, `safepoint`, `priority` and nested
//     `suspend_all`/`resume_all` run inside the stop; the first other op
//     (and the teardown) resumes every level the driver still holds first.
//     A `resume_all` with no stop held does not apply.
//   - Body ops run on the thread running the block; their `on:` is ignored.
//     A `fork` body runs in the child (fork_op.cpp).
//   - `alloc N` makes N 64-byte objects, fills them with a pattern and keeps
//     them reachable on the thread's value stack (TL_CAP_VALUE_STACK); when
//     the thread ends they are popped and each must still be live and
//     intact, else an "invariant" finding. Foreign threads check theirs at
//     once (their value stack goes with the callback).
//   - Foreign threads run each op that needs the runtime inside a callback
//     (callback_enter/exit around it); one that holds a lock stays inside
//     until it lets the last go. `callback fN` enters and leaves once.
//   - `priority tN p` takes effect at once (schedule.cpp); `starve tN us`
//     parks tN that long in a blocking region, never waited for.
//   - `interrupt tN` runs a counter increment on tN at its next safe point.
//   - `join`, `kill` and `interrupt` wait for their target to be made; one
//     whose maker may never get to it (queued for a lock or behind a
//     receive when the spawn was given) and that is not made yet does not
//     apply.
//   - `delay` sleeps before the op on the thread running it.
#include "exec.h"

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace threadlab::fuzz::detail {

void (*g_observe)(Actor& me, const Op& op) = nullptr;

namespace {

constexpr size_t kObjectBytes = 64;
constexpr size_t kMailboxCapacity = 1024;
std::atomic<uint64_t> g_interrupts{0};

void interrupt_fn(void* p) { static_cast<std::atomic<uint64_t>*>(p)->fetch_add(1); }


// Ops that call into the runtime on the thread running them.
bool needs_runtime(OpKind k) {
  switch (k) {
    case OpKind::Foreign: case OpKind::Callback: case OpKind::Exit: case OpKind::Yield:
    case OpKind::Priority: case OpKind::Starve: return false;
    default: return true;
  }
}

void sleep_us(uint64_t us) {
  timespec ts{static_cast<time_t>(us / 1000000), static_cast<long>((us % 1000000) * 1000)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

uintptr_t fill_word(uintptr_t p, size_t j) { return p ^ (0x9E3779B97F4A7C15ull * (j + 1)); }

void fill(void* p) {
  auto* w = static_cast<uintptr_t*>(p);
  for (size_t j = 0; j < kObjectBytes / sizeof(uintptr_t); ++j) w[j] = fill_word(reinterpret_cast<uintptr_t>(p), j);
}

// "" if p is a live, intact object.
std::string object_problem(const tl_adapter* a, uintptr_t p) {
  char text[160];
  if (!a->is_live(reinterpret_cast<void*>(p))) {
    std::snprintf(text, sizeof text, "object 0x%llx kept reachable was freed", static_cast<unsigned long long>(p));
    return text;
  }
  const auto* w = reinterpret_cast<const uintptr_t*>(p);
  for (size_t j = 0; j < kObjectBytes / sizeof(uintptr_t); ++j)
    if (w[j] != fill_word(p, j)) {
      std::snprintf(text, sizeof text, "object 0x%llx kept reachable was overwritten (word %zu)",
                    static_cast<unsigned long long>(p), j);
      return text;
    }
  return "";
}

struct Cursor {
  const uint8_t* plan;
  Actor* const* defs;
};

size_t body_plan_size(const Op& op) {
  if (op.kind == OpKind::Fork) return 0;
  size_t n = 0;
  for (const Op& b : op.body) n += 1 + body_plan_size(b);
  return n;
}
size_t body_defs(const Op& op) {
  if (op.kind == OpKind::Fork) return 0;
  size_t n = 0;
  for (const Op& b : op.body) n += (b.kind == OpKind::Spawn || b.kind == OpKind::Foreign ? 1 : 0) + body_defs(b);
  return n;
}

void run_op(Actor& me, const Op& op, size_t idx, Cursor& c);

void run_body(Actor& me, const Op& op, size_t idx, Cursor& c) {
  for (const Op& b : op.body) run_op(me, b, idx, c);
}

// A foreign thread enters the runtime for an op that needs it.
bool enter_for(Actor& me, const Op& op) {
  if (me.kind != Kind::Foreign || me.callback_depth > 0 || !needs_runtime(op.kind) || op.kind == OpKind::Callback)
    return false;
  if (me.ex->a->callback_enter() != TL_ADAPTER_OK) {
    me.ex->error(me.ex->current.load(), std::string("callback_enter on ") + me.name + ": " + me.ex->last_error());
    return false;
  }
  me.callback_depth = 1;
  me.ex->add_id(me.ex->a->self());
  return true;
}
void leave_after(Actor& me, bool entered) {
  if (!entered || !me.held.empty() || me.region_depth > 0) return;
  if (me.ex->a->callback_exit() == TL_ADAPTER_OK) me.callback_depth = 0;
}

void fail(Actor& me, size_t idx, const Op& op, const char* call) {
  me.ex->error(idx, std::string(op_info(op.kind).name) + " on " + me.name + ": " + call + ": " + me.ex->last_error());
}

void do_op(Actor& me, const Op& op, size_t idx, Cursor& c) {
  Exec& ex = *me.ex;
  const tl_adapter* a = ex.a;
  auto target = [&]() -> Actor* {
    auto it = ex.names.find({static_cast<int>(op.arg.kind), op.arg.n});
    return it == ex.names.end() ? nullptr : it->second;
  };
  switch (op.kind) {
    case OpKind::Spawn: {
      Actor& d = **c.defs++;
      tl_adapter_thread_id id = 0;
      if (a->spawn(d.name.c_str(), actor_main, &d, &id) == TL_ADAPTER_OK && id != 0) {
        d.id.store(id);
        ex.add_id(id);
        d.started.store(1);
        d.started.notify_all();
      } else {
        fail(me, idx, op, "spawn");
        mark_failed(d);
      }
      break;
    }
    case OpKind::Foreign: {
      Actor& d = **c.defs++;
      try {
        d.foreign = std::thread(foreign_main, &d);
        d.started.store(1);
        d.started.notify_all();
      } catch (const std::exception& e) {
        ex.error(idx, std::string("foreign: ") + e.what());
        mark_failed(d);
      }
      break;
    }
    case OpKind::Callback:
      if (a->callback_enter() != TL_ADAPTER_OK) {
        fail(me, idx, op, "callback_enter");
        break;
      }
      ++me.callback_depth;
      ex.add_id(a->self());
      if (a->caps & TL_CAP_REGIONS) a->safepoint();
      if (a->callback_exit() == TL_ADAPTER_OK) --me.callback_depth;
      else fail(me, idx, op, "callback_exit");
      break;
    case OpKind::Join: {
      Actor* t = target();
      if (!t || !wait_started(*t)) break;
      if (a->join(t->id.load()) == TL_ADAPTER_OK) t->joined.store(true);
      else fail(me, idx, op, "join");
      break;
    }
    case OpKind::Kill: {
      Actor* t = target();
      if (!t || !wait_started(*t)) break;
      if (kill_actor(*t) != TL_ADAPTER_OK) fail(me, idx, op, "kill");
      break;
    }
    case OpKind::Interrupt: {
      Actor* t = target();
      if (!t || !wait_started(*t)) break;
      if (a->interrupt(t->id.load(), interrupt_fn, &g_interrupts) != TL_ADAPTER_OK) fail(me, idx, op, "interrupt");
      break;
    }
    case OpKind::Collect: {
      const int rc = a->collect();
      if (rc < 0) fail(me, idx, op, "collect");
      break;
    }
    case OpKind::Alloc:
      for (uint64_t i = 0; i < op.number; ++i) {
        void* p = a->alloc(kObjectBytes);
        if (!p) {
          fail(me, idx, op, "alloc returned NULL");
          break;
        }
        fill(p);
        const auto w = reinterpret_cast<uintptr_t>(p);
        if (me.kind != Kind::Foreign && (a->caps & TL_CAP_VALUE_STACK) && me.objects.size() < kMaxObjects &&
            a->value_push(w) == TL_ADAPTER_OK) {
          me.objects.push_back(w);
        } else if (me.kind == Kind::Foreign) {
          const std::string why = object_problem(a, w);
          if (!why.empty()) ex.finding("invariant", idx, why + " (on " + me.name + ", just allocated)");
        }
      }
      break;
    case OpKind::WithoutGc: {
      const bool on = (a->caps & TL_CAP_HEAP) && c.plan[-1] == kRun;
      if (on && a->without_gc_begin() != TL_ADAPTER_OK) fail(me, idx, op, "without_gc_begin");
      ++me.region_depth;
      run_body(me, op, idx, c);
      --me.region_depth;
      if (on && a->without_gc_end() != TL_ADAPTER_OK) fail(me, idx, op, "without_gc_end");
      break;
    }
    case OpKind::Blocking: {
      const bool on = (a->caps & TL_CAP_REGIONS) && c.plan[-1] == kRun;
      bool in = on && a->blocking_begin() == TL_ADAPTER_OK;
      if (on && !in) fail(me, idx, op, "blocking_begin");
      ++me.region_depth;
      run_body(me, op, idx, c);
      --me.region_depth;
      if (in && a->blocking_end() != TL_ADAPTER_OK) fail(me, idx, op, "blocking_end");
      break;
    }
    case OpKind::Fork:
      run_fork(me, op, idx);
      break;
    case OpKind::Overflow:
      if (a->provoke_fault(TL_FAULT_STACK_OVERFLOW) != TL_ADAPTER_OK) fail(me, idx, op, "provoke_fault(stack overflow)");
      break;
    case OpKind::BarrierFault:
      if (a->provoke_fault(TL_FAULT_WRITE_BARRIER) != TL_ADAPTER_OK) fail(me, idx, op, "provoke_fault(write barrier)");
      break;
    case OpKind::Lock: {
      const tl_adapter_handle h = ex.locks[op.arg.n].h;
      const int rc = a->lock(h);
      if (rc == TL_ADAPTER_OK || rc == TL_ADAPTER_OWNER_DIED) {
        me.held.push_back(h);
        ex.locks[op.arg.n].actual.store(&me, std::memory_order_release);
      } else {
        fail(me, idx, op, "lock");
      }
      break;
    }
    case OpKind::Unlock: {
      const tl_adapter_handle h = ex.locks[op.arg.n].h;
      auto it = std::find(me.held.begin(), me.held.end(), h);
      if (it == me.held.end()) break;  // its lock failed: nothing to release
      me.held.erase(it);
      Actor* self = &me;
      ex.locks[op.arg.n].actual.compare_exchange_strong(self, nullptr, std::memory_order_acq_rel);
      if (a->unlock(h) != TL_ADAPTER_OK) fail(me, idx, op, "unlock");
      break;
    }
    case OpKind::Send: {
      BoxModel& b = ex.boxes[op.arg.n];
      if (a->mailbox_send(b.h, op.number) == TL_ADAPTER_OK) {
        b.sent.fetch_add(1);
        b.sent_sum.fetch_add(op.number);
      } else {
        fail(me, idx, op, "mailbox_send");
      }
      break;
    }
    case OpKind::Receive: {
      BoxModel& b = ex.boxes[op.arg.n];
      uint64_t w = 0;
      if (a->mailbox_receive(b.h, &w) == TL_ADAPTER_OK) {
        b.received.fetch_add(1);
        b.received_sum.fetch_add(w);
      } else if (!ex.stopping.load()) {
        fail(me, idx, op, "mailbox_receive");
      }
      break;
    }
    case OpKind::Yield:
      sched_yield();
      break;
    case OpKind::Safepoint:
      if (a->safepoint() != TL_ADAPTER_OK) fail(me, idx, op, "safepoint");
      break;
    case OpKind::Starve: {
      ex.sched.idle(me.slot);
      const bool region = (a->caps & TL_CAP_REGIONS) && in_runtime(me) && me.region_depth == 0 &&
                          a->blocking_begin() == TL_ADAPTER_OK;
      sleep_us(op.number);
      if (region) a->blocking_end();
      break;
    }
    case OpKind::Exit: case OpKind::SuspendAll: case OpKind::ResumeAll: case OpKind::Priority:
      break;  // the driver's (run_driver_op)
  }
}

void run_op(Actor& me, const Op& op, size_t idx, Cursor& c) {
  Exec& ex = *me.ex;
  const uint8_t d = *c.plan++;
  const bool block = op.kind == OpKind::WithoutGc || op.kind == OpKind::Blocking;
  if (d != kRun && !(block && d == kSkipCap)) {
    c.plan += body_plan_size(op);
    c.defs += body_defs(op) + (op.kind == OpKind::Spawn || op.kind == OpKind::Foreign ? 1 : 0);
    return;
  }
  if (d != kRun) {  // a block whose scope the adapter lacks: the body alone
    run_body(me, op, idx, c);
    return;
  }
  if (op.props.delay_us) sleep_us(op.props.delay_us);
  const bool entered = enter_for(me, op);
  if (g_observe) g_observe(me, op);
  const bool arm = op.props.fail_nth && (ex.a->caps & TL_CAP_OS_FAIL);
  if (arm) ex.a->os_fail_nth(op.props.fail_nth);
  do_op(me, op, idx, c);
  if (arm) ex.a->os_fail_nth(0);
  leave_after(me, entered);
}

}  // namespace

const char* Exec::last_error() const {
  const char* e = a->last_error ? a->last_error() : nullptr;
  return e && *e ? e : "(no message)";
}

void Exec::finding(const std::string& verdict, size_t op, const std::string& text) {
  std::lock_guard<std::mutex> g(mu);
  for (const Finding& f : res.findings)
    if (f.verdict == verdict && f.text == text) return;
  res.findings.push_back({verdict, op, text});
  if (o.abort_on_finding && !in_child) {
    std::fprintf(stderr, "threadlab fuzz: %s at op %zu: %s\n", verdict.c_str(), op, text.c_str());
    std::abort();
  }
}

void Exec::add_id(tl_adapter_thread_id id) {
  std::lock_guard<std::mutex> g(mu);
  if (id && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
}

void Exec::error(size_t op, const std::string& text) {
  std::lock_guard<std::mutex> g(mu);
  if (res.errors.size() < 64) res.errors.push_back("op " + std::to_string(op) + " " + text);
}

void Exec::skip(const char* what, bool cap, bool total) {
  std::lock_guard<std::mutex> g(mu);
  if (!cap) {
    ++res.not_applicable;
    return;
  }
  if (total) ++res.skipped;
  for (auto& [name, n] : res.skipped_by_op)
    if (name == what) {
      ++n;
      return;
    }
  res.skipped_by_op.emplace_back(what, 1u);
}

void run_task(Actor& me, Task& t) {
  if (!t.op) return;
  me.ex->sched.gate(me.slot);
  Cursor c{t.plan.data(), t.defines.data()};
  run_op(me, *t.op, t.index, c);
}

void release_all(Actor& me, size_t op) {
  Exec& ex = *me.ex;
  const tl_adapter* a = ex.a;
  if (!me.held.empty() || !me.objects.empty()) {
    const bool entered = me.kind == Kind::Foreign && me.callback_depth == 0 && a->callback_enter() == TL_ADAPTER_OK;
    if (entered) me.callback_depth = 1;
    while (!me.held.empty()) {
      const tl_adapter_handle h = me.held.back();
      me.held.pop_back();
      for (LockModel& l : ex.locks) {
        Actor* self = &me;
        if (l.h == h) l.actual.compare_exchange_strong(self, nullptr, std::memory_order_acq_rel);
      }
      if (a->unlock(h) != TL_ADAPTER_OK) ex.error(op, "unlock at the end of " + me.name + ": " + ex.last_error());
    }
    while (!me.objects.empty()) {
      const uintptr_t p = me.objects.back();
      me.objects.pop_back();
      uintptr_t w = 0;
      if (a->value_pop(&w) != TL_ADAPTER_OK || w != p) {
        char text[160];
        std::snprintf(text, sizeof text, "%s's value stack: popped 0x%llx where 0x%llx was pushed", me.name.c_str(),
                      static_cast<unsigned long long>(w), static_cast<unsigned long long>(p));
        ex.finding("invariant", op, text);
        me.objects.clear();
        break;
      }
      const std::string why = object_problem(a, p);
      if (!why.empty()) ex.finding("invariant", op, why + " (on " + me.name + "'s value stack)");
    }
  }
  while (me.kind == Kind::Foreign && me.callback_depth > 0) {
    if (a->callback_exit() != TL_ADAPTER_OK) break;
    --me.callback_depth;
  }
}

// ---- the driver ------------------------------------------------------------

namespace {

struct Driver {
  Exec& ex;
  Actor& main;
  unsigned stops = 0;  // world stops the driver holds
  bool uncertain_ = false;  // the task being planned goes to a thread queued for a lock
  std::vector<std::pair<size_t, std::string>> stop_errors;  // reserved: recorded once resumed

  Actor* lookup(Ref r) {
    auto it = ex.names.find({static_cast<int>(r.kind), r.n});
    return it == ex.names.end() ? nullptr : it->second;
  }
  static bool alive(const Actor* a) { return a && !a->model_ended_; }

  Actor* make_actor(Ref def) {
    auto act = std::make_unique<Actor>();
    act->ex = &ex;
    act->kind = def.kind == Res::Thread ? Kind::Spawned : Kind::Foreign;
    act->n = def.n;
    act->name = (def.kind == Res::Thread ? "t" : "f") + std::to_string(def.n);
    act->slot = def.kind == Res::Thread ? std::min<unsigned>(def.n, 2 * kMaxThreads)
                                        : std::min<unsigned>(2 * kMaxThreads + def.n, kSlots - 1);
    Actor* p = act.get();
    ex.actors.push_back(std::move(act));
    ex.names[{static_cast<int>(def.kind), def.n}] = p;
    return p;
  }

  bool waiting(const Actor* a) const {
    for (const LockModel& l : ex.locks)
      if (std::find(l.waiters.begin(), l.waiters.end(), a) != l.waiters.end()) return true;
    return false;
  }

  // The model: a thread that ends lets its locks go (to the next in line).
  void model_release(Actor* a) {
    for (LockModel& l : ex.locks) {
      l.waiters.erase(std::remove(l.waiters.begin(), l.waiters.end(), a), l.waiters.end());
      l.will_release.erase(std::remove(l.will_release.begin(), l.will_release.end(), a), l.will_release.end());
      if (l.holder == a) l.pass_on();
    }
  }

  void end_model(Actor* a) {
    a->model_ended_ = true;
    model_release(a);
  }

  tl_adapter_handle lock_handle(unsigned n) {
    LockModel& l = ex.locks[n];
    if (!l.h) {
      const std::string name = "l" + std::to_string(n);
      if (ex.a->lock_new(name.c_str(), &l.h) != TL_ADAPTER_OK) {
        ex.error(ex.current.load(), "lock_new " + name + ": " + ex.last_error());
        l.h = 0;
      }
    }
    return l.h;
  }
  tl_adapter_handle box_handle(unsigned n) {
    BoxModel& b = ex.boxes[n];
    if (!b.h && ex.a->mailbox_new(kMailboxCapacity, &b.h) != TL_ADAPTER_OK) {
      ex.error(ex.current.load(), "mailbox_new m" + std::to_string(n) + ": " + ex.last_error());
      b.h = 0;
    }
    return b.h;
  }

  // Decide op (and its body) on runner r; appends to t.plan / t.defines.
  uint8_t plan(const Op& op, Actor* r, bool in_body, bool async, Task& t) {
    const size_t at = t.plan.size();
    t.plan.push_back(kRun);
    uint8_t d = decide(op, r, in_body, async, t);
    t.plan[at] = d;
    if (d == kRun) ++ex.res.executed;
    if (op.props.fail_nth && !(ex.a->caps & TL_CAP_OS_FAIL) && d == kRun) ex.skip("fail_nth", true, false);
    return d;
  }

  uint8_t skip_cap(const Op& op) {
    ex.skip(op_info(op.kind).name, true);
    return kSkipCap;
  }
  uint8_t skip_na() {
    ex.skip("", false);
    return kSkipNa;
  }

  uint8_t decide(const Op& op, Actor* r, bool in_body, bool async, Task& t) {
    const tl_adapter* a = ex.a;
    const uint64_t cap = op_capability(op.kind);
    const bool lacks = (cap && !(a->caps & cap)) ||
                       (r->kind == Kind::Foreign && needs_runtime(op.kind) && !(a->caps & TL_CAP_FOREIGN_CALLBACK));
    Actor* tgt = (op.arg.kind == Res::Thread || op.arg.kind == Res::Foreign) ? lookup(op.arg) : nullptr;
    switch (op.kind) {
      case OpKind::Spawn: case OpKind::Foreign: {
        Actor* d = make_actor(op.def);
        t.defines.push_back(d);
        d->spawn_certain_ = r == &main || (!uncertain_ && !waiting(r) && !r->model_receiving_);
        if (lacks) {
          mark_failed(*d);
          d->model_ended_ = true;
          return skip_cap(op);
        }
        return kRun;
      }
      case OpKind::WithoutGc: case OpKind::Blocking: {
        for (const Op& b : op.body) plan(b, r, true, async, t);
        return lacks ? skip_cap(op) : uint8_t{kRun};
      }
      default:
        break;
    }
    if (lacks) return skip_cap(op);
    switch (op.kind) {
      case OpKind::Callback:
        return r->kind == Kind::Foreign ? uint8_t{kRun} : skip_na();
      case OpKind::Join:
        if (uncertain_) return skip_na();  // a thread queued for a lock may never get to it
        if (tgt && !tgt->spawn_certain_ && tgt->started.load() == 0) return skip_na();
        if (!tgt || tgt->kind != Kind::Spawned || tgt->model_joined_ || tgt == r || in_body || waiting(tgt) ||
            tgt->model_stuck_ ||
            tgt->started.load() < 0)
          return skip_na();
        // Told to leave even when a kill was issued: that kill may fail
        // (the quit of a killed thread is abandoned).
        if (!tgt->quit_sent_) quit(tgt);
        end_model(tgt);
        tgt->model_joined_ = true;
        return kRun;
      case OpKind::Kill:
        if (tgt && !tgt->spawn_certain_ && tgt->started.load() == 0) return skip_na();
        if (uncertain_ || !alive(tgt) || tgt->kind != Kind::Spawned || tgt == r) return skip_na();
        end_model(tgt);
        tgt->model_joined_ = false;
        return kRun;
      case OpKind::Interrupt:
        if (tgt && !tgt->spawn_certain_ && tgt->started.load() == 0) return skip_na();
        return alive(tgt) && tgt->kind == Kind::Spawned ? uint8_t{kRun} : skip_na();
      case OpKind::Exit: case OpKind::SuspendAll: case OpKind::ResumeAll:
        return skip_na();  // in bodies (the driver runs them at the top level)
      case OpKind::Lock: {
        if (op.arg.n == 0 || op.arg.n > kMaxLocks || !lock_handle(op.arg.n)) return skip_na();
        LockModel& l = ex.locks[op.arg.n];
        if (l.holder == r || std::find(l.waiters.begin(), l.waiters.end(), r) != l.waiters.end()) return skip_na();
        if (!l.holder) {
          l.holder = r;
          return kRun;
        }
        if (in_body || r == &main || !async) return skip_na();
        // The holder's own take may still be pending (async, delayed,
        // starved): this take could then win, and the holder wait for a
        // release the model never issues. Only queue behind a holder that
        // really holds it (exec.h, LockModel::actual).
        if (l.actual.load(std::memory_order_acquire) != l.holder) return skip_na();
        l.waiters.push_back(r);
        return kRun;
      }
      case OpKind::Unlock: {
        if (op.arg.n == 0 || op.arg.n > kMaxLocks || !ex.locks[op.arg.n].h) return skip_na();
        LockModel& l = ex.locks[op.arg.n];
        auto w = std::find(l.waiters.begin(), l.waiters.end(), r);
        if (l.holder == r) {
          l.pass_on();
          return kRun;
        }
        // Queued for it: it still waits (for the holder) before it lets go.
        if (w != l.waiters.end() &&
            std::find(l.will_release.begin(), l.will_release.end(), r) == l.will_release.end()) {
          l.will_release.push_back(r);
          return kRun;
        }
        return skip_na();
      }
      case OpKind::Send: {
        if (op.arg.n == 0 || op.arg.n > kMaxMailboxes || !box_handle(op.arg.n)) return skip_na();
        BoxModel& b = ex.boxes[op.arg.n];
        ++b.sends_in_task;  // a later receive in this task runs after it, on the same thread
        // Counted on by later tasks' receives only when its thread will get to it.
        if (!uncertain_ && !waiting(r) && !r->model_receiving_ &&
            (b.outstanding.empty() || b.outstanding.back() != &t))
          b.outstanding.push_back(&t);
        return kRun;
      }
      case OpKind::Receive: {
        if (op.arg.n == 0 || op.arg.n > kMaxMailboxes || !box_handle(op.arg.n)) return skip_na();
        BoxModel& b = ex.boxes[op.arg.n];
        // Words surely there when it runs: sent already, or sent before it
        // in this task. Else wait for the oldest send counted on to finish
        // (or be abandoned); if none is left, the receive would wait for a
        // word nothing sends: not applicable.
        auto avail = [&] { return static_cast<int64_t>(b.sent.load()) + b.sends_in_task - b.receives_issued; };
        while (avail() <= 0 && !b.outstanding.empty() && b.outstanding.front() != &t) {
          wait_done(main, *b.outstanding.front());
          b.outstanding.erase(b.outstanding.begin());
        }
        if (avail() <= 0) return skip_na();
        ++b.receives_issued;
        r->model_receiving_ = true;
        return kRun;
      }
      case OpKind::Overflow:
        return kRun;
      default:
        return kRun;
    }
  }

  Task& new_task(const Op* op, size_t index) {
    Task& t = ex.tasks.emplace_back();
    t.op = op;
    t.index = index;
    return t;
  }

  // Tell a thread to leave after what it was given.
  Task* quit(Actor* a) {
    a->quit_sent_ = true;
    Task& t = new_task(nullptr, ex.current.load());
    push(*a, &t);
    return &t;
  }

  void resume_stops() {
    while (stops > 0) {
      --stops;
      if (ex.a->resume_all() != TL_ADAPTER_OK) stop_errors.emplace_back(ex.current.load(), "resume_all");
    }
    for (auto& [i, call] : stop_errors) ex.error(i, call + ": " + ex.last_error());
    stop_errors.clear();
  }

  // Ops that may run while the driver holds the world stopped: no allocation.
  static bool stop_safe(OpKind k) {
    return k == OpKind::Collect || k == OpKind::Yield || k == OpKind::Safepoint || k == OpKind::SuspendAll ||
           k == OpKind::ResumeAll || k == OpKind::Priority;
  }

  // Top-level ops the driver handles itself. True when handled.
  bool driver_op(const Op& op, size_t i) {
    const tl_adapter* a = ex.a;
    switch (op.kind) {
      case OpKind::SuspendAll:
      case OpKind::ResumeAll: {
        if (!(a->caps & TL_CAP_SUSPEND)) {
          ex.skip(op_info(op.kind).name, true);  // allocates: never inside a stop (stops need SUSPEND)
          return true;
        }
        if (op.kind == OpKind::ResumeAll && stops == 0) {
          ex.skip("", false);
          return true;
        }
        if (op.props.delay_us) sleep_us(op.props.delay_us);
        if (op.kind == OpKind::SuspendAll) {
          if (a->suspend_all() == TL_ADAPTER_OK) ++stops;
          else if (stop_errors.size() < stop_errors.capacity()) stop_errors.emplace_back(i, "suspend_all");
        } else {
          --stops;
          if (a->resume_all() != TL_ADAPTER_OK && stop_errors.size() < stop_errors.capacity())
            stop_errors.emplace_back(i, "resume_all");
        }
        ++ex.res.executed;
        return true;
      }
      case OpKind::Priority: {
        Actor* t = lookup(op.arg);
        if (t) ex.sched.set_priority(t->slot, static_cast<int>(static_cast<int64_t>(op.number)));
        ++ex.res.executed;
        return true;
      }
      default:
        break;
    }
    if (stops == 0) return false;
    // Inside a stop: collect, yield, safepoint with no allocation.
    if (op.props.delay_us) sleep_us(op.props.delay_us);
    if (op.kind == OpKind::Collect && (a->caps & TL_CAP_COLLECT)) {
      if (a->collect() < 0 && stop_errors.size() < stop_errors.capacity()) stop_errors.emplace_back(i, "collect");
      ++ex.res.executed;
    } else if (op.kind == OpKind::Safepoint && (a->caps & TL_CAP_REGIONS)) {
      if (a->safepoint() != TL_ADAPTER_OK && stop_errors.size() < stop_errors.capacity())
        stop_errors.emplace_back(i, "safepoint");
      ++ex.res.executed;
    } else if (op.kind == OpKind::Yield) {
      sched_yield();
      ++ex.res.executed;
    } else {
      return false;  // lacking capability: counted once the world runs again
    }
    return true;
  }

  void top(const Op& op, size_t i) {
    ex.current.store(i);
    if (stops > 0 && !stop_safe(op.kind)) resume_stops();
    if (driver_op(op, i)) {
      ex.progress.fetch_add(1);
      if (stops == 0) resume_stops();  // records what failed inside the stop
      return;
    }
    if (stops > 0) resume_stops();
    // The thread that runs it.
    Actor* r = &main;
    bool async = op.props.async;
    if (op.props.on.kind != Res::None) {
      r = lookup(op.props.on);
      if (!alive(r)) {
        ex.skip("", false);
        return;
      }
    }
    if (op.kind == OpKind::Callback || op.kind == OpKind::Starve ||
        (op.kind == OpKind::Overflow && op.arg.kind != Res::None)) {
      r = lookup(op.arg);
      if (!alive(r)) {
        ex.skip("", false);
        return;
      }
      if (op.kind == OpKind::Starve) async = true;
    }
    if (op.kind == OpKind::Exit) {
      Actor* t = lookup(op.arg);
      if (!alive(t) || t->quit_sent_) {
        ex.skip("", false);
        return;
      }
      const bool wait = !async && !waiting(t);  // queued for a lock: its quit may wait for the driver
      t->model_stuck_ = waiting(t);
      Task* q = quit(t);
      end_model(t);
      ++ex.res.executed;
      if (wait) wait_done(main, *q);
      return;
    }
    // It may wait for a release not issued yet, or not be made until then.
    uncertain_ = r != &main && (waiting(r) || (!r->spawn_certain_ && r->started.load() == 0));
    if (uncertain_) async = true;
    for (BoxModel& b : ex.boxes) b.sends_in_task = 0;
    Task& t = new_task(&op, i);
    if (plan(op, r, false, async, t) == kSkipNa && t.defines.empty()) {
      t.done.store(kAbandoned);
      return;
    }
    if (r == &main) {
      main.ex->sched.busy(main.slot);
      run_task(main, t);
      t.done.store(kDone);
      main.model_receiving_ = false;
    } else {
      push(*r, &t);
      if (!async) {
        wait_done(main, t);
        r->model_receiving_ = false;  // everything it was given has finished
      }
    }
    ex.progress.fetch_add(1);
    if (ex.o.check_each_op) check_integrity(ex, i);
  }

  void teardown(size_t end) {
    ex.current.store(end);
    resume_stops();
    release_all(main, end);
    std::vector<Task*> quits;
    for (auto& act : ex.actors) {
      if (act.get() == &main || act->quit_sent_) continue;  // killed ones too: their kill may have failed
      quits.push_back(quit(act.get()));
      end_model(act.get());
    }
    for (Task& t : ex.tasks) wait_done(main, t);
    while (ex.recovering.load()) ex.recovering.wait(true);  // its kills first, then the joins
    for (auto& act : ex.actors) {
      if (act->kind == Kind::Spawned && act->started.load() > 0 && !act->joined.load()) {
        if (ex.a->join(act->id.load()) == TL_ADAPTER_OK) act->joined.store(true);
        else ex.error(end, "join " + act->name + " at the teardown: " + ex.last_error());
      }
      if (act->kind == Kind::Foreign && act->foreign.joinable()) act->foreign.join();
      ex.progress.fetch_add(1);
    }
    drain_mailboxes(ex, end);
    for (unsigned n = 1; n < ex.locks.size(); ++n)
      if (ex.locks[n].h) {
        if (ex.a->lock_free(ex.locks[n].h) != TL_ADAPTER_OK)
          ex.error(end, "lock_free l" + std::to_string(n) + ": " + ex.last_error());
        ex.locks[n].h = 0;
      }
    check_integrity(ex, end);
    check_lock_order(ex, end);
  }
};

}  // namespace

ExecResult execute_in(const tl_adapter* a, const Program& p, const ExecOptions& o, bool in_child) {
  auto ex = std::make_unique<Exec>();
  ex->a = a;
  ex->o = o;
  ex->in_child = in_child;
  ex->sched.init(o.seed);
  ex->actors.reserve(kSlots + 1);
  auto main = std::make_unique<Actor>();
  main->ex = ex.get();
  main->name = "main";
  main->objects.reserve(kMaxObjects);
  main->held.reserve(kMaxLocks);
  main->state.store(kRunning);
  main->started.store(1);
  main->id.store(a->self ? a->self() : 0);
  main->seen_self.store(main->id.load());
  ex->ids.reserve(4 * kMaxThreads + 8);
  ex->add_id(main->id.load());
  Actor& m = *main;
  ex->actors.push_back(std::move(main));
  try {
    Watchdog dog(*ex);
    Driver d{*ex, m, 0, false, {}};
    d.stop_errors.reserve(kMaxOps);
    for (size_t i = 0; i < p.ops.size() && !ex->stopping.load(); ++i) d.top(p.ops[i], i);
    d.teardown(p.ops.size());
  } catch (const std::exception& e) {
    ex->finding("error", ex->current.load(), std::string("interpreter: ") + e.what());
  }
  return std::move(ex->res);
}

}  // namespace threadlab::fuzz::detail

namespace threadlab::fuzz {

uint64_t op_capability(OpKind k) {
  switch (k) {
    case OpKind::Spawn: case OpKind::Join: return TL_CAP_SPAWN;
    case OpKind::Callback: return TL_CAP_FOREIGN_CALLBACK;
    case OpKind::Kill: return TL_CAP_KILL;
    case OpKind::Interrupt: return TL_CAP_INTERRUPT;
    case OpKind::SuspendAll: case OpKind::ResumeAll: return TL_CAP_SUSPEND;
    case OpKind::Collect: return TL_CAP_COLLECT;
    case OpKind::Alloc: case OpKind::WithoutGc: return TL_CAP_HEAP;
    case OpKind::Blocking: case OpKind::Safepoint: return TL_CAP_REGIONS;
    case OpKind::Fork: return TL_CAP_FORK;
    case OpKind::Overflow: case OpKind::BarrierFault: return TL_CAP_FAULTS;
    case OpKind::Lock: case OpKind::Unlock: return TL_CAP_LOCKS;
    case OpKind::Send: case OpKind::Receive: return TL_CAP_MAILBOXES;
    default: return 0;
  }
}

std::string describe(const ExecResult& r) {
  std::string out;
  for (const Finding& f : r.findings) out += f.verdict + " at op " + std::to_string(f.op_index) + ": " + f.text + "\n";
  out += "executed " + std::to_string(r.executed) + ", skipped " + std::to_string(r.skipped);
  if (!r.skipped_by_op.empty()) {
    out += " (";
    for (size_t i = 0; i < r.skipped_by_op.size(); ++i)
      out += (i ? ", " : "") + r.skipped_by_op[i].first + " " + std::to_string(r.skipped_by_op[i].second);
    out += ")";
  }
  out += ", not applicable " + std::to_string(r.not_applicable) + "\n";
  for (const std::string& e : r.errors) out += "error: " + e + "\n";
  return out;
}

}  // namespace threadlab::fuzz
