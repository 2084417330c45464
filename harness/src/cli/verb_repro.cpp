// verb_repro.cpp — threadlab repro FILE [-o OUT.c] [--adapter A]: a
// standalone C11 program, against the adapter ABI only, that does what the
// op program does without threadlab's interpreter (for a bug report).
//
// Invariants:
//   - The C file includes <threadlab/adapter.h>, libc and pthread only; it
//     reaches the adapter through `extern const tl_adapter SYMBOL;`, the
//     symbol and the compile line named in its top comment with the
//     program's text.
//   - Each op is one C function (`op_N`), run by the thread the
//     interpreter would run it on: the main thread (the driver) issues the
//     top-level ops in program order, delivering those `on:` a t/f thread to
//     that thread's actor (repro_prelude.h) and waiting unless `async`;
//     bodies are nested code; a fork body is a driver of its own
//     (`child_N`) run in the child.
//   - Whether an op can apply (threads alive, lock holders and waiters,
//     words a receive may count on, world stops, threads whose maker may
//     never get to them) is decided here, by the
//     same rules as the interpreter's model (fuzz/exec/src/interpreter.cpp),
//     so the program never waits on what it has not issued; an op that does
//     not apply is a comment in the file. Capabilities are checked when the
//     program runs (an op lacking one is skipped and says so).
//   - The reproducer's own verdicts: see repro_prelude.h (errors printed,
//     fatal with REPRO_ERRORS_FATAL; violations, hangs and failed fork
//     children abort).
//   - Errors: unknown adapter, unreadable or malformed program: one line
//     on stderr, exit 2 (parse errors name FILE:LINE:COLUMN). The output is
//     written to a temporary beside it and renamed into place.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <threadlab/adapter.h>
#include <threadlab/fuzz/interpreter.h>
#include <threadlab/fuzz/program.h>

#include "cli/repro_prelude.h"
#include "cli/verbs.h"

namespace threadlab {
namespace {

using fuzz::Op;
using fuzz::OpKind;
using fuzz::Ref;
using fuzz::Res;

std::string ref_name(Ref r) {
  const char* k = r.kind == Res::Thread ? "t" : r.kind == Res::Foreign ? "f" : r.kind == Res::Lock ? "l" : "m";
  return k + std::to_string(r.n);
}
std::string actor_var(Ref r) { return "T_" + ref_name(r); }

// One line of text form, without the body.
std::string op_text(const Op& op) {
  const fuzz::OpInfo& info = fuzz::op_info(op.kind);
  std::string s;
  if (op.def.kind != Res::None) s += ref_name(op.def) + " = ";
  s += info.name;
  if (op.arg.kind != Res::None) s += " " + ref_name(op.arg);
  if (info.has_number)
    s += " " + (op.kind == OpKind::Priority ? std::to_string(static_cast<int64_t>(op.number)) : std::to_string(op.number));
  std::vector<std::string> props;
  if (op.props.on.kind != Res::None) props.push_back("on: " + ref_name(op.props.on));
  if (op.props.async) props.emplace_back("async");
  if (op.props.delay_us) props.push_back("delay: " + std::to_string(op.props.delay_us) + "us");
  if (op.props.fail_nth) props.push_back("fail_nth: " + std::to_string(op.props.fail_nth));
  if (!props.empty()) {
    s += " (";
    for (size_t i = 0; i < props.size(); ++i) s += (i ? ", " : "") + props[i];
    s += ")";
  }
  if (info.has_body) s += " { ... }";
  return s;
}

const char* cap_macro(uint64_t c) {
  switch (c) {
    case TL_CAP_SPAWN: return "TL_CAP_SPAWN";
    case TL_CAP_FOREIGN_CALLBACK: return "TL_CAP_FOREIGN_CALLBACK";
    case TL_CAP_KILL: return "TL_CAP_KILL";
    case TL_CAP_INTERRUPT: return "TL_CAP_INTERRUPT";
    case TL_CAP_SUSPEND: return "TL_CAP_SUSPEND";
    case TL_CAP_COLLECT: return "TL_CAP_COLLECT";
    case TL_CAP_HEAP: return "TL_CAP_HEAP";
    case TL_CAP_REGIONS: return "TL_CAP_REGIONS";
    case TL_CAP_FORK: return "TL_CAP_FORK";
    case TL_CAP_FAULTS: return "TL_CAP_FAULTS";
    case TL_CAP_LOCKS: return "TL_CAP_LOCKS";
    case TL_CAP_MAILBOXES: return "TL_CAP_MAILBOXES";
    default: return "0";
  }
}
bool needs_runtime(OpKind k) {
  switch (k) {
    case OpKind::Foreign: case OpKind::Callback: case OpKind::Exit: case OpKind::Yield:
    case OpKind::Priority: case OpKind::Starve: return false;
    default: return true;
  }
}
bool stop_safe(OpKind k) {
  return k == OpKind::Collect || k == OpKind::Yield || k == OpKind::Safepoint || k == OpKind::SuspendAll ||
         k == OpKind::ResumeAll || k == OpKind::Priority;
}

// What one driver (the program, or a fork body in its child) knows as it
// issues ops: the interpreter's model.
struct Model {
  struct Thread {
    bool foreign = false, ended = false, joined = false, receiving = false;
    bool certain = true;
    bool quit_sent = false;  // told to leave
    bool stuck = false;      // told to leave while queued for a lock: it may wait until the teardown  // its maker surely gets to making it (not queued for a lock, not behind a receive)
  };
  std::map<std::pair<int, unsigned>, Thread> threads;
  std::vector<Ref> order;  // definition order
  Thread main;
  struct Lock {
    bool held = false;
    Ref holder;
    std::vector<Ref> waiters;
    std::vector<Ref> will_release;  // waiters whose unlock is issued too
  };
  Lock locks[fuzz::kMaxLocks + 1];
  int pending[fuzz::kMaxMailboxes + 1] = {};
  int stops = 0;

  Thread* get(Ref r) {
    if (r.kind == Res::None) return &main;
    auto it = threads.find({static_cast<int>(r.kind), r.n});
    return it == threads.end() ? nullptr : &it->second;
  }
  bool alive(Ref r) {
    Thread* t = get(r);
    return t && !t->ended;
  }
  bool waiting(Ref r) const {
    for (const Lock& l : locks)
      if (std::find(l.waiters.begin(), l.waiters.end(), r) != l.waiters.end()) return true;
    return false;
  }
  void end(Ref r) {
    get(r)->ended = true;
    for (Lock& l : locks) {
      l.waiters.erase(std::remove(l.waiters.begin(), l.waiters.end(), r), l.waiters.end());
      l.will_release.erase(std::remove(l.will_release.begin(), l.will_release.end(), r), l.will_release.end());
      if (l.held && l.holder == r) pass(l);
    }
  }
  // The next waiter takes it; one whose unlock is issued lets it go on.
  static void pass(Lock& l) {
    l.held = false;
    l.holder = Ref{};
    while (!l.waiters.empty()) {
      const Ref w = l.waiters.front();
      l.waiters.erase(l.waiters.begin());
      auto it = std::find(l.will_release.begin(), l.will_release.end(), w);
      if (it == l.will_release.end()) {
        l.held = true;
        l.holder = w;
        return;
      }
      l.will_release.erase(it);
    }
  }
};

struct Gen {
  std::string funcs;  // op functions and child drivers, each before its first use
  std::set<unsigned> locks, boxes;
  std::vector<Ref> threads;
  std::map<std::pair<int, unsigned>, Ref> definer;  // the thread whose op makes each; None: a driver
  int next_fn = 0;
  bool join_quit = false;  // the join just decided tells its target to leave
  std::string scope = "op ";  // how the comments name an op of the driver being written

  void collect(const std::vector<Op>& ops) {
    for (const Op& op : ops) {
      if (op.def.kind != Res::None) threads.push_back(op.def);
      if (op.arg.kind == Res::Lock) locks.insert(op.arg.n);
      if (op.arg.kind == Res::Mailbox) boxes.insert(op.arg.n);
      collect(op.body);
    }
  }

  static std::string na(const Op& op, const std::string& ind) {
    return ind + "/* " + op_text(op) + ": does not apply here */\n";
  }

  // Decides op on runner r (the model) and returns its C statements (on
  // `me`), or a comment when it does not apply.
  std::string code(const Op& op, size_t idx, Model& m, Ref r, bool in_body, bool async, bool uncertain,
                   const std::string& ind) {
    const std::string I = std::to_string(idx);
    Model::Thread* rt = m.get(r);
    const std::string tgt = actor_var(op.arg);
    Model::Thread* t = (op.arg.kind == Res::Thread || op.arg.kind == Res::Foreign) ? m.get(op.arg) : nullptr;
    const bool tgt_alive = t && !t->ended;
    const std::string L = "L[" + std::to_string(op.arg.n) + "]", B = "B[" + std::to_string(op.arg.n) + "]";
    std::string s;    // the op's own work
    std::string pre;  // a check before it (a `break` out of the op)
    switch (op.kind) {
      case OpKind::Spawn: case OpKind::Foreign: {
        Model::Thread& d = m.threads[{static_cast<int>(op.def.kind), op.def.n}];
        d.foreign = op.kind == OpKind::Foreign;
        d.certain = r.kind == Res::None || (!uncertain && !m.waiting(r) && !rt->receiving);
        m.order.push_back(op.def);
        definer[{static_cast<int>(op.def.kind), op.def.n}] = r;
        s = op.kind == OpKind::Spawn ? "spawn_actor(me, &" + actor_var(op.def) + ", " + I + ");"
                                     : "start_foreign(&" + actor_var(op.def) + ", " + I + ");";
        break;
      }
      case OpKind::Callback:
        if (!rt->foreign) return na(op, ind);
        s = "if (A->callback_enter() != TL_ADAPTER_OK) {\n" + ind + "    call_failed(" + I +
            ", \"callback_enter\", TL_ADAPTER_EFAIL);\n" + ind + "  } else {\n" + ind + "    ++me->cb;\n" + ind +
            "    if (has(TL_CAP_REGIONS)) A->safepoint();\n" + ind +
            "    if (A->callback_exit() == TL_ADAPTER_OK) --me->cb; else call_failed(" + I +
            ", \"callback_exit\", TL_ADAPTER_EFAIL);\n" + ind + "  }";
        break;
      case OpKind::Join:
        if (uncertain || !t || !t->certain || t->foreign || t->joined || op.arg == r || in_body ||
            m.waiting(op.arg) || t->stuck)
          return na(op, ind);
        t->joined = true;
        join_quit = !t->quit_sent;  // told to leave first, unless it was (top())
        t->quit_sent = true;
        if (!t->ended) m.end(op.arg);
        s = "join_actor(me, &" + tgt + ", " + I + ");";
        break;
      case OpKind::Kill:
        if (uncertain || !tgt_alive || !t->certain || t->foreign || op.arg == r) return na(op, ind);
        m.end(op.arg);
        t->joined = false;
        s = "kill_actor(me, &" + tgt + ", " + I + ");";
        break;
      case OpKind::Interrupt:
        if (!tgt_alive || !t->certain || t->foreign) return na(op, ind);
        s = "if (atomic_load(&" + tgt + ".state) == 1) CHECK(" + I + ", \"interrupt\", A->interrupt(" + tgt +
            ".id, interrupt_fn, &g_interrupts));";
        break;
      case OpKind::Exit: case OpKind::SuspendAll: case OpKind::ResumeAll:
        return na(op, ind);  // in bodies (the driver runs them at the top level)
      case OpKind::Priority:
        return ind + "/* " + op_text(op) + ": the interpreter's scheduling only, no adapter call */\n";
      case OpKind::Collect:
        s = "CHECK(" + I + ", \"collect\", A->collect());";
        break;
      case OpKind::Alloc:
        s = "do_alloc(me, " + I + ", " + std::to_string(op.number) + ");";
        break;
      case OpKind::WithoutGc: case OpKind::Blocking: {
        const bool gc = op.kind == OpKind::WithoutGc;
        std::string body;
        for (const Op& b : op.body) body += code(b, idx, m, r, true, async, uncertain, ind + "  ");
        const uint64_t cap = gc ? TL_CAP_HEAP : TL_CAP_REGIONS;
        const std::string beg = gc ? "without_gc_begin" : "blocking_begin", end = gc ? "without_gc_end" : "blocking_end";
        std::string c = ind + "{ /* " + op_text(op) + " */\n";
        c += ind + "  int on = has(" + cap_macro(cap) + ") && (!me->foreign || has(TL_CAP_FOREIGN_CALLBACK));\n";
        c += ind + "  if (!on) printf(\"repro: op " + I + " (" + fuzz::op_info(op.kind).name +
             ") scope skipped: the adapter lacks " + tl_cap_name(cap) + "; its body runs\\n\");\n";
        if (op.props.delay_us) c += ind + "  if (on) sleep_us(" + std::to_string(op.props.delay_us) + ");\n";
        c += ind + "  int entered = on ? rt_enter(me, " + I + ") : 0;\n";
        if (op.props.fail_nth) c += ind + "  if (on) arm(" + std::to_string(op.props.fail_nth) + ");\n";
        c += ind + "  int in = 0;\n";
        c += ind + "  if (on) { int rc = A->" + beg + "(); if (rc == TL_ADAPTER_OK) in = 1; else call_failed(" + I +
             ", \"" + beg + "\", rc); }\n";
        c += ind + "  ++me->regions;\n" + body + ind + "  --me->regions;\n";
        c += ind + "  if (in) CHECK(" + I + ", \"" + end + "\", A->" + end + "());\n";
        if (op.props.fail_nth) c += ind + "  disarm();\n";
        c += ind + "  rt_leave(me, entered);\n" + ind + "}\n";
        return c;
      }
      case OpKind::Fork: {
        const std::string child = "child_" + std::to_string(next_fn++);
        const std::string outer = scope;
        scope = "op " + I + "'s fork body: op ";
        driver(op.body, child, true);
        scope = outer;
        s = "do_fork(me, " + I + ", " + child + ");";
        break;
      }
      case OpKind::Overflow:
        s = "CHECK(" + I + ", \"provoke_fault(stack overflow)\", A->provoke_fault(TL_FAULT_STACK_OVERFLOW));";
        break;
      case OpKind::BarrierFault:
        s = "CHECK(" + I + ", \"provoke_fault(write barrier)\", A->provoke_fault(TL_FAULT_WRITE_BARRIER));";
        break;
      case OpKind::Lock: {
        Model::Lock& l = m.locks[op.arg.n];
        if ((l.held && l.holder == r) || std::find(l.waiters.begin(), l.waiters.end(), r) != l.waiters.end())
          return na(op, ind);
        if (!l.held) {
          l.held = true;
          l.holder = r;
        } else {
          if (in_body || r.kind == Res::None || !async) return na(op, ind);
          l.waiters.push_back(r);
        }
        pre = "if (!" + L + ") break; ";
        s = "{ int rc = A->lock(" + L +
            "); if (rc == TL_ADAPTER_OK || rc == TL_ADAPTER_OWNER_DIED) hold(me, " + L + "); else call_failed(" + I +
            ", \"lock\", rc); }";
        break;
      }
      case OpKind::Unlock: {
        Model::Lock& l = m.locks[op.arg.n];
        auto w = std::find(l.waiters.begin(), l.waiters.end(), r);
        // Queued for it: it still waits (for the holder) before it lets go.
        if (l.held && l.holder == r) Model::pass(l);
        else if (w != l.waiters.end() &&
                 std::find(l.will_release.begin(), l.will_release.end(), r) == l.will_release.end())
          l.will_release.push_back(r);
        else return na(op, ind);
        pre = "if (!" + L + ") break; ";
        s = "if (unhold(me, " + L + ")) CHECK(" + I + ", \"unlock\", A->unlock(" + L + "));";
        break;
      }
      case OpKind::Send:
        if (!uncertain && !m.waiting(r) && !rt->receiving) ++m.pending[op.arg.n];
        pre = "if (!" + B + ") break; ";
        s = "CHECK(" + I + ", \"mailbox_send\", A->mailbox_send(" + B + ", " +
            std::to_string(op.number) + "ull));\n" + ind + "  atomic_fetch_add(&SENT[" + std::to_string(op.arg.n) +
            "], 1);";
        break;
      case OpKind::Receive:
        if (m.pending[op.arg.n] <= 0) return na(op, ind);
        --m.pending[op.arg.n];
        rt->receiving = true;
        pre = "if (!" + B + ") break; ";
        s = "{ uint64_t w = 0; CHECK(" + I + ", \"mailbox_receive\", A->mailbox_receive(" +
            B + ", &w)); atomic_fetch_add(&RECEIVED[" + std::to_string(op.arg.n) + "], 1); }";
        break;
      case OpKind::Yield:
        s = "sched_yield();";
        break;
      case OpKind::Safepoint:
        s = "CHECK(" + I + ", \"safepoint\", A->safepoint());";
        break;
      case OpKind::Starve:
        s = "{ int region = has(TL_CAP_REGIONS) && in_runtime(me) && me->regions == 0 && A->blocking_begin() == "
            "TL_ADAPTER_OK;\n" + ind + "    sleep_us(" + std::to_string(op.number) + ");\n" + ind +
            "    if (region) A->blocking_end(); }";
        break;
    }
    const uint64_t cap = fuzz::op_capability(op.kind);
    const bool rtm = needs_runtime(op.kind);
    std::string c = ind + "do { /* " + op_text(op) + " */\n";
    c += ind + "  if (!need(me, " + I + ", \"" + fuzz::op_info(op.kind).name + "\", " + cap_macro(cap) + ", \"" +
         (cap ? tl_cap_name(cap) : "") + "\", " + (rtm ? "1" : "0") + ")) {";
    if (op.kind == OpKind::Spawn) c += " atomic_store(&" + actor_var(op.def) + ".state, -1);";
    c += " break; }\n";
    if (!pre.empty()) c += ind + "  " + pre + "\n";
    if (op.props.delay_us) c += ind + "  sleep_us(" + std::to_string(op.props.delay_us) + ");\n";
    if (rtm) c += ind + "  int entered = rt_enter(me, " + I + ");\n";
    if (op.props.fail_nth) c += ind + "  arm(" + std::to_string(op.props.fail_nth) + ");\n";
    c += ind + "  " + s + "\n";
    if (op.props.fail_nth) c += ind + "  disarm();\n";
    if (rtm) c += ind + "  rt_leave(me, entered);\n";
    c += ind + "} while (0);\n";
    return c;
  }

  // A driver function: issues ops in order, then ends the threads it made.
  void driver(const std::vector<Op>& ops, const std::string& name, bool child) {
    Model m;
    std::string d;
    const Ref main{};
    for (size_t i = 0; i < ops.size(); ++i) d += "  issued(" + std::to_string(i) + ");\n" + top(ops[i], i, m, main);
    const std::string E = std::to_string(ops.size());
    d += "  /* the end: the world runs again, every thread is told to leave, then joined */\n";
    d += "  issued(" + E + ");\n  resume_stops(" + E + ");\n  release_all(me, " + E + ");\n";
    for (Ref r : m.order)  // killed ones too: their kill may have failed
      if (!m.get(r)->quit_sent) {
        d += "  leave(me, &" + actor_var(r) + ", 0, " + E + ");\n";
        m.get(r)->quit_sent = true;
        if (!m.get(r)->ended) m.end(r);
      }
    for (Ref r : m.order) d += "  finish_actor(me, &" + actor_var(r) + ", " + E + ");\n";
    std::string f = "static void " + name + "(actor *" + (child ? "parent" : "me") + ") {\n";
    if (child)
      f += "  /* the fork body: a program of its own, on the forking thread */\n"
           "  static actor cmain;\n  actor *me = &cmain;\n  cmain.name = \"main\";\n"
           "  /* the body starts afresh, as the interpreter's child does, but for the locks\n"
           "     the forking thread holds: it still holds them here, and lets them go at the end */\n"
           "  memcpy(cmain.held, parent->held, sizeof cmain.held);\n  cmain.nheld = parent->nheld;\n"
           "  atomic_store(&cmain.state, 1);\n  g_stops = 0;\n";
    f += d;
    f += "}\n\n";
    funcs += f;
  }

  std::string top(const Op& op, size_t i, Model& m, Ref main) {
    const std::string I = std::to_string(i);
    std::string d;
    if (m.stops > 0 && !stop_safe(op.kind)) {
      d += "  resume_stops(" + I + ");\n";
      m.stops = 0;
    }
    const std::string delay = op.props.delay_us ? "sleep_us(" + std::to_string(op.props.delay_us) + "); " : "";
    switch (op.kind) {
      case OpKind::SuspendAll:
        ++m.stops;
        return d + "  /* " + op_text(op) + " */\n  if (need(me, " + I +
               ", \"suspend_all\", TL_CAP_SUSPEND, \"suspend\", 1)) { " + delay + "CHECK(" + I +
               ", \"suspend_all\", A->suspend_all()); ++g_stops; }\n";
      case OpKind::ResumeAll:
        if (m.stops == 0) return d + na(op, "  ");
        --m.stops;
        return d + "  /* " + op_text(op) + " */\n  if (g_stops > 0) { " + delay + "--g_stops; CHECK(" + I +
               ", \"resume_all\", A->resume_all()); }\n";
      case OpKind::Priority:
        return d + "  /* " + op_text(op) + ": the interpreter's scheduling only, no adapter call */\n";
      default:
        break;
    }
    if (m.stops > 0)  // inside a stop: the driver runs it, allocating nothing
      return d + "  /* inside the stop, on the driver: */\n" + code(op, i, m, main, false, false, false, "  ");
    Ref r = main;
    bool async = op.props.async;
    if (op.props.on.kind != Res::None) {
      r = op.props.on;
      if (!m.alive(r)) return d + na(op, "  ");
    }
    if (op.kind == OpKind::Callback || op.kind == OpKind::Starve ||
        (op.kind == OpKind::Overflow && op.arg.kind != Res::None)) {
      r = op.arg;
      if (!m.alive(r)) return d + na(op, "  ");
      if (op.kind == OpKind::Starve) async = true;
    }
    if (op.kind == OpKind::Exit) {
      Model::Thread* t = m.get(op.arg);
      if (!m.alive(op.arg) || t->quit_sent) return d + na(op, "  ");
      const bool wait = !async && !m.waiting(op.arg);  // queued for a lock: its leave may wait for the driver
      t->stuck = m.waiting(op.arg);
      t->quit_sent = true;
      m.end(op.arg);
      return d + "  /* " + op_text(op) + " */\n  leave(me, &" + actor_var(op.arg) + ", " + (wait ? "1" : "0") + ", " +
             I + ");\n";
    }
    // It may wait for a release not issued yet, or not be made until then (the
    // interpreter asks whether it is made yet; here any thread whose maker may
    // never get to it counts so).
    const bool uncertain = r.kind != Res::None && (m.waiting(r) || !m.get(r)->certain);
    if (uncertain) async = true;
    join_quit = false;
    std::string body = code(op, i, m, r, false, async, uncertain, "  ");
    if (body.find('\n') == body.size() - 1 && body.find("does not apply") != std::string::npos) return d + body;
    const std::string fn = "op_" + std::to_string(next_fn++);
    funcs += "/* " + scope + I + ": " + op_text(op) + " */\nstatic void " + fn + "(actor *me) {\n" + body + "}\n\n";
    if (join_quit && op.kind == OpKind::Join) d += "  leave(me, &" + actor_var(op.arg) + ", 0, " + I + ");\n";
    if (r.kind == Res::None) {
      d += "  " + fn + "(me);\n";
      m.main.receiving = false;
    } else {
      d += "  { unsigned k = deliver(me, &" + actor_var(r) + ", " + fn + ", " + I + ");";
      if (!async) {
        d += " wait_done(me, &" + actor_var(r) + ", k);";
        m.get(r)->receiving = false;
      } else {
        d += " (void)k;";
      }
      d += " }\n";
    }
    return d;
  }
};

const char* adapter_symbol(const std::string& name) {
  if (name == "reference") return "tl_reference_adapter";
  if (name == "reference-hybrid" || name == "reference_hybrid") return "tl_reference_hybrid_adapter";
  if (name == "pthread") return "tl_pthread_adapter";
  return nullptr;
}



std::string generate(const fuzz::Program& p, const std::string& file, const std::string& adapter, const char* sym) {
  Gen g;
  g.collect(p.ops);
  g.driver(p.ops, "run_program", false);
  const bool ref = adapter != "pthread";
  std::string out;
  out += "/* threadlab repro: a standalone reproducer of the op program " + file + ",\n";
  out += " * driving the \"" + adapter + "\" adapter through the adapter ABI only\n";
  out += " * (generated by `threadlab repro`; it needs no part of threadlab but the adapter).\n *\n";
  out += " * Adapter table: " + std::string(sym) + "\n * Compile (THREADLAB_SRC: the source tree, THREADLAB_BUILD: a build of it):\n";
  if (ref)
    out += " *   cc -std=c11 -O1 -g -I$THREADLAB_SRC/harness/include repro.c -o repro \\\n"
           " *      $THREADLAB_BUILD/lib/libthreadlab_adapter_reference.a $THREADLAB_BUILD/lib/libthreadlab_runtime.a \\\n"
           " *      -lfmt -lunwind -lstdc++ -lpthread -lm\n";
  else
    out += " *   cc -std=c11 -O1 -g -I$THREADLAB_SRC/harness/include repro.c -o repro \\\n"
           " *      $THREADLAB_BUILD/lib/libthreadlab_harness.a (and what it links) -lstdc++ -lpthread\n";
  out += " * Run: ./repro — prints \"repro: done\" and exits 0 when the run is clean; an\n"
         " * adapter call that fails unexpectedly or a violation is printed, then abort().\n *\n"
         " * The program:\n";
  const std::string text = fuzz::to_text(p);
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    out += " *   " + text.substr(at, nl - at) + "\n";
    at = nl + 1;
  }
  out += " */\n#define _POSIX_C_SOURCE 200809L\n#include <threadlab/adapter.h>\n#include <pthread.h>\n\n";
  out += "extern const tl_adapter " + std::string(sym) + ";\nstatic const tl_adapter *const A = &" + sym + ";\n";
  out += repro::kPrelude;
  out += R"C(
/* ---- world stops and forks -------------------------------------------- */
static int g_stops; /* stops the driver holds */
static void resume_stops(int op) {
  while (g_stops > 0) {
    --g_stops;
    CHECK(op, "resume_all", A->resume_all());
  }
}

/* ---- the watchdog: a hang is a finding too ------------------------------ */
/* No op issued or finished for REPRO_TIMEOUT_MS (default 10000): the threads
 * the runtime knows are printed and the program aborts. */
static atomic_ulong g_progress;
static atomic_int g_current = -1; /* the op the driver issued last */
static atomic_int g_fork_waits;   /* threads waiting for a fork child (which times itself) */
static long timeout_ms(void) {
  const char *env = getenv("REPRO_TIMEOUT_MS");
  long ms = env ? atol(env) : 10000;
  return ms > 0 ? ms : 10000;
}
static void issued(int op) {
  atomic_store(&g_current, op);
  atomic_fetch_add(&g_progress, 1);
}
static void *watchdog_main(void *arg) {
  (void)arg;
  long limit = timeout_ms(), idle = 0;
  unsigned long seen = atomic_load(&g_progress);
  for (;;) {
    sleep_us(10000);
    unsigned long now = atomic_load(&g_progress) + atomic_load(&g_actor_progress);
    if (now != seen || atomic_load(&g_fork_waits) > 0) {
      seen = now;
      idle = 0;
      continue;
    }
    if ((idle += 10) < limit) continue;
    fprintf(stderr, "repro: deadlock: nothing finished within %ld ms (op %d issued last)\n", limit,
            atomic_load(&g_current));
    if (has(TL_CAP_THREAD_LIST)) {
      tl_adapter_thread t[32];
      size_t n = 0;
      if (A->thread_list(t, 32, &n) == TL_ADAPTER_OK)
        for (size_t i = 0; i < n && i < 32; ++i)
          fprintf(stderr, "  thread %llu %s: %s%s%s\n", (unsigned long long)t[i].id, t[i].name, t[i].state,
                  t[i].waiting_on[0] ? ", waiting on " : "", t[i].waiting_on);
    }
    fflush(stderr);
    abort();
  }
  return NULL;
}

static void do_fork(actor *me, int op, void (*child)(actor *)) {
  int rc = A->fork_prepare();
  if (rc < 0) {
    call_failed(op, "fork_prepare", rc);
    return;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    if (A->fork_child() != TL_ADAPTER_OK) {
      fprintf(stderr, "repro: op %d: fork_child failed: %s\n", op, last_error());
      _exit(3);
    }
    if (t_armed) A->os_fail_nth(0); /* the parent's arming is not the body's */
    t_armed = 0;
    /* A child making no progress ends by SIGALRM, which the parent reports
       (the parent's watchdog does not count the wait for it). */
    alarm((unsigned)(timeout_ms() / 1000 + 1));
    child(me);
    check_integrity_now(op);
    fflush(NULL);
    _exit(0);
  }
  CHECK(op, "fork_parent", A->fork_parent());
  if (pid < 0) {
    call_failed(op, "fork", TL_ADAPTER_EFAIL);
    return;
  }
  int region = has(TL_CAP_REGIONS) && in_runtime(me) && me->regions == 0 && A->blocking_begin() == TL_ADAPTER_OK;
  int status = 0;
  atomic_fetch_add(&g_fork_waits, 1);
  while (waitpid(pid, &status, 0) < 0) {
  }
  atomic_fetch_sub(&g_fork_waits, 1);
  if (region) A->blocking_end();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    char text[128];
    if (WIFSIGNALED(status)) snprintf(text, sizeof text, "the fork child died of signal %d", WTERMSIG(status));
    else snprintf(text, sizeof text, "the fork child exited %d", WEXITSTATUS(status));
    fatal(op, text);
  }
}

/* ---- the program's threads, locks and mailboxes ------------------------ */
static actor T_main = {.name = "main"};
)C";
  for (Ref r : g.threads) out += "static actor " + actor_var(r) + ";\n";
  for (Ref r : g.threads) {
    const Ref by = g.definer[{static_cast<int>(r.kind), r.n}];
    out += "static actor " + actor_var(r) + " = {.name = \"" + ref_name(r) + "\", .foreign = " +
           (r.kind == Res::Foreign ? "1" : "0") + ", .definer = " + (by.kind == Res::None ? "NULL" : "&" + actor_var(by)) +
           "};\n";
  }
  out += "static tl_adapter_handle L[" + std::to_string(fuzz::kMaxLocks + 1) + "], B[" +
         std::to_string(fuzz::kMaxMailboxes + 1) + "];\n";
  out += "static atomic_ulong SENT[" + std::to_string(fuzz::kMaxMailboxes + 1) + "], RECEIVED[" +
         std::to_string(fuzz::kMaxMailboxes + 1) + "];\n\n";
  out += "/* ---- the ops ------------------------------------------------------------ */\n";
  out += g.funcs;
  const std::string E = std::to_string(p.ops.size());
  out += "int main(void) {\n";
  out += "  setvbuf(stdout, NULL, _IOLBF, 0);\n";
  out += "  if (A->abi_version != TL_ADAPTER_ABI_VERSION) {\n"
         "    fprintf(stderr, \"repro: adapter ABI %u, this file was written for %u\\n\", A->abi_version, "
         "TL_ADAPTER_ABI_VERSION);\n    return 2;\n  }\n";
  out += "  if (A->init() != TL_ADAPTER_OK) fatal(-1, last_error());\n";
  out += "  atomic_store(&T_main.state, 1);\n  T_main.id = A->self ? A->self() : 0;\n";
  for (unsigned n : g.locks)
    out += "  if (has(TL_CAP_LOCKS)) CHECK(-1, \"lock_new\", A->lock_new(\"l" + std::to_string(n) + "\", &L[" +
           std::to_string(n) + "]));\n";
  for (unsigned n : g.boxes)
    out += "  if (has(TL_CAP_MAILBOXES)) CHECK(-1, \"mailbox_new\", A->mailbox_new(1024, &B[" + std::to_string(n) +
           "]));\n";
  out += "  /* helpers this program may not need, marked used (no warnings) */\n"
         "  (void)&do_fork; (void)&interrupt_fn; (void)&start_foreign; (void)&leave; (void)&do_alloc;\n"
         "  (void)&arm; (void)&disarm; (void)&kill_actor; (void)&spawn_actor; (void)&deliver; (void)&wait_done;\n"
         "  (void)&hold; (void)&unhold; (void)&rt_enter; (void)&rt_leave; (void)&in_runtime; (void)&join_actor;\n"
         "  (void)L; (void)B; (void)SENT; (void)RECEIVED;\n";
  out += "  pthread_t dog;\n  if (pthread_create(&dog, NULL, watchdog_main, NULL) != 0) fatal(-1, \"cannot start the watchdog\");\n";
  out += "  run_program(&T_main);\n";
  for (unsigned n : g.boxes) {
    const std::string N = std::to_string(n);
    out += "  while (B[" + N + "] && atomic_load(&RECEIVED[" + N + "]) < atomic_load(&SENT[" + N +
           "])) { /* words nobody received */\n    uint64_t w = 0;\n    CHECK(" + E +
           ", \"mailbox_receive (drain)\", A->mailbox_receive(B[" + N + "], &w));\n    atomic_fetch_add(&RECEIVED[" +
           N + "], 1);\n  }\n";
    out += "  if (B[" + N + "]) CHECK(" + E + ", \"mailbox_free\", A->mailbox_free(B[" + N + "]));\n";
  }
  for (unsigned n : g.locks)
    out += "  if (L[" + std::to_string(n) + "]) CHECK(" + E + ", \"lock_free\", A->lock_free(L[" + std::to_string(n) +
           "]));\n";
  out += "  check_integrity_now(" + E + ");\n";
  out += "  printf(\"repro: done (%u errors, %lu interrupts ran)\\n\", atomic_load(&g_errors),\n"
         "         (unsigned long)atomic_load(&g_interrupts));\n";
  out += "  return 0;\n}\n";
  return out;
}

}  // namespace

int verb_repro(const ReproOptions& o) {
  const char* sym = adapter_symbol(o.adapter);
  if (!sym) return usage_error("repro: unknown adapter '" + o.adapter + "' (reference, reference-hybrid, pthread)");
  fuzz::Program p;
  std::string err;
  if (!fuzz::load_program(o.file, &p, &err)) return usage_error(err);
  const std::string shown = o.file == "-" ? "<stdin>" : o.file;
  const std::string text = generate(p, shown, o.adapter, sym);
  return write_output(o.out, text.data(), text.size());
}

}  // namespace threadlab
