// codec_text.cpp — to_text() and parse_text(): the form people read.
//
// One op a line:  [NAME =] OP [OPERAND] [NUMBER] [(PROPS)] [{]
// with a body's ops on the following lines and its `}` on a line of its
// own (`{}` / `{ }` at the end of the op line is an empty body); `#` starts
// a comment. Numbers are decimal; starve and delay take microseconds with
// an optional `us` or `ms`. Printed: 2 spaces of indent a level, props in
// the order on, async, delay, fail_nth, delay as `Nus`.
// Invariants:
//   - parse_text() accepts exactly the programs check() accepts (same scope
//     rules: a name is defined once program-wide and visible from its
//     definition on, a fork body sees only the threads it defines, names
//     stay usable after exit/join/kill), and returns canonical(parsed).
//   - Every failure names a 1-based line and column, the column of the
//     token at fault (for an unclosed block, the `{` that opened it).
//   - to_text(p) for canonical valid p parses back to p.
#include <threadlab/fuzz/program.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <set>
#include <string>

#include "rules.h"

namespace threadlab::fuzz {
namespace {

// ---- printing -------------------------------------------------------------

void put_ref(std::string& s, Ref r) {
  s += rules::letter(r.kind);
  s += std::to_string(r.n);
}

void put_ops(std::string& s, const std::vector<Op>& ops, unsigned depth) {
  for (const Op& op : ops) {
    const OpInfo& info = op_info(op.kind);
    s.append(2 * depth, ' ');
    if (info.defines != Res::None) {
      put_ref(s, op.def);
      s += " = ";
    }
    s += info.name;
    if (op.arg.kind != Res::None) {
      s += ' ';
      put_ref(s, op.arg);
    }
    if (info.has_number) {
      s += ' ';
      s += op.kind == OpKind::Priority ? std::to_string(static_cast<int64_t>(op.number)) : std::to_string(op.number);
    }
    const Props& p = op.props;
    if (p != Props{}) {
      std::string props;
      auto item = [&props](const std::string& x) { props += (props.empty() ? "" : ", ") + x; };
      if (p.on.kind != Res::None) {
        std::string r;
        put_ref(r, p.on);
        item("on: " + r);
      }
      if (p.async) item("async");
      if (p.delay_us) item("delay: " + std::to_string(p.delay_us) + "us");
      if (p.fail_nth) item("fail_nth: " + std::to_string(p.fail_nth));
      s += " (" + props + ")";
    }
    if (info.has_body) {
      s += " {\n";
      put_ops(s, op.body, depth + 1);
      s.append(2 * depth, ' ');
      s += '}';
    }
    s += '\n';
  }
}

// ---- parsing --------------------------------------------------------------

struct Tok {
  enum Kind { Word, Num, Punct } kind;
  std::string_view text;
  unsigned col;
};

struct Fail {
  unsigned line, col;
  std::string message;
};

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// A name: one of t f l m followed by digits.
bool looks_like_name(const Tok& t) {
  if (t.kind != Tok::Word || t.text.size() < 2 || !std::strchr("tflm", t.text[0])) return false;
  return std::all_of(t.text.begin() + 1, t.text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

Res res_of_letter(char c) {
  switch (c) {
    case 't': return Res::Thread;
    case 'f': return Res::Foreign;
    case 'l': return Res::Lock;
    default: return Res::Mailbox;
  }
}

const char* describe(Operand o) {
  switch (o) {
    case Operand::Thread: return "a spawned thread (tN)";
    case Operand::Foreign: return "a foreign thread (fN)";
    case Operand::Lock: return "a lock (lN)";
    case Operand::Mailbox: return "a mailbox (mN)";
    case Operand::AnyThread: return "a thread (tN or fN)";
    case Operand::AnyThreadOrSelf: return "a thread (tN or fN) or nothing";
    default: return "no operand";
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Program run() {
    Program p;
    frames_.push_back(Frame{&p.ops, false, {}, 0, 0});
    size_t start = 0;
    while (start <= text_.size()) {
      size_t end = text_.find('\n', start);
      if (end == std::string_view::npos) end = text_.size();
      ++line_;
      this->line(text_.substr(start, end - start));
      start = end + 1;
    }
    if (frames_.size() > 1) {
      const Frame& f = frames_.back();
      throw Fail{f.line, f.col, "unclosed block: this `{` has no matching `}`"};
    }
    return p;
  }

 private:
  struct Frame {
    std::vector<Op>* ops;
    bool fork;
    std::vector<Ref> saved_visible;  // the enclosing scope (fork bodies)
    unsigned line, col;              // of the `{`
  };
  struct Def {
    unsigned line;
  };

  std::string_view text_;
  unsigned line_ = 0;
  std::vector<Tok> toks_;
  size_t at_ = 0;
  std::vector<Frame> frames_;
  std::map<std::pair<Res, unsigned>, Def> defs_;
  std::vector<Ref> visible_;
  std::set<unsigned> locks_, mailboxes_;
  unsigned threads_ = 0, foreigns_ = 0;
  size_t ops_ = 0;

  [[noreturn]] void fail(unsigned col, const std::string& what) { throw Fail{line_, col, what}; }
  [[noreturn]] void fail(const Tok& t, const std::string& what) { fail(t.col, what); }
  unsigned end_col() const { return toks_.empty() ? 1 : toks_.back().col + unsigned(toks_.back().text.size()); }
  bool done() const { return at_ >= toks_.size(); }
  const Tok* peek() const { return done() ? nullptr : &toks_[at_]; }
  bool peek_punct(char c) const { return peek() && peek()->kind == Tok::Punct && peek()->text[0] == c; }
  void expect_punct(char c, const char* what) {
    if (!peek_punct(c)) {
      if (done()) fail(end_col(), std::string("expected ") + what + " at end of line");
      fail(*peek(), std::string("expected ") + what + ", got `" + std::string(peek()->text) + "`");
    }
    ++at_;
  }
  bool in_fork() const {
    return std::any_of(frames_.begin(), frames_.end(), [](const Frame& f) { return f.fork; });
  }

  void tokenize(std::string_view s) {
    toks_.clear();
    at_ = 0;
    size_t i = 0;
    while (i < s.size()) {
      const char c = s[i];
      const unsigned col = unsigned(i) + 1;
      if (c == '#') break;
      if (c == ' ' || c == '\t' || c == '\r') {
        ++i;
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t j = i;
        while (j < s.size() && is_word_char(s[j])) ++j;
        toks_.push_back({Tok::Word, s.substr(i, j - i), col});
        i = j;
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 ((c == '-' || c == '+') && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
        size_t j = i + 1;
        while (j < s.size() && is_word_char(s[j])) ++j;
        toks_.push_back({Tok::Num, s.substr(i, j - i), col});
        i = j;
      } else if (std::strchr("=(),:{}", c) && c != '\0') {
        toks_.push_back({Tok::Punct, s.substr(i, 1), col});
        ++i;
      } else {
        fail(col, std::string("unexpected character '") + (std::isprint(static_cast<unsigned char>(c)) ? std::string(1, c) : "\\x" + std::to_string(unsigned(static_cast<unsigned char>(c)))) + "'");
      }
    }
  }

  // A number token: value and unit suffix ("" when none). Signed when the
  // text starts with '-'.
  struct Number {
    bool negative = false;
    uint64_t magnitude = 0;
    std::string_view unit;
  };
  Number number(const Tok& t) {
    Number n;
    size_t i = 0;
    if (t.text[0] == '-' || t.text[0] == '+') n.negative = t.text[i++] == '-';
    for (; i < t.text.size() && std::isdigit(static_cast<unsigned char>(t.text[i])); ++i) {
      const uint64_t d = uint64_t(t.text[i] - '0');
      if (n.magnitude > (UINT64_MAX - d) / 10) fail(t, "number out of range: `" + std::string(t.text) + "`");
      n.magnitude = n.magnitude * 10 + d;
    }
    n.unit = t.text.substr(i);
    return n;
  }
  // Microseconds in [lo, hi] from `N`, `Nus` or `Nms`.
  uint64_t micros(const Tok& t, uint64_t lo, uint64_t hi, const char* what) {
    const Number n = number(t);
    uint64_t v = n.magnitude;
    if (n.unit == "ms") {
      v = v > UINT64_MAX / 1000 ? UINT64_MAX : v * 1000;
    } else if (!n.unit.empty() && n.unit != "us") {
      fail(t, std::string("unknown unit `") + std::string(n.unit) + "` (us or ms)");
    }
    if (n.negative || v < lo || v > hi)
      fail(t, std::string("number out of range: ") + what + " is " + std::to_string(lo) + ".." + std::to_string(hi) + "us, got `" + std::string(t.text) + "`");
    return v;
  }

  Ref name(const Tok& t) {
    const std::string_view digits = t.text.substr(1);
    unsigned v = 0;
    for (char c : digits) {
      v = v * 10 + unsigned(c - '0');
      if (v > rules::kMaxName) fail(t, "number out of range: names go up to " + std::to_string(rules::kMaxName));
    }
    if (v == 0) fail(t, "names are numbered from 1, got `" + std::string(t.text) + "`");
    return Ref{res_of_letter(t.text[0]), static_cast<uint16_t>(v)};
  }

  // A thread that must be in scope here.
  Ref thread_use(const Tok& t, Ref r) {
    if (std::find(visible_.begin(), visible_.end(), r) != visible_.end()) return r;
    const auto it = defs_.find({r.kind, r.n});
    const std::string s(t.text);
    if (it == defs_.end()) fail(t, "undefined name " + s);
    if (in_fork())
      fail(t, "thread from outside used inside a fork body: " + s + " (line " + std::to_string(it->second.line) +
                  ") does not exist in the fork child");
    fail(t, s + " exists only in the fork child that defines it (line " + std::to_string(it->second.line) + ")");
  }

  void mention(const Tok& t, Ref r) {
    auto& seen = r.kind == Res::Lock ? locks_ : mailboxes_;
    const unsigned max = r.kind == Res::Lock ? kMaxLocks : kMaxMailboxes;
    seen.insert(r.n);
    if (seen.size() > max)
      fail(t, "limit exceeded: more than " + std::to_string(max) + (r.kind == Res::Lock ? " locks" : " mailboxes"));
  }

  void line(std::string_view s) {
    tokenize(s);
    if (done()) return;
    if (peek_punct('}')) {
      if (frames_.size() == 1) fail(*peek(), "stray `}`: no block is open");
      ++at_;
      if (!done()) fail(*peek(), "expected end of line after `}`");
      close_block();
      return;
    }
    Op op;
    const Tok* def_tok = nullptr;
    if (toks_.size() > 1 && toks_[1].kind == Tok::Punct && toks_[1].text[0] == '=') {
      def_tok = &toks_[0];
      if (!looks_like_name(*def_tok) || (def_tok->text[0] != 't' && def_tok->text[0] != 'f'))
        fail(*def_tok, "expected a thread name (tN or fN) before `=`, got `" + std::string(def_tok->text) + "`");
      at_ = 2;
    }
    const Tok* op_tok = peek();
    if (!op_tok) fail(end_col(), "expected an op after `=`");
    if (op_tok->kind != Tok::Word) fail(*op_tok, "expected an op, got `" + std::string(op_tok->text) + "`");
    const OpInfo* info = op_by_name(op_tok->text);
    if (!info) fail(*op_tok, "unknown op `" + std::string(op_tok->text) + "`");
    ++at_;
    op.kind = info->kind;
    if (++ops_ > kMaxOps) fail(*op_tok, "limit exceeded: more than " + std::to_string(kMaxOps) + " ops");

    // Definition (checked now, takes effect after the props).
    if (info->defines != Res::None) {
      const char want = rules::letter(info->defines);
      if (!def_tok)
        fail(*op_tok, std::string(info->name) + " binds a name: `" + want + "N = " + info->name + "`");
      if (def_tok->text[0] != want)
        fail(*def_tok, std::string("wrong operand kind: ") + info->name + " binds " + want + "N, got " + std::string(def_tok->text));
      op.def = name(*def_tok);
      const auto it = defs_.find({op.def.kind, op.def.n});
      if (it != defs_.end())
        fail(*def_tok, "name defined twice: " + std::string(def_tok->text) + " (first at line " + std::to_string(it->second.line) + ")");
      unsigned& count = op.def.kind == Res::Thread ? threads_ : foreigns_;
      if (++count > kMaxThreads)
        fail(*def_tok, "limit exceeded: more than " + std::to_string(kMaxThreads) + " " + want + " threads");
    } else if (def_tok) {
      fail(*def_tok, std::string(info->name) + " defines no name");
    }

    // Operand.
    if (info->operand != Operand::None) {
      const Tok* t = peek();
      const bool optional = info->operand == Operand::AnyThreadOrSelf;
      if (t && looks_like_name(*t)) {
        const Ref r = name(*t);
        if (!rules::operand_fits(info->operand, r.kind))
          fail(*t, std::string("wrong operand kind: ") + info->name + " takes " + describe(info->operand) + ", got " + std::string(t->text));
        if (r.kind == Res::Lock || r.kind == Res::Mailbox) {
          mention(*t, r);
          op.arg = r;
        } else {
          op.arg = thread_use(*t, r);
        }
        ++at_;
      } else if (!optional) {
        if (!t) fail(end_col(), std::string(info->name) + " takes " + describe(info->operand));
        fail(*t, std::string("wrong operand kind: ") + info->name + " takes " + describe(info->operand) + ", got `" + std::string(t->text) + "`");
      }
    }

    // Number.
    if (info->has_number) {
      const Tok* t = peek();
      if (!t || t->kind != Tok::Num) {
        if (!t) fail(end_col(), std::string(info->name) + " takes a number");
        fail(*t, std::string(info->name) + " takes a number, got `" + std::string(t->text) + "`");
      }
      op.number = op_number(*info, *t);
      ++at_;
    }

    // Properties.
    if (peek_punct('(')) {
      ++at_;
      props(&op.props);
    }

    // Body.
    bool opens = false;
    const Tok* brace = nullptr;
    if (peek_punct('{')) {
      brace = peek();
      if (!info->has_body) fail(*brace, std::string(info->name) + " takes no body");
      ++at_;
      opens = true;
    } else if (info->has_body) {
      fail(done() ? end_col() : peek()->col, std::string(info->name) + " needs a body: `" + info->name + " {`");
    }
    bool closes_too = false;
    if (opens && peek_punct('}')) {
      ++at_;
      closes_too = true;
    }
    if (!done()) fail(*peek(), "unexpected `" + std::string(peek()->text) + "`");

    if (op.def.kind != Res::None) {
      defs_[{op.def.kind, op.def.n}] = Def{line_};
      visible_.push_back(op.def);
    }
    std::vector<Op>* into = frames_.back().ops;
    into->push_back(std::move(op));
    if (opens) {
      if (frames_.size() > kMaxDepth)
        fail(*brace, "limit exceeded: bodies nested deeper than " + std::to_string(kMaxDepth));
      Frame f{&into->back().body, info->kind == OpKind::Fork, {}, line_, brace->col};
      if (f.fork) f.saved_visible.swap(visible_);
      frames_.push_back(std::move(f));
      if (closes_too) close_block();
    }
  }

  void close_block() {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    if (f.fork) visible_.swap(f.saved_visible);
  }

  uint64_t op_number(const OpInfo& info, const Tok& t) {
    if (info.kind == OpKind::Starve) return micros(t, 1, rules::kStarveMaxUs, "starve");
    const Number n = number(t);
    if (!n.unit.empty()) fail(t, std::string("number out of range: ") + info.name + " takes a plain number, got `" + std::string(t.text) + "`");
    switch (info.kind) {
      case OpKind::Alloc:
        if (n.negative || n.magnitude < 1 || n.magnitude > rules::kAllocMax)
          fail(t, "number out of range: alloc takes 1..64 objects, got `" + std::string(t.text) + "`");
        return n.magnitude;
      case OpKind::Priority:
        if (n.magnitude > uint64_t(rules::kPriorityMax))
          fail(t, "number out of range: priority is -8..8, got `" + std::string(t.text) + "`");
        return static_cast<uint64_t>(n.negative ? -int64_t(n.magnitude) : int64_t(n.magnitude));
      default:  // send: any 64-bit word
        if (n.negative && n.magnitude != 0)
          fail(t, "number out of range: send takes 0..18446744073709551615, got `" + std::string(t.text) + "`");
        return n.magnitude;
    }
  }

  void props(Props* p) {
    std::set<std::string_view> seen;
    for (;;) {
      const Tok* t = peek();
      if (!t) fail(end_col(), "unclosed `(`: expected a property");
      if (t->kind != Tok::Word) fail(*t, "expected a property, got `" + std::string(t->text) + "`");
      if (!seen.insert(t->text).second) fail(*t, "property `" + std::string(t->text) + "` given twice");
      ++at_;
      if (t->text == "async") {
        p->async = true;
      } else if (t->text == "on" || t->text == "delay" || t->text == "fail_nth") {
        expect_punct(':', "`:`");
        const Tok* v = peek();
        if (!v) fail(end_col(), "expected a value for `" + std::string(t->text) + "`");
        ++at_;
        if (t->text == "on") {
          if (!looks_like_name(*v) || (v->text[0] != 't' && v->text[0] != 'f'))
            fail(*v, "wrong operand kind: on: takes a thread (tN or fN), got `" + std::string(v->text) + "`");
          p->on = thread_use(*v, name(*v));
        } else if (v->kind != Tok::Num) {
          fail(*v, "expected a number for `" + std::string(t->text) + "`, got `" + std::string(v->text) + "`");
        } else if (t->text == "delay") {
          p->delay_us = static_cast<uint32_t>(micros(*v, 0, rules::kDelayMaxUs, "delay"));
        } else {
          const Number n = number(*v);
          if (n.negative || !n.unit.empty() || n.magnitude < 1 || n.magnitude > 255)
            fail(*v, "number out of range: fail_nth is 1..255, got `" + std::string(v->text) + "`");
          p->fail_nth = static_cast<uint8_t>(n.magnitude);
        }
      } else {
        fail(*t, "unknown property `" + std::string(t->text) + "` (on, async, delay, fail_nth)");
      }
      if (peek_punct(')')) {
        ++at_;
        return;
      }
      expect_punct(',', "`,` or `)`");
    }
  }
};

}  // namespace

std::string to_text(const Program& p) {
  std::string s;
  put_ops(s, p.ops, 0);
  return s;
}

bool parse_text(std::string_view text, Program* out, ParseError* err) {
  try {
    Program p = canonical(Parser(text).run());
    if (std::string why = check(p); !why.empty()) {  // the parser's rules are check()'s
      if (err) *err = ParseError{1, 1, "internal: parsed program fails check: " + why};
      return false;
    }
    if (out) *out = std::move(p);
    return true;
  } catch (const Fail& f) {
    if (err) *err = ParseError{f.line, f.col, f.message};
    return false;
  }
}

}  // namespace threadlab::fuzz
