// one_input.h — what every fuzz engine entry point does with one input.
//
// Invariants:
//   - The adapter is chosen once per process, by THREADLAB_FUZZ_ADAPTER
//     (default "reference"), and initialised once (exec_init) before the
//     first input; an unknown adapter or a failed init ends the process with
//     exit 2 and a message naming it, never a finding.
//   - Every byte string is a program (decode is total): no input is
//     rejected, so no mutation is wasted.
//   - run_one_input returns only when every thread the program made is gone
//     (execute's teardown), so a persistent-mode loop starts each input from
//     the same process state. The baseline is taken as each input starts
//     (the engine's own threads and fds come and go between inputs); a
//     thread or fd the input leaves behind is a finding like any other.
//   - With abort_on_finding (the engines), a finding is printed with the
//     program's text and the process aborts: the engine saves the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace threadlab::fuzz {

struct InputOptions {
  bool abort_on_finding = true;
  bool print_program = false;  // the decoded text before running it
  unsigned op_timeout_ms = 5000;
};

// Chooses and initialises the adapter (once). "" or why not.
std::string target_init();
// Runs one input. Returns the number of findings (0: clean).
int run_one_input(const uint8_t* data, size_t size, const InputOptions& o);

}  // namespace threadlab::fuzz
