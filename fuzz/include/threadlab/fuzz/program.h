// program.h — the op program: what one fuzz input means.
//
// A program is a list of operations on threads, locks, mailboxes and the
// runtime as a whole, written one a line in its text form:
//
//     t1 = spawn
//     f1 = foreign
//     callback f1
//     lock l1 (on: t1)
//     send m1 7 (on: f1, async)
//     without_gc {
//       collect (delay: 50us)
//     }
//     fork {
//       t2 = spawn
//     }
//     kill t1 (fail_nth: 2)
//
// Invariants (every Program value the library hands out keeps them; the
// codec's decode() and parse_text() only ever produce such programs):
//   - Resources are threads the program spawned (`t`), foreign threads it
//     made (`f`), locks (`l`) and mailboxes (`m`). A thread is defined by
//     the op that binds it (`t1 = spawn`, `f1 = foreign`) before any use;
//     locks and mailboxes come into being at their first mention.
//   - Names are numbered from 1 in order of definition (first mention for
//     locks and mailboxes) in the canonical form; canonical() renumbers.
//     A round trip text -> bytes -> text is the identity on canonical text.
//     decode() and parse_text() return canonical programs; check() accepts
//     any numbering (a name is at most 65535).
//   - A thread name is defined once in the whole program (fork bodies
//     included) and stays defined after `exit`, `join` or `kill` of that
//     thread: validity does not track thread lifetimes; what an op on an
//     ended thread does is the interpreter's to decide. Locks and mailboxes
//     are program-wide (a fork child sees the parent's).
//   - An op runs on the main thread unless `on:` names a live t or f thread;
//     an op aimed at another thread is delivered to that thread and runs
//     there, concurrently with the main thread (`async`: the main thread
//     does not wait for it).
//   - A `fork { ... }` body runs in the child on the forking thread only:
//     inside it no op may name a thread from outside (they do not exist in
//     the child); it defines threads of its own, numbered on from the
//     enclosing ones, which exist only in the child (after the body the
//     parent numbers on from them). `without_gc { ... }` and
//     `blocking { ... }` bodies run on the thread that runs the block op;
//     threads they define stay in scope after them.
//   - A body op's body is at depth (enclosing bodies + 1) <= kMaxDepth.
//   - Limits: kMaxOps ops in all (bodies included), kMaxThreads threads of
//     each kind, bodies nested at most kMaxDepth deep. decode() and
//     parse_text() stay within them (parse_text says which was exceeded).
//   - This library knows nothing of any runtime: the meaning of each op is
//     the interpreter's (interpreter.h), through the adapter ABI.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace threadlab::fuzz {

inline constexpr size_t kMaxOps = 256;
inline constexpr unsigned kMaxThreads = 16;  // of each kind, t and f
inline constexpr unsigned kMaxLocks = 8;
inline constexpr unsigned kMaxMailboxes = 4;
inline constexpr unsigned kMaxDepth = 3;

enum class Res : uint8_t { None = 0, Thread, Foreign, Lock, Mailbox };

// A name: kind and number (1-based). {None, 0} is "no resource" — for `on:`
// it means the main thread.
struct Ref {
  Res kind = Res::None;
  uint16_t n = 0;
  friend bool operator==(const Ref&, const Ref&) = default;
};

// The operations. Each line is: enum, text name, what it defines, the
// resource kind of its operand (None: no operand; "any thread" ops take a
// Thread or Foreign), whether it takes a number, and whether it has a body.
// New ops go at the end (the binary encoding picks ops by index).
#define TL_FUZZ_OPS(X)                                                             \
  X(Spawn, "spawn", Thread, None, false, false)       /* tN = spawn */            \
  X(Foreign, "foreign", Foreign, None, false, false)  /* fN = foreign */          \
  X(Callback, "callback", None, Foreign, false, false) /* f enters and leaves */  \
  X(Exit, "exit", None, AnyThread, false, false)      /* the thread returns */    \
  X(Join, "join", None, Thread, false, false)                                     \
  X(Kill, "kill", None, Thread, false, false)                                     \
  X(Interrupt, "interrupt", None, Thread, false, false)                           \
  X(SuspendAll, "suspend_all", None, None, false, false)                          \
  X(ResumeAll, "resume_all", None, None, false, false)                            \
  X(Collect, "collect", None, None, false, false)                                 \
  X(Alloc, "alloc", None, None, true, false)          /* alloc N objects */       \
  X(WithoutGc, "without_gc", None, None, false, true)                             \
  X(Blocking, "blocking", None, None, false, true)                                \
  X(Fork, "fork", None, None, false, true)                                        \
  X(Overflow, "overflow", None, AnyThreadOrSelf, false, false)                    \
  X(BarrierFault, "barrier_fault", None, None, false, false)                      \
  X(Lock, "lock", None, Lock, false, false)                                       \
  X(Unlock, "unlock", None, Lock, false, false)                                   \
  X(Send, "send", None, Mailbox, true, false)         /* send mN WORD */          \
  X(Receive, "receive", None, Mailbox, false, false)                              \
  X(Yield, "yield", None, None, false, false)                                     \
  X(Safepoint, "safepoint", None, None, false, false)                             \
  X(Priority, "priority", None, AnyThread, true, false) /* PCT change point */    \
  X(Starve, "starve", None, AnyThread, true, false)   /* park N us (chaos) */

// Operand kinds beyond Res: AnyThread is a t or an f; AnyThreadOrSelf the
// same or nothing (the thread running the op).
enum class Operand : uint8_t { None, Thread, Foreign, Lock, Mailbox, AnyThread, AnyThreadOrSelf };

#define TL_FUZZ_OP_ENUM_(E, name, def, operand, num, body) E,
enum class OpKind : uint8_t { TL_FUZZ_OPS(TL_FUZZ_OP_ENUM_) };
#undef TL_FUZZ_OP_ENUM_
#define TL_FUZZ_OP_ONE_(E, name, def, operand, num, body) +1
inline constexpr unsigned kOpKinds = 0 TL_FUZZ_OPS(TL_FUZZ_OP_ONE_);
#undef TL_FUZZ_OP_ONE_

struct OpInfo {
  OpKind kind;
  const char* name;
  Res defines;      // None, Thread or Foreign
  Operand operand;
  bool has_number;  // Alloc: objects (1..64), Send: the word, Priority: -8..8
                    // (as uint64 two's complement), Starve: microseconds (1..20000)
  bool has_body;
};
const OpInfo& op_info(OpKind k);
// nullptr when no op has this text name.
const OpInfo* op_by_name(std::string_view name);

// Per-op properties, syzkaller style: `(on: t1, async, delay: 50us, fail_nth: 2)`.
struct Props {
  Ref on;                 // thread that runs the op; None: the enclosing thread
  bool async = false;     // the issuer does not wait for it to finish
  uint32_t delay_us = 0;  // sleep before the op (0..20000: a perturbation, not a wait)
  uint8_t fail_nth = 0;   // 0: none; N: the op's N-th OS call fails (1..255)
  friend bool operator==(const Props&, const Props&) = default;
};

struct Op {
  OpKind kind = OpKind::Yield;
  Ref def;               // what it binds (Spawn, Foreign)
  Ref arg;               // its operand
  uint64_t number = 0;   // when op_info(kind).has_number
  Props props;
  std::vector<Op> body;  // when op_info(kind).has_body
  friend bool operator==(const Op&, const Op&) = default;
};

struct Program {
  std::vector<Op> ops;
  friend bool operator==(const Program&, const Program&) = default;
};

// ---- codec (codec_binary.cpp, codec_text.cpp) ---------------------------
// Every byte string decodes to a valid program (total: no input is
// rejected; trailing bytes past the limits are ignored).
Program decode(std::span<const uint8_t> bytes);
// Bytes that decode() maps back to canonical(p).
std::vector<uint8_t> encode(const Program& p);

// The text form, canonical when p is canonical; ends with a newline.
std::string to_text(const Program& p);

struct ParseError {
  unsigned line = 0, column = 0;  // 1-based
  std::string message;            // names what was wrong
};
// Parses the text form; on failure returns false and fills *err. '#' starts
// a comment; blank lines are ignored.
bool parse_text(std::string_view text, Program* out, ParseError* err);

// Same program with names renumbered in order of definition.
Program canonical(const Program& p);
// "" when p keeps the invariants above, else what it breaks.
std::string check(const Program& p);
// Number of ops, bodies included.
size_t op_count(const Program& p);

}  // namespace threadlab::fuzz

namespace threadlab::fuzz {
// ---- files (program_file.cpp) --------------------------------------------
// Reads a program from a file: a file of printable ASCII and whitespace is
// the text form (a parse error is reported with the file name, line and
// column); anything else is the binary encoding (decode, never an error).
// "-" reads standard input. *err names the file and what was wrong.
bool load_program(const std::string& path, Program* out, std::string* err);
}  // namespace threadlab::fuzz
