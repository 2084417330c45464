// codec_binary.cpp — decode() and encode(): the byte form fuzzers mutate.
//
// Layout, one op after another (a body's ops follow its count):
//   header   bit 0x40: a props byte follows; kind = (header & ~0x40) % kOpKinds
//   props    (if flagged) flags: 1 on, 2 async, 4 delay, 8 fail_nth; then
//            on: a byte, index % (threads in scope: t and f, definition order)
//            delay: 1 + small(0xf0, 240) % 20000 (microseconds)
//            fail_nth: 1 + small(0xc0, 8) % 255
//   operand  one byte: a thread operand picks index % (threads in scope of
//            that kind); AnyThreadOrSelf picks % (count + 1), 0 = self; a lock
//            or mailbox picks % (known + 1), index `known` being the next new
//            one (% known once kMaxLocks / kMaxMailboxes are known)
//   number   alloc: 1 + b % 64; send: small(0xf0, 240); priority: b % 17 - 8;
//            starve: 1 + small(0xf0, 240) % 20000
//   body     count small(0xe0, 32), then up to that many ops a level deeper
// small(C, T) is a number most random bytes keep small: bytes >= C are
// leading digits (base 256 - C), the first byte < C ends it with b % T;
// value = digits * T + last. Random input so gives short delays, low
// fail_nth and bodies of ~16 ops, yet every value has an encoding.
// Invariants:
//   - decode() is total: every byte string gives a program that passes
//     check(), canonical, within the limits. Reading past the end gives 0
//     (the op begun is completed); no new op begins past the end or past
//     kMaxOps; the rest of the input is ignored.
//   - An op that cannot be what its header says turns into one that can: an
//     operand kind with nothing in scope into the op that defines it (spawn,
//     foreign), a definition over kMaxThreads into yield, a body op at depth
//     kMaxDepth into yield (its count byte is then not read).
//   - Thread names stay defined after exit/join/kill (program.h): an op may
//     name a thread the program already ended; validity does not track
//     lifetimes, so decode, parse_text and check agree without simulating.
//   - encode(p) is decode's inverse on canonical(p) for valid p: it walks
//     the same scope state and writes the index decode would read. Every
//     header it writes is >= 0x80, so load_program never takes a non-empty
//     encoding for text.
#include <threadlab/fuzz/program.h>

#include <algorithm>

#include "rules.h"

namespace threadlab::fuzz {
namespace {

constexpr uint8_t kPropsBit = 0x40;
enum : uint8_t { kOn = 1, kAsync = 2, kDelay = 4, kFailNth = 8 };
// small(C, T) parameters: microseconds and words; fail_nth; body counts.
constexpr unsigned kWide = 0xf0, kWideLast = 240, kNth = 0xc0, kNthLast = 8, kCount = 0xe0, kCountLast = 32;
static_assert(kOpKinds <= 64, "headers 0x80..0xbf must reach every op");

// What decode and encode both track while walking a program.
struct Scope {
  std::vector<Ref> visible;  // threads in scope, definition order
  unsigned threads = 0, foreigns = 0, locks = 0, mailboxes = 0;
  size_t ops = 0;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  bool more() const { return pos_ < b_.size(); }
  uint8_t byte() { return pos_ < b_.size() ? b_[pos_++] : 0; }
  // small(C, T) above; past 16 leading digits the value wraps (encode
  // never writes more than 15).
  uint64_t small(unsigned c, unsigned t) {
    uint64_t q = 0;
    for (int i = 0; i < 16; ++i) {
      const uint8_t b = byte();
      if (b < c) return q * t + b % t;
      q = q * (256 - c) + (b - c);
    }
    return q * t;
  }

 private:
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
};

// The op decode makes of `k` in this scope (see the conversions above).
OpKind settle(OpKind k, const Scope& s, unsigned depth) {
  const OpInfo& info = op_info(k);
  if (info.operand == Operand::Thread || info.operand == Operand::AnyThread) {
    if (rules::choices(s.visible, info.operand).empty()) k = OpKind::Spawn;
  } else if (info.operand == Operand::Foreign) {
    if (rules::choices(s.visible, info.operand).empty()) k = OpKind::Foreign;
  }
  if (k == OpKind::Spawn && s.threads >= kMaxThreads) return OpKind::Yield;
  if (k == OpKind::Foreign && s.foreigns >= kMaxThreads) return OpKind::Yield;
  if (op_info(k).has_body && depth >= kMaxDepth) return OpKind::Yield;
  return k;
}

unsigned& counter(Scope& s, Res r) { return r == Res::Lock ? s.locks : s.mailboxes; }
unsigned limit(Res r) { return r == Res::Lock ? kMaxLocks : kMaxMailboxes; }
Res res_of(Operand o) { return o == Operand::Lock ? Res::Lock : Res::Mailbox; }

void define(Op& op, Scope& s) {
  const Res d = op_info(op.kind).defines;
  if (d == Res::None) return;
  unsigned& n = d == Res::Thread ? s.threads : s.foreigns;
  op.def = Ref{d, static_cast<uint16_t>(++n)};
  s.visible.push_back(op.def);
}

// ---- decode ---------------------------------------------------------------

void decode_ops(Reader& r, Scope& s, std::vector<Op>* out, unsigned depth, size_t max);

Props decode_props(Reader& r, const Scope& s) {
  Props p;
  const uint8_t f = r.byte();
  if ((f & kOn) && !s.visible.empty()) p.on = s.visible[r.byte() % s.visible.size()];
  p.async = (f & kAsync) != 0;
  if (f & kDelay) p.delay_us = static_cast<uint32_t>(1 + r.small(kWide, kWideLast) % rules::kDelayMaxUs);
  if (f & kFailNth) p.fail_nth = static_cast<uint8_t>(1 + r.small(kNth, kNthLast) % 255);
  return p;
}

Op decode_op(Reader& r, Scope& s, unsigned depth) {
  ++s.ops;
  const uint8_t h = r.byte();
  Op op;
  if (h & kPropsBit) op.props = decode_props(r, s);
  op.kind = settle(static_cast<OpKind>((h & ~kPropsBit & 0xff) % kOpKinds), s, depth);
  const OpInfo& info = op_info(op.kind);
  switch (info.operand) {
    case Operand::None: break;
    case Operand::Thread:
    case Operand::Foreign:
    case Operand::AnyThread: {
      const auto c = rules::choices(s.visible, info.operand);  // non-empty: settle()
      op.arg = c[r.byte() % c.size()];
      break;
    }
    case Operand::AnyThreadOrSelf: {
      const auto c = rules::choices(s.visible, info.operand);
      const size_t i = r.byte() % (c.size() + 1);
      if (i > 0) op.arg = c[i - 1];
      break;
    }
    case Operand::Lock:
    case Operand::Mailbox: {
      const Res kind = res_of(info.operand);
      unsigned& known = counter(s, kind);
      const unsigned options = known + (known < limit(kind) ? 1 : 0);
      const unsigned i = r.byte() % options;
      if (i == known) ++known;
      op.arg = Ref{kind, static_cast<uint16_t>(i + 1)};
      break;
    }
  }
  switch (op.kind) {
    case OpKind::Alloc: op.number = 1 + r.byte() % rules::kAllocMax; break;
    case OpKind::Send: op.number = r.small(kWide, kWideLast); break;
    case OpKind::Priority:
      op.number = static_cast<uint64_t>(int64_t(r.byte() % 17) + rules::kPriorityMin);
      break;
    case OpKind::Starve: op.number = 1 + r.small(kWide, kWideLast) % rules::kStarveMaxUs; break;
    default: break;
  }
  define(op, s);
  if (info.has_body) {
    const size_t n = static_cast<size_t>(r.small(kCount, kCountLast));
    if (op.kind == OpKind::Fork) {
      std::vector<Ref> saved;
      saved.swap(s.visible);
      decode_ops(r, s, &op.body, depth + 1, n);
      s.visible.swap(saved);
    } else {
      decode_ops(r, s, &op.body, depth + 1, n);
    }
  }
  return op;
}

void decode_ops(Reader& r, Scope& s, std::vector<Op>* out, unsigned depth, size_t max) {
  for (size_t i = 0; i < max && r.more() && s.ops < kMaxOps; ++i) out->push_back(decode_op(r, s, depth));
}

// ---- encode ---------------------------------------------------------------

// The shortest bytes small(c, t) reads back as v.
void put_small(std::vector<uint8_t>& b, uint64_t v, unsigned c, unsigned t) {
  uint8_t digits[16];
  int n = 0;
  for (uint64_t q = v / t; q > 0; q /= 256 - c) digits[n++] = static_cast<uint8_t>(c + q % (256 - c));
  while (n > 0) b.push_back(digits[--n]);
  b.push_back(static_cast<uint8_t>(v % t));
}

uint8_t index_of(const std::vector<Ref>& c, Ref r) {
  const auto it = std::find(c.begin(), c.end(), r);
  return static_cast<uint8_t>(it == c.end() ? 0 : it - c.begin());
}

uint8_t header(OpKind k, bool props) {
  const unsigned base = 0x80, off = (unsigned(k) + kOpKinds - base % kOpKinds) % kOpKinds;
  return static_cast<uint8_t>((base + off) | (props ? kPropsBit : 0));
}

void encode_ops(const std::vector<Op>& ops, Scope& s, std::vector<uint8_t>& b);

void encode_op(const Op& op, Scope& s, std::vector<uint8_t>& b) {
  const OpInfo& info = op_info(op.kind);
  const bool has_props = op.props != Props{};
  b.push_back(header(op.kind, has_props));
  if (has_props) {
    const Props& p = op.props;
    b.push_back(static_cast<uint8_t>((p.on.kind != Res::None ? kOn : 0) | (p.async ? kAsync : 0) |
                                     (p.delay_us ? kDelay : 0) | (p.fail_nth ? kFailNth : 0)));
    if (p.on.kind != Res::None) b.push_back(index_of(s.visible, p.on));
    if (p.delay_us) put_small(b, p.delay_us - 1, kWide, kWideLast);
    if (p.fail_nth) put_small(b, p.fail_nth - 1u, kNth, kNthLast);
  }
  switch (info.operand) {
    case Operand::None: break;
    case Operand::Thread:
    case Operand::Foreign:
    case Operand::AnyThread: b.push_back(index_of(rules::choices(s.visible, info.operand), op.arg)); break;
    case Operand::AnyThreadOrSelf:
      b.push_back(op.arg.kind == Res::None ? 0 : index_of(rules::choices(s.visible, info.operand), op.arg) + 1);
      break;
    case Operand::Lock:
    case Operand::Mailbox: {
      unsigned& known = counter(s, res_of(info.operand));
      const unsigned i = op.arg.n ? op.arg.n - 1u : 0u;
      if (i == known) ++known;
      b.push_back(static_cast<uint8_t>(i));
      break;
    }
  }
  switch (op.kind) {
    case OpKind::Alloc: b.push_back(static_cast<uint8_t>(op.number - 1)); break;
    case OpKind::Send: put_small(b, op.number, kWide, kWideLast); break;
    case OpKind::Priority:
      b.push_back(static_cast<uint8_t>(static_cast<int64_t>(op.number) - rules::kPriorityMin));
      break;
    case OpKind::Starve: put_small(b, op.number - 1, kWide, kWideLast); break;
    default: break;
  }
  if (info.defines != Res::None) {  // what define() does in decode, op.def as given
    ++(info.defines == Res::Thread ? s.threads : s.foreigns);
    s.visible.push_back(op.def);
  }
  if (info.has_body) {
    put_small(b, op.body.size(), kCount, kCountLast);
    if (op.kind == OpKind::Fork) {
      std::vector<Ref> saved;
      saved.swap(s.visible);
      encode_ops(op.body, s, b);
      s.visible.swap(saved);
    } else {
      encode_ops(op.body, s, b);
    }
  }
}

void encode_ops(const std::vector<Op>& ops, Scope& s, std::vector<uint8_t>& b) {
  for (const Op& op : ops) encode_op(op, s, b);
}

}  // namespace

Program decode(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  Scope s;
  Program p;
  decode_ops(r, s, &p.ops, 0, SIZE_MAX);
  return p;
}

std::vector<uint8_t> encode(const Program& p) {
  const Program c = canonical(p);
  Scope s;
  std::vector<uint8_t> b;
  encode_ops(c.ops, s, b);
  return b;
}

}  // namespace threadlab::fuzz
