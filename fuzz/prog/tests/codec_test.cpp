// codec_test.cpp — the op-program format: text and binary round trips,
// totality of decode on random and edge-case input, parse errors with
// their exact line and column, canonical renumbering, limits, check(),
// load_program, the seed corpus's coverage and the dictionary's sync.
//
// Invariants: deterministic (fixed seeds, no sleeps, no threads); the
// dictionary test prints the expected fuzz/dict/ops.dict on mismatch and
// rewrites it when TL_UPDATE_DICT=1.
#include <threadlab/fuzz/program.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace tf = threadlab::fuzz;
using tf::OpKind;
using tf::Program;
using tf::Ref;
using tf::Res;

namespace {

Program parse_ok(const std::string& text) {
  Program p;
  tf::ParseError e;
  EXPECT_TRUE(tf::parse_text(text, &p, &e)) << e.line << ":" << e.column << ": " << e.message << "\n" << text;
  return p;
}

// The round trips every valid canonical program must survive.
void expect_round_trips(const Program& p) {
  ASSERT_EQ(tf::check(p), "");
  ASSERT_EQ(tf::canonical(p), p);
  const std::vector<uint8_t> bytes = tf::encode(p);
  EXPECT_EQ(tf::decode(bytes), p) << tf::to_text(p);
  const std::string text = tf::to_text(p);
  Program back;
  tf::ParseError e;
  ASSERT_TRUE(tf::parse_text(text, &back, &e)) << e.line << ":" << e.column << ": " << e.message << "\n" << text;
  EXPECT_EQ(back, p) << text;
  EXPECT_EQ(tf::to_text(back), text);
}

const char kExample[] = R"(t1 = spawn
f1 = foreign
callback f1
lock l1 (on: t1)
send m1 7 (on: f1, async)
without_gc {
  collect (delay: 50us)
}
fork {
  t2 = spawn
  join t2
}
kill t1 (fail_nth: 2)
)";

TEST(TextCodec, CanonicalTextRoundTripsUnchanged) {
  const Program p = parse_ok(kExample);
  EXPECT_EQ(tf::to_text(p), kExample);
  expect_round_trips(p);
  EXPECT_EQ(tf::op_count(p), 11u);
}

TEST(TextCodec, EveryOpAndPropertyRoundTrips) {
  const std::string text = R"(t1 = spawn (fail_nth: 1)
f1 = foreign (on: t1, async, delay: 20000us, fail_nth: 255)
callback f1
exit f1
join t1 (async)
kill t1
interrupt t1
suspend_all
resume_all
collect
alloc 64
without_gc {
  blocking {
    fork {
      t2 = spawn
      overflow t2
    }
  }
}
overflow
overflow f1 (on: t1)
barrier_fault
lock l1
unlock l1
send m1 18446744073709551615
receive m1
yield
safepoint
priority t1 -8
priority f1 8
starve t1 20000
starve f1 1
)";
  const Program p = parse_ok(text);
  EXPECT_EQ(tf::to_text(p), text);
  expect_round_trips(p);
}

TEST(TextCodec, CommentsBlankLinesUnitsAndEmptyBodies) {
  const Program p = parse_ok(
      "# a comment\n\n   t1 = spawn   # trailing\n\tstarve t1 5ms\nyield (delay: 2ms)\nfork {}\nblocking { }\n"
      "priority t1 +3\nstarve t1 7us");
  EXPECT_EQ(tf::to_text(p),
            "t1 = spawn\nstarve t1 5000\nyield (delay: 2000us)\nfork {\n}\nblocking {\n}\npriority t1 3\nstarve t1 7\n");
  expect_round_trips(p);
}

TEST(TextCodec, EmptyTextIsTheEmptyProgram) {
  EXPECT_EQ(parse_ok(""), Program{});
  EXPECT_EQ(parse_ok("\n# only a comment\n\n"), Program{});
  EXPECT_EQ(tf::to_text(Program{}), "");
}

TEST(Canonical, RenumbersInOrderOfDefinitionAndFirstMention) {
  const Program p = parse_ok(
      "t5 = spawn\nt2 = spawn\nf9 = foreign\nlock l7\nlock l3\nunlock l7\njoin t2 (on: f9)\nsend m4 1\n"
      "fork {\n  t9 = spawn\n}\nt3 = spawn\n");
  EXPECT_EQ(tf::to_text(p),
            "t1 = spawn\nt2 = spawn\nf1 = foreign\nlock l1\nlock l2\nunlock l1\njoin t2 (on: f1)\nsend m1 1\n"
            "fork {\n  t3 = spawn\n}\nt4 = spawn\n");
  expect_round_trips(p);

  // canonical() on a hand-built program, and idempotence.
  Program raw;
  raw.ops.push_back({OpKind::Spawn, Ref{Res::Thread, 40}, {}, 0, {}, {}});
  raw.ops.push_back({OpKind::Kill, {}, Ref{Res::Thread, 40}, 0, {}, {}});
  raw.ops.push_back({OpKind::Lock, {}, Ref{Res::Lock, 6}, 0, {}, {}});
  EXPECT_EQ(tf::check(raw), "");  // any numbering is valid
  const Program c = tf::canonical(raw);
  EXPECT_EQ(c.ops[0].def, (Ref{Res::Thread, 1}));
  EXPECT_EQ(c.ops[1].arg, (Ref{Res::Thread, 1}));
  EXPECT_EQ(c.ops[2].arg, (Ref{Res::Lock, 1}));
  EXPECT_EQ(tf::canonical(c), c);
  EXPECT_EQ(tf::decode(tf::encode(raw)), c);
}

TEST(Names, StayUsableAfterExitJoinKill) {
  expect_round_trips(parse_ok("t1 = spawn\nexit t1\njoin t1\nkill t1\ninterrupt t1 (on: t1)\n"));
}

struct BadText {
  const char* text;
  unsigned line, column;
  const char* needle;
};

class ParseErrors : public testing::TestWithParam<BadText> {};

TEST_P(ParseErrors, NameLineColumnAndWhat) {
  const BadText& c = GetParam();
  Program p;
  tf::ParseError e;
  ASSERT_FALSE(tf::parse_text(c.text, &p, &e)) << c.text;
  EXPECT_EQ(e.line, c.line) << e.message;
  EXPECT_EQ(e.column, c.column) << e.message;
  EXPECT_NE(e.message.find(c.needle), std::string::npos) << e.message;
}

INSTANTIATE_TEST_SUITE_P(
    Classes, ParseErrors,
    testing::Values(BadText{"t1 = spawn\nfrobnicate t1\n", 2, 1, "unknown op `frobnicate`"},
                    BadText{"join t3\n", 1, 6, "undefined name t3"},
                    BadText{"t1 = spawn\nt1 = spawn\n", 2, 1, "name defined twice: t1 (first at line 1)"},
                    BadText{"f1 = foreign\njoin f1\n", 2, 6, "wrong operand kind"},
                    BadText{"t1 = spawn\ncallback t1\n", 2, 10, "wrong operand kind"},
                    BadText{"f1 = spawn\n", 1, 1, "wrong operand kind"},
                    BadText{"lock m1\n", 1, 6, "wrong operand kind"},
                    BadText{"t1 = spawn\nyield (on: l1)\n", 2, 12, "wrong operand kind"},
                    BadText{"alloc 65\n", 1, 7, "number out of range"},
                    BadText{"alloc 0\n", 1, 7, "number out of range"},
                    BadText{"t1 = spawn\npriority t1 9\n", 2, 13, "number out of range"},
                    BadText{"t1 = spawn\nstarve t1 100001\n", 2, 11, "number out of range"},
                    BadText{"t1 = spawn\nstarve t1 0\n", 2, 11, "number out of range"},
                    BadText{"send m1 18446744073709551616\n", 1, 9, "number out of range"},
                    BadText{"send m1 -1\n", 1, 9, "number out of range"},
                    BadText{"yield (delay: 2000000us)\n", 1, 15, "number out of range"},
                    BadText{"yield (fail_nth: 0)\n", 1, 18, "number out of range"},
                    BadText{"yield (fail_nth: 256)\n", 1, 18, "number out of range"},
                    BadText{"lock l70000\n", 1, 6, "number out of range"},
                    BadText{"without_gc {\n  collect\n", 1, 12, "unclosed block"},
                    BadText{"fork {\n  blocking {\n  }\n", 1, 6, "unclosed block"},
                    BadText{"collect\n}\n", 2, 1, "stray `}`"},
                    BadText{"fork {\nfork {\nfork {\nfork {\n}\n}\n}\n}\n", 4, 6, "limit exceeded: bodies nested"},
                    BadText{"lock l1\nlock l2\nlock l3\nlock l4\nlock l5\nlock l6\nlock l7\nlock l8\nlock l9\n", 9, 6,
                            "limit exceeded: more than 8 locks"},
                    BadText{"send m1 1\nsend m2 1\nsend m3 1\nsend m4 1\nreceive m5\n", 5, 9,
                            "limit exceeded: more than 4 mailboxes"},
                    BadText{"yield (bogus)\n", 1, 8, "unknown property `bogus`"},
                    BadText{"yield (async, async)\n", 1, 15, "given twice"},
                    BadText{"yield (delay 5)\n", 1, 14, "expected `:`"},
                    BadText{"yield (async\n", 1, 13, "`,` or `)`"},
                    BadText{"t1 = spawn\nfork {\n  join t1\n}\n", 3, 8, "thread from outside used inside a fork body"},
                    BadText{"t1 = spawn\nfork {\n  yield (on: t1)\n}\n", 3, 14, "thread from outside"},
                    BadText{"fork {\n  t1 = spawn\n}\njoin t1\n", 4, 6, "exists only in the fork child"},
                    BadText{"fork\n", 1, 5, "needs a body"},
                    BadText{"collect {\n}\n", 1, 9, "takes no body"},
                    BadText{"spawn\n", 1, 1, "binds a name"},
                    BadText{"t1 = collect\n", 1, 1, "defines no name"},
                    BadText{"yield $\n", 1, 7, "unexpected character"},
                    BadText{"collect now\n", 1, 9, "unexpected `now`"},
                    BadText{"lock l0\n", 1, 6, "numbered from 1"},
                    BadText{"lock\n", 1, 5, "takes a lock"},
                    BadText{"alloc\n", 1, 6, "takes a number"},
                    BadText{"alloc 5x\n", 1, 7, "number out of range"},
                    BadText{"t1 = spawn\nstarve t1 5s\n", 2, 11, "unknown unit"},
                    BadText{"# header\n\n  collect # c\nbogus\n", 4, 1, "unknown op"}));

TEST(Limits, OpsAndThreadsInText) {
  std::string many;
  for (size_t i = 0; i < tf::kMaxOps; ++i) many += "yield\n";
  EXPECT_EQ(tf::op_count(parse_ok(many)), tf::kMaxOps);
  many += "yield\n";
  tf::ParseError e;
  Program p;
  ASSERT_FALSE(tf::parse_text(many, &p, &e));
  EXPECT_EQ(e.line, tf::kMaxOps + 1);
  EXPECT_EQ(e.column, 1u);
  EXPECT_NE(e.message.find("limit exceeded: more than 256 ops"), std::string::npos) << e.message;

  std::string threads;
  for (unsigned i = 1; i <= tf::kMaxThreads; ++i) threads += "f" + std::to_string(i) + " = foreign\n";
  parse_ok(threads);
  threads += "f99 = foreign\n";
  ASSERT_FALSE(tf::parse_text(threads, &p, &e));
  EXPECT_EQ(e.line, tf::kMaxThreads + 1);
  EXPECT_EQ(e.column, 1u);
  EXPECT_NE(e.message.find("limit exceeded: more than 16 f threads"), std::string::npos) << e.message;

  // Body ops count: a body op and its ops together.
  std::string nested = "blocking {\n";
  for (size_t i = 0; i < tf::kMaxOps - 1; ++i) nested += "  yield\n";
  EXPECT_EQ(tf::op_count(parse_ok(nested + "}\n")), tf::kMaxOps);
  ASSERT_FALSE(tf::parse_text(nested + "  yield\n}\n", &p, &e));
  EXPECT_EQ(e.line, tf::kMaxOps + 1);
}

TEST(Check, RejectsWhatBreaksTheInvariants) {
  auto op = [](OpKind k, Ref def = {}, Ref arg = {}, uint64_t n = 0) {
    tf::Op o;
    o.kind = k;
    o.def = def;
    o.arg = arg;
    o.number = n;
    return o;
  };
  const Ref t1{Res::Thread, 1};
  auto bad = [](std::vector<tf::Op> ops) { return tf::check(Program{std::move(ops)}); };
  EXPECT_EQ(bad({op(OpKind::Spawn, t1), op(OpKind::Join, {}, t1)}), "");
  EXPECT_NE(bad({op(OpKind::Join, {}, t1)}), "");                                     // undefined
  EXPECT_NE(bad({op(OpKind::Spawn, t1), op(OpKind::Spawn, t1)}), "");                 // twice
  EXPECT_NE(bad({op(OpKind::Spawn)}), "");                                            // binds nothing
  EXPECT_NE(bad({op(OpKind::Collect, t1)}), "");                                      // binds, defines nothing
  EXPECT_NE(bad({op(OpKind::Spawn, Ref{Res::Foreign, 1})}), "");                      // wrong kind
  EXPECT_NE(bad({op(OpKind::Lock, {}, Ref{Res::Mailbox, 1})}), "");                   // wrong operand kind
  EXPECT_NE(bad({op(OpKind::Lock, {}, Ref{Res::Lock, 0})}), "");                      // number 0
  EXPECT_NE(bad({op(OpKind::Alloc, {}, {}, 0)}), "");                                 // out of range
  EXPECT_NE(bad({op(OpKind::Collect, {}, {}, 1)}), "");                               // number on a numberless op
  EXPECT_NE(bad({op(OpKind::Spawn, t1), op(OpKind::Priority, {}, t1, uint64_t(-9))}), "");
  EXPECT_EQ(bad({op(OpKind::Spawn, t1), op(OpKind::Priority, {}, t1, uint64_t(-8))}), "");
  EXPECT_NE(bad({op(OpKind::Yield, {}, t1)}), "");                                    // operand on yield
  EXPECT_EQ(bad({op(OpKind::Collect)}), "");

  tf::Op with_body = op(OpKind::Collect);
  with_body.body.push_back(op(OpKind::Yield));
  EXPECT_NE(bad({with_body}), "");

  tf::Op fork = op(OpKind::Fork);
  fork.body.push_back(op(OpKind::Join, {}, t1));
  EXPECT_NE(bad({op(OpKind::Spawn, t1), fork}), "");  // outside thread in a fork body

  tf::Op on_lock = op(OpKind::Yield);
  on_lock.props.on = Ref{Res::Lock, 1};
  EXPECT_NE(bad({on_lock}), "");
  tf::Op late = op(OpKind::Yield);
  late.props.delay_us = 20001;
  EXPECT_NE(bad({late}), "");

  tf::Op deep = op(OpKind::Blocking);
  for (unsigned i = 0; i < tf::kMaxDepth; ++i) {
    tf::Op outer = op(OpKind::Blocking);
    outer.body.push_back(deep);
    deep = outer;
  }
  EXPECT_NE(bad({deep}), "");  // kMaxDepth + 1 nested bodies
  EXPECT_EQ(bad({deep.body[0]}), "");

  EXPECT_EQ(bad(std::vector<tf::Op>(tf::kMaxOps, op(OpKind::Yield))), "");
  EXPECT_NE(bad(std::vector<tf::Op>(tf::kMaxOps + 1, op(OpKind::Yield))), "");
  EXPECT_NE(bad({op(static_cast<OpKind>(200))}), "");
}

// ---- binary ----------------------------------------------------------------

std::vector<uint8_t> bytes_of(const std::string& text) { return tf::encode(parse_ok(text)); }

TEST(Binary, HandWrittenProgramsRoundTrip) {
  expect_round_trips(parse_ok(kExample));
  expect_round_trips(parse_ok("t1 = spawn\nt2 = spawn\nf1 = foreign\nf2 = foreign\nexit f2\nexit t2\noverflow t2 (on: f2)\n"
                              "priority f1 -1\nstarve t2 19999\nsend m1 300 (delay: 128us)\nsend m2 0\nreceive m1\n"));
  const std::vector<uint8_t> b = bytes_of(kExample);
  ASSERT_FALSE(b.empty());
  EXPECT_GE(b[0], 0x80);  // never taken for text by load_program
}

TEST(Binary, EmptyInputIsTheEmptyProgram) {
  EXPECT_EQ(tf::decode({}), Program{});
  EXPECT_TRUE(tf::encode(Program{}).empty());
}

TEST(Binary, AnOpWithNothingToNameBecomesItsDefiningOp) {
  const std::vector<uint8_t> join = bytes_of("t1 = spawn\njoin t1\n");
  ASSERT_EQ(join.size(), 3u);  // spawn header, join header, operand
  const uint8_t j = join[1];
  EXPECT_EQ(tf::to_text(tf::decode(std::vector<uint8_t>{j})), "t1 = spawn\n");
  EXPECT_EQ(tf::to_text(tf::decode(std::vector<uint8_t>{j, j, 0})), "t1 = spawn\njoin t1\n");
  const uint8_t cb = bytes_of("f1 = foreign\ncallback f1\n")[1];
  EXPECT_EQ(tf::to_text(tf::decode(std::vector<uint8_t>{cb})), "f1 = foreign\n");
  // A lock operand picks a known lock or the next new one.
  const uint8_t lk = bytes_of("lock l1\n")[0];
  EXPECT_EQ(tf::to_text(tf::decode(std::vector<uint8_t>{lk, 7, lk, 0, lk, 3})), "lock l1\nlock l1\nlock l2\n");
}

unsigned depth(const std::vector<tf::Op>& ops) {
  unsigned d = 0;
  for (const auto& op : ops)
    if (tf::op_info(op.kind).has_body) d = std::max(d, 1 + depth(op.body));
  return d;
}

TEST(Binary, DefinitionsStopAtTheLimitAndBodiesAtTheDepth) {
  const uint8_t spawn = bytes_of("t1 = spawn\n")[0];
  const Program p = tf::decode(std::vector<uint8_t>(100, spawn));
  ASSERT_EQ(p.ops.size(), 100u);
  for (size_t i = 0; i < p.ops.size(); ++i) EXPECT_EQ(p.ops[i].kind, i < tf::kMaxThreads ? OpKind::Spawn : OpKind::Yield);
  const uint8_t fork = bytes_of("fork {\n}\n")[0];
  std::vector<uint8_t> nest;
  for (int i = 0; i < 10; ++i) nest.insert(nest.end(), {fork, 31});  // 31: a one-byte count
  const Program d = tf::decode(nest);
  EXPECT_EQ(tf::check(d), "");
  EXPECT_EQ(depth(d.ops), tf::kMaxDepth);  // the fourth fork became a yield
  ASSERT_FALSE(d.ops.empty());
  EXPECT_EQ(d.ops[0].body.at(0).body.at(0).body.at(0).kind, OpKind::Yield);
}

void expect_valid_decode(const std::vector<uint8_t>& b) {
  const Program p = tf::decode(b);
  ASSERT_EQ(tf::check(p), "");
  ASSERT_LE(tf::op_count(p), tf::kMaxOps);
  ASSERT_EQ(tf::canonical(p), p);
  ASSERT_EQ(tf::decode(tf::encode(p)), p);
  Program back;
  tf::ParseError e;
  ASSERT_TRUE(tf::parse_text(tf::to_text(p), &back, &e)) << e.line << ":" << e.column << ": " << e.message;
  ASSERT_EQ(back, p);
}

void tally_delays(const std::vector<tf::Op>& ops, size_t* all, size_t* long_ones) {
  for (const auto& op : ops) {
    *all += op.props.delay_us != 0;
    *long_ones += op.props.delay_us > 10000;
    tally_delays(op.body, all, long_ones);
  }
}

TEST(Binary, ThousandsOfRandomInputsDecodeToValidProgramsThatRoundTrip) {
  std::mt19937_64 rng(14);
  size_t ops = 0, with_body = 0, delays = 0, long_delays = 0;
  for (int i = 0; i < 4000; ++i) {
    std::vector<uint8_t> b(rng() % 600);
    for (auto& c : b) c = static_cast<uint8_t>(rng());
    // Half the inputs: small bytes, where operand and count bytes pick
    // early choices and bodies stay short (more structure, deeper nesting).
    if (i % 2)
      for (auto& c : b) c = static_cast<uint8_t>(rng() % 2 ? c : c % 4);
    SCOPED_TRACE(i);
    expect_valid_decode(b);
    const Program p = tf::decode(b);
    ops += tf::op_count(p);
    for (const auto& op : p.ops) with_body += !op.body.empty();
    tally_delays(p.ops, &delays, &long_delays);
  }
  EXPECT_GT(ops, 4000u * 20);  // inputs are not mostly wasted
  EXPECT_GT(with_body, 100u);
  // Random bytes mostly give short delays (small() numbers): fuzz runs are
  // not spent sleeping.
  EXPECT_GT(delays, 1000u);
  EXPECT_LT(long_delays * 10, delays) << long_delays << " of " << delays << " delays over 10ms";
}

TEST(Binary, OneMebibyteInputs) {
  std::mt19937 rng(1);
  std::vector<uint8_t> big(1 << 20);
  for (auto& c : big) c = static_cast<uint8_t>(rng());
  expect_valid_decode(big);
  EXPECT_EQ(tf::op_count(tf::decode(big)), tf::kMaxOps);
  expect_valid_decode(std::vector<uint8_t>(1 << 20, 0));
  expect_valid_decode(std::vector<uint8_t>(1 << 20, 0xff));
}

TEST(TextCodec, MutatedTextEitherParsesToAValidProgramOrNamesAPlaceInIt) {
  // Seeds: every decoded-random program's text; mutations: splice in
  // fragments of the grammar, delete or duplicate a span, swap two lines.
  const std::vector<std::string> bits = {"t1", "t2", "f1", "l1", "m1", " = ", "spawn", "fork {", "}", "{", "\n",
                                         "(", ")", "on: ", "async", ", ", "delay: ", "7", "-3", "100ms", "#", " ",
                                         "join", "kill", "lock", "send", "receive", "callback", "exit", "\t", "0"};
  std::mt19937_64 rng(7);
  size_t parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> b(rng() % 200);
    for (auto& c : b) c = static_cast<uint8_t>(rng() % 2 ? rng() : rng() % 4);
    std::string text = tf::to_text(tf::decode(b));
    for (int m = 0, n = 1 + int(rng() % 4); m < n; ++m) {
      const size_t at = text.empty() ? 0 : rng() % (text.size() + 1);
      switch (rng() % 3) {
        case 0: text.insert(at, bits[rng() % bits.size()]); break;
        case 1: text.erase(at, rng() % 12); break;
        default: text.insert(at, text.substr(at, rng() % 40)); break;
      }
    }
    SCOPED_TRACE(text);
    Program p;
    tf::ParseError e;
    if (tf::parse_text(text, &p, &e)) {
      ++parsed;
      ASSERT_EQ(tf::check(p), "");
      ASSERT_EQ(tf::canonical(p), p);
      ASSERT_EQ(tf::decode(tf::encode(p)), p);
      Program back;
      ASSERT_TRUE(tf::parse_text(tf::to_text(p), &back, &e)) << e.message;
      ASSERT_EQ(back, p);
    } else {
      const size_t lines = size_t(std::count(text.begin(), text.end(), '\n')) + 1;
      ASSERT_GE(e.line, 1u);
      ASSERT_LE(e.line, lines);
      ASSERT_GE(e.column, 1u);
      ASSERT_FALSE(e.message.empty());
      ASSERT_EQ(e.message.find("internal"), std::string::npos) << e.message;
    }
  }
  EXPECT_GT(parsed, 30u);  // both outcomes are exercised
  EXPECT_GT(3000 - parsed, 1000u);
}

// ---- files ----------------------------------------------------------------

std::string write_temp(const std::string& name, const std::string& content) {
  const std::string path = testing::TempDir() + "/tl_fuzz_codec_" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(LoadProgram, TextBinaryErrorsAndMissingFiles) {
  Program p;
  std::string err;
  ASSERT_TRUE(tf::load_program(write_temp("a.txt", kExample), &p, &err)) << err;
  EXPECT_EQ(tf::to_text(p), kExample);

  const std::vector<uint8_t> b = bytes_of(kExample);
  ASSERT_TRUE(tf::load_program(write_temp("a.bin", std::string(b.begin(), b.end())), &p, &err)) << err;
  EXPECT_EQ(tf::to_text(p), kExample);

  const std::string bad = write_temp("bad.txt", "t1 = spawn\n\n  join t2\n");
  EXPECT_FALSE(tf::load_program(bad, &p, &err));
  EXPECT_EQ(err.rfind(bad + ":3:8: undefined name t2", 0), 0u) << err;

  const std::string missing = testing::TempDir() + "/tl_fuzz_codec_no_such_file";
  std::remove(missing.c_str());
  EXPECT_FALSE(tf::load_program(missing, &p, &err));
  EXPECT_NE(err.find(missing), std::string::npos) << err;

  ASSERT_TRUE(tf::load_program(write_temp("empty", ""), &p, &err)) << err;
  EXPECT_EQ(p, Program{});
  // One non-text byte makes it binary: never an error.
  ASSERT_TRUE(tf::load_program(write_temp("junk", "join t9\x01\xfe"), &p, &err)) << err;
  EXPECT_EQ(tf::check(p), "");
}

// ---- corpus and dictionary ---------------------------------------------------

void collect(const std::vector<tf::Op>& ops, std::set<OpKind>* kinds, std::set<std::string>* props) {
  for (const auto& op : ops) {
    kinds->insert(op.kind);
    if (op.props.on.kind != Res::None) props->insert("on");
    if (op.props.async) props->insert("async");
    if (op.props.delay_us) props->insert("delay");
    if (op.props.fail_nth) props->insert("fail_nth");
    collect(op.body, kinds, props);
  }
}

TEST(Corpus, ParsesRoundTripsAndCoversEveryOpAndProperty) {
  std::set<OpKind> kinds;
  std::set<std::string> props;
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(TL_FUZZ_CORPUS_DIR)) {
    if (entry.path().extension() != ".txt") continue;
    ++files;
    SCOPED_TRACE(entry.path().string());
    Program p;
    std::string err;
    ASSERT_TRUE(tf::load_program(entry.path().string(), &p, &err)) << err;
    EXPECT_GT(p.ops.size(), 0u);
    expect_round_trips(p);
    collect(p.ops, &kinds, &props);
  }
  EXPECT_GE(files, 12u);
  for (unsigned k = 0; k < tf::kOpKinds; ++k)
    EXPECT_TRUE(kinds.count(static_cast<OpKind>(k))) << "no corpus program uses " << tf::op_info(static_cast<OpKind>(k)).name;
  for (const char* prop : {"on", "async", "delay", "fail_nth"})
    EXPECT_TRUE(props.count(prop)) << "no corpus program uses the property " << prop;
}

// Dictionary entries: an op (with common operands and properties) after a
// context that defines what it names; the entry is the op's own bytes.
std::string dictionary() {
  struct Entry {
    const char* name;
    const char* context;
    const char* op;
  };
  const std::vector<Entry> entries = {
      {"spawn", "", "t1 = spawn"},
      {"spawn_fail_nth_1", "", "t1 = spawn (fail_nth: 1)"},
      {"foreign", "", "f1 = foreign"},
      {"callback", "f1 = foreign", "callback f1"},
      {"exit_t1", "t1 = spawn", "exit t1"},
      {"join_t1", "t1 = spawn", "join t1"},
      {"kill_t1", "t1 = spawn", "kill t1"},
      {"interrupt_t1", "t1 = spawn", "interrupt t1"},
      {"suspend_all", "", "suspend_all"},
      {"resume_all", "", "resume_all"},
      {"collect", "", "collect"},
      {"alloc_8", "", "alloc 8"},
      {"without_gc_1", "", "without_gc {\ncollect\n}"},
      {"blocking_1", "", "blocking {\nyield\n}"},
      {"fork_1", "", "fork {\nt1 = spawn\n}"},
      {"overflow_self", "", "overflow"},
      {"overflow_t1", "t1 = spawn", "overflow t1"},
      {"barrier_fault", "", "barrier_fault"},
      {"lock_new", "", "lock l1"},
      {"unlock_l1", "lock l1", "unlock l1"},
      {"send_new_7", "", "send m1 7"},
      {"receive_m1", "send m1 7", "receive m1"},
      {"yield", "", "yield"},
      {"safepoint", "", "safepoint"},
      {"priority_t1_low", "t1 = spawn", "priority t1 -8"},
      {"priority_t1_high", "t1 = spawn", "priority t1 8"},
      {"starve_t1_500", "t1 = spawn", "starve t1 500"},
      {"yield_on_t1", "t1 = spawn", "yield (on: t1)"},
      {"yield_async", "", "yield (async)"},
      {"yield_delay_50", "", "yield (delay: 50us)"},
      {"yield_fail_nth_2", "", "yield (fail_nth: 2)"},
      {"lock_on_t1_async", "t1 = spawn", "lock l1 (on: t1, async)"},
  };
  std::ostringstream out;
  out << "# fuzz/dict/ops.dict — the binary encoding of each op (fuzz/prog/src/codec_binary.cpp),\n"
         "# with common operands and properties. Generated: fuzz_codec_test's Dictionary test\n"
         "# checks it; TL_UPDATE_DICT=1 fuzz_codec_test --gtest_filter='Dictionary.*' rewrites it.\n";
  for (const Entry& e : entries) {
    const std::vector<uint8_t> before = bytes_of(e.context);
    const std::vector<uint8_t> after = bytes_of(std::string(e.context) + "\n" + e.op + "\n");
    EXPECT_EQ(std::vector<uint8_t>(after.begin(), after.begin() + long(before.size())), before) << e.name;
    out << e.name << "=\"";
    for (size_t i = before.size(); i < after.size(); ++i) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", after[i]);
      out << hex;
    }
    out << "\"\n";
  }
  return out.str();
}

TEST(Dictionary, MatchesTheEncoder) {
  const std::string want = dictionary();
  std::ifstream in(TL_FUZZ_DICT_FILE, std::ios::binary);
  std::stringstream have;
  have << in.rdbuf();
  if (have.str() != want) {
    const char* update = std::getenv("TL_UPDATE_DICT");
    if (update && std::string(update) == "1") {
      std::ofstream(TL_FUZZ_DICT_FILE, std::ios::binary) << want;
      std::printf("rewrote %s\n", TL_FUZZ_DICT_FILE);
    } else {
      ADD_FAILURE() << TL_FUZZ_DICT_FILE << " is out of date; expected content:\n" << want;
    }
  }
}

}  // namespace
