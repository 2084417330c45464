// interpreter.h — running an op program (program.h) against a runtime,
// through the adapter ABI only.
//
// Invariants (fuzz/exec/src/*.cpp say how each is kept):
//   - execute() never throws and never leaves a thread it made behind: every
//     spawned and foreign thread is ended and joined before it returns, every
//     lock and mailbox freed, every world stop resumed.
//   - Ops whose capability the adapter lacks are skipped and counted in
//     skipped / skipped_by_op; ops that cannot apply in the current state
//     (interpreter.cpp lists the rules) are skipped and counted in
//     not_applicable. Neither is a finding.
//   - An op that fails (fail_nth, or the runtime refusing it) is an error
//     recorded in `errors`, not a finding; findings are what the runtime
//     got wrong: verdicts scribble | invariant | deadlock | crash | error.
//   - After the teardown the process's threads and open fds are back at the
//     baseline exec_init took, else an "invariant" finding names what remained.
#pragma once

#include <threadlab/adapter.h>
#include <threadlab/fuzz/program.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace threadlab::fuzz {

struct ExecOptions {
  unsigned op_timeout_ms = 10000;  // in-process watchdog: no progress for this long -> dump every thread, finding "deadlock" (and abort() when abort_on_finding)
  bool check_each_op = true;       // adapter integrity check after every op
  bool abort_on_finding = false;   // engines: print the finding to stderr and abort()
  uint64_t seed = 0;               // schedule perturbation's randomness (PCT base priorities)
};

struct Finding {
  std::string verdict;  // scribble | invariant | deadlock | crash | error
  size_t op_index;      // top-level op running when it was found (ops.size(): the teardown)
  std::string text;
};

struct ExecResult {
  size_t executed = 0, skipped = 0;
  std::vector<std::pair<std::string, unsigned>> skipped_by_op;  // op name -> count (capabilities lacking)
  std::vector<Finding> findings;
  size_t not_applicable = 0;        // ops skipped because they cannot apply now (interpreter.cpp)
  std::vector<std::string> errors;  // ops that failed ("op 3 lock: ..."): not findings
};

// Once per process: adapter init and the baseline (threads, fds). "" or why not.
std::string exec_init(const tl_adapter* a);
// Takes the baseline again, after exec_init: for an engine whose own
// threads or fds appear after its init hook (libFuzzer starts its RSS
// watcher thread after LLVMFuzzerInitialize).
void exec_rebaseline();
// Runs p to the end and tears down every thread it made; never throws.
ExecResult execute(const tl_adapter* a, const Program& p, const ExecOptions& o);

// The capability (TL_CAP_*) an op needs from the adapter, 0 when none:
// what the interpreter skips on, and what a reproducer checks at run time.
uint64_t op_capability(OpKind k);

// One line per finding ("verdict at op N: text"), the skips, and the errors.
std::string describe(const ExecResult& r);

}  // namespace threadlab::fuzz
