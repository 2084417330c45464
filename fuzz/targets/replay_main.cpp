// replay_main.cpp — threadlab_fuzz_replay FILE...: runs each program file
// (text or binary, load_program) through the same entry point the engines
// use, in this process, one after another, and prints a verdict per file.
// Exit 0: every file clean; 1: a finding; 2: a file could not be read or
// the adapter (THREADLAB_FUZZ_ADAPTER) not initialised. CTest runs the
// seed corpus and fuzz/regressions through it on every adapter; a crash
// found by an engine is replayed here without the engine.
#include <cstdio>
#include <string>

#include <threadlab/fuzz/program.h>

#include "one_input.h"

#if defined(TL_UNDER_TSAN)
// A `fork { }` body may start threads in the child, which ThreadSanitizer's
// die_after_fork forbids: off for this program, as for threadlab itself
// (harness/src/cli/main.cpp); TSAN_OPTIONS from the environment apply on top.
extern "C" const char* __tsan_default_options() { return "die_after_fork=0"; }
#endif

int main(int argc, char** argv) {
  using namespace threadlab::fuzz;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PROGRAM_FILE...\n", argv[0]);
    return 2;
  }
  if (std::string why = target_init(); !why.empty()) {
    std::fprintf(stderr, "threadlab_fuzz_replay: %s\n", why.c_str());
    return 2;
  }
  int rc = 0;
  for (int i = 1; i < argc; ++i) {
    Program p;
    std::string err;
    if (!load_program(argv[i], &p, &err)) {
      std::fprintf(stderr, "threadlab_fuzz_replay: %s\n", err.c_str());
      return 2;
    }
    const std::vector<uint8_t> bytes = encode(p);
    InputOptions o;
    o.abort_on_finding = false;
    const int n = run_one_input(bytes.data(), bytes.size(), o);
    std::printf("%-6s %s\n", n ? "FOUND" : "ok", argv[i]);
    if (n) rc = 1;
  }
  return rc;
}
