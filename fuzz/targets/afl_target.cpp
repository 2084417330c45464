// afl_target.cpp — the AFL++ entry point (preset `afl`, built with
// afl-clang-fast++).
//
// Two binaries come from this file:
//   threadlab_fuzz_afl             persistent mode with shared-memory input:
//                                  one process runs up to 10000 inputs;
//   threadlab_fuzz_afl_forkserver  TL_AFL_PERSISTENT=0: a plain fork server,
//                                  the input file as argv[1] (@@), one input
//                                  per process — the fallback, and the
//                                  baseline the bench compares against.
// Invariants:
//   - The fork-server point (__AFL_INIT) comes before the adapter's init:
//     no thread exists when AFL forks, so none is lost in the child (a
//     runtime helper thread made before the fork would be missing in every
//     child, and its locks held for good).
//   - Every input's threads start after that point and are gone before the
//     next input (run_one_input); a program that leaves a thread or an fd
//     behind is a finding and aborts, so stability stays honest.
#include <unistd.h>  // read(): __AFL_FUZZ_TESTCASE_LEN falls back to it outside afl-fuzz

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "one_input.h"

#ifndef TL_AFL_PERSISTENT
#define TL_AFL_PERSISTENT 1
#endif

#if TL_AFL_PERSISTENT
__AFL_FUZZ_INIT();
#endif

int main(int argc, char** argv) {
#if TL_AFL_PERSISTENT
  (void)argc;
  (void)argv;
  __AFL_INIT();
  if (std::string why = threadlab::fuzz::target_init(); !why.empty()) {
    std::fprintf(stderr, "threadlab fuzz target: %s\n", why.c_str());
    return 2;
  }
  const unsigned char* buf = __AFL_FUZZ_TESTCASE_BUF;
  while (__AFL_LOOP(10000)) {
    const int len = __AFL_FUZZ_TESTCASE_LEN;
    threadlab::fuzz::run_one_input(buf, static_cast<size_t>(len), {});
  }
  return 0;
#else
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s INPUT_FILE\n", argv[0]);
    return 2;
  }
  std::FILE* f = std::fopen(argv[1], "rb");
  if (!f) {
    std::perror(argv[1]);
    return 2;
  }
  std::vector<uint8_t> bytes;
  for (int c; (c = std::fgetc(f)) != EOF;) bytes.push_back(static_cast<uint8_t>(c));
  std::fclose(f);
  threadlab::fuzz::run_one_input(bytes.data(), bytes.size(), {});
  return 0;
#endif
}
