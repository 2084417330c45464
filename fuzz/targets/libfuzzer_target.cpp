// libfuzzer_target.cpp — the libFuzzer entry point (preset `libfuzzer`,
// linked with -fsanitize=fuzzer; OSS-Fuzz and ClusterFuzzLite build it with
// their $LIB_FUZZING_ENGINE). One input is one op program (one_input.h).
#include <cstdio>
#include <cstdlib>

#include "one_input.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (std::string why = threadlab::fuzz::target_init(); !why.empty()) {
    std::fprintf(stderr, "threadlab fuzz target: %s\n", why.c_str());
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  threadlab::fuzz::run_one_input(data, size, {});
  return 0;
}
