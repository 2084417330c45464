// rules.h — the value rules program.h states in words, in one place for
// check(), the binary codec and the text codec (internal to fuzz/prog).
//
// Invariants: number_ok(k, v) is the range program.h gives for op k's
// number (0 for ops without one); the codecs map bytes and text into these
// ranges only, so every program they build passes check().
#pragma once

#include <threadlab/fuzz/program.h>

#include <cstdint>
#include <vector>

namespace threadlab::fuzz::rules {

inline constexpr uint64_t kAllocMax = 64;            // alloc 1..64
inline constexpr int64_t kPriorityMin = -8, kPriorityMax = 8;
inline constexpr uint64_t kStarveMaxUs = 20000;      // starve 1..20000 us
inline constexpr uint32_t kDelayMaxUs = 20000;       // delay 0..20000 us
inline constexpr unsigned kMaxName = 65535;          // tN: N in 1..65535

inline bool number_ok(OpKind k, uint64_t v) {
  switch (k) {
    case OpKind::Alloc: return v >= 1 && v <= kAllocMax;
    case OpKind::Send: return true;
    case OpKind::Priority: {
      const auto s = static_cast<int64_t>(v);
      return s >= kPriorityMin && s <= kPriorityMax;
    }
    case OpKind::Starve: return v >= 1 && v <= kStarveMaxUs;
    default: return v == 0;
  }
}

inline bool valid_kind(OpKind k) { return static_cast<unsigned>(k) < kOpKinds; }

inline char letter(Res r) {
  switch (r) {
    case Res::Thread: return 't';
    case Res::Foreign: return 'f';
    case Res::Lock: return 'l';
    case Res::Mailbox: return 'm';
    default: return '?';
  }
}

// Whether a resource of kind r may be the operand o.
inline bool operand_fits(Operand o, Res r) {
  switch (o) {
    case Operand::None: return r == Res::None;
    case Operand::Thread: return r == Res::Thread;
    case Operand::Foreign: return r == Res::Foreign;
    case Operand::Lock: return r == Res::Lock;
    case Operand::Mailbox: return r == Res::Mailbox;
    case Operand::AnyThread: return r == Res::Thread || r == Res::Foreign;
    case Operand::AnyThreadOrSelf: return r == Res::None || r == Res::Thread || r == Res::Foreign;
  }
  return false;
}

// The threads in scope, in definition order, narrowed to what operand o
// takes (t, f or both).
inline std::vector<Ref> choices(const std::vector<Ref>& visible, Operand o) {
  std::vector<Ref> out;
  for (const Ref& r : visible)
    if (r.kind != Res::None && operand_fits(o, r.kind)) out.push_back(r);
  return out;
}

}  // namespace threadlab::fuzz::rules
