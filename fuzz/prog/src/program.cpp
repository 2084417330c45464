// program.cpp — canonical(), check(), op_count(): the invariants of
// program.h as code.
//
// Invariants: check() walks ops in text order (props.on, operand, number,
// definition, body) with the same scope rules the codecs use: threads are
// visible from their definition on; a fork body starts with none visible
// and its threads vanish when it ends; names are defined once program-wide;
// locks and mailboxes are program-wide. canonical() is total (it renumbers
// any program, valid or not) and is the identity on canonical programs.
#include <threadlab/fuzz/program.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "rules.h"

namespace threadlab::fuzz {
namespace {

std::string name(Ref r) { return std::string(1, rules::letter(r.kind)) + std::to_string(r.n); }

class Checker {
 public:
  std::string err;

  bool walk(const std::vector<Op>& ops, unsigned depth) {
    for (const Op& op : ops)
      if (!one(op, depth)) return false;
    return true;
  }

 private:
  std::set<std::pair<Res, uint16_t>> defined_;
  std::vector<Ref> visible_;
  std::set<uint16_t> locks_, mailboxes_;
  unsigned threads_ = 0, foreigns_ = 0;
  size_t ops_ = 0;

  bool fail(const Op& op, const std::string& what) {
    err = "op " + std::to_string(ops_) + " (" +
          (rules::valid_kind(op.kind) ? op_info(op.kind).name : "?") + "): " + what;
    return false;
  }
  bool visible(Ref r) const { return std::find(visible_.begin(), visible_.end(), r) != visible_.end(); }
  bool thread_in_scope(const Op& op, Ref r, const char* role) {
    if (r.n == 0) return fail(op, std::string(role) + " names thread number 0");
    if (!visible(r)) {
      const bool known = defined_.count({r.kind, r.n}) != 0;
      return fail(op, std::string(role) + " " + name(r) +
                          (known ? " is not in scope here (fork bodies see only their own threads)"
                                 : " is not defined before this op"));
    }
    return true;
  }
  bool mention(const Op& op, Ref r) {
    auto& seen = r.kind == Res::Lock ? locks_ : mailboxes_;
    const unsigned max = r.kind == Res::Lock ? kMaxLocks : kMaxMailboxes;
    if (r.n == 0) return fail(op, "operand names number 0");
    seen.insert(r.n);
    if (seen.size() > max)
      return fail(op, std::string("more than ") + std::to_string(max) +
                          (r.kind == Res::Lock ? " locks" : " mailboxes"));
    return true;
  }

  bool one(const Op& op, unsigned depth) {
    ++ops_;
    if (!rules::valid_kind(op.kind)) return fail(op, "op kind " + std::to_string(unsigned(op.kind)) + " is no op");
    if (ops_ > kMaxOps) return fail(op, "more than " + std::to_string(kMaxOps) + " ops");
    const OpInfo& info = op_info(op.kind);
    // Properties.
    if (op.props.on.kind == Res::None) {
      if (op.props.on.n != 0) return fail(op, "on: has no kind but a number");
    } else if (op.props.on.kind != Res::Thread && op.props.on.kind != Res::Foreign) {
      return fail(op, "on: names " + name(op.props.on) + ", not a thread");
    } else if (!thread_in_scope(op, op.props.on, "on:")) {
      return false;
    }
    if (op.props.delay_us > rules::kDelayMaxUs) return fail(op, "delay above 20000us");
    // Operand.
    if (!rules::operand_fits(info.operand, op.arg.kind)) return fail(op, "wrong operand kind");
    if (op.arg.kind == Res::None) {
      if (op.arg.n != 0) return fail(op, "operand has no kind but a number");
    } else if (op.arg.kind == Res::Lock || op.arg.kind == Res::Mailbox) {
      if (!mention(op, op.arg)) return false;
    } else if (!thread_in_scope(op, op.arg, "operand")) {
      return false;
    }
    // Number.
    if (!rules::number_ok(op.kind, op.number)) return fail(op, "number " + std::to_string(op.number) + " out of range");
    // Definition.
    if (info.defines == Res::None) {
      if (op.def != Ref{}) return fail(op, "binds a name but defines nothing");
    } else {
      if (op.def.kind != info.defines || op.def.n == 0) return fail(op, "binds no (or the wrong kind of) name");
      if (!defined_.insert({op.def.kind, op.def.n}).second) return fail(op, name(op.def) + " is defined twice");
      unsigned& count = op.def.kind == Res::Thread ? threads_ : foreigns_;
      if (++count > kMaxThreads) return fail(op, "more than " + std::to_string(kMaxThreads) + " threads of a kind");
      visible_.push_back(op.def);
    }
    // Body.
    if (!info.has_body) {
      if (!op.body.empty()) return fail(op, "has a body but takes none");
      return true;
    }
    if (depth + 1 > kMaxDepth) return fail(op, "bodies nested deeper than " + std::to_string(kMaxDepth));
    if (op.kind != OpKind::Fork) return walk(op.body, depth + 1);
    std::vector<Ref> saved;
    saved.swap(visible_);
    const bool ok = walk(op.body, depth + 1);
    visible_.swap(saved);
    return ok;
  }
};

class Renumber {
 public:
  void ops(std::vector<Op>& v) {
    for (Op& op : v) one(op);
  }

 private:
  std::map<uint16_t, uint16_t> maps_[5];  // by Res
  void ref(Ref& r) {
    if (r.kind == Res::None) return;
    auto& m = maps_[static_cast<unsigned>(r.kind) % 5];
    auto it = m.find(r.n);
    if (it == m.end()) it = m.emplace(r.n, static_cast<uint16_t>(m.size() + 1)).first;
    r.n = it->second;
  }
  void one(Op& op) {
    ref(op.props.on);
    ref(op.arg);
    ref(op.def);
    ops(op.body);
  }
};

size_t count(const std::vector<Op>& ops) {
  size_t n = 0;
  for (const Op& op : ops) n += 1 + count(op.body);
  return n;
}

}  // namespace

Program canonical(const Program& p) {
  Program out = p;
  Renumber().ops(out.ops);
  return out;
}

std::string check(const Program& p) {
  Checker c;
  c.walk(p.ops, 0);
  return c.err;
}

size_t op_count(const Program& p) { return count(p.ops); }

}  // namespace threadlab::fuzz
