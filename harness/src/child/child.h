// child.h — the scenario child: the process the runner starts for each run
// (`threadlab __child ...`). It runs one scenario's lifecycles against one
// adapter and reports on the result channel (channel.h).
#pragma once
#include <cstdint>
#include <string>

namespace threadlab {

struct ChildArgs {
  std::string scenario;
  std::string adapter;
  uint64_t seed = 1;
  int cycles = -1;   // -1: scenario default
  int warmup = -1;
  int threads = -1;
  int iterations = -1;
  double timeout_s = 30;
  double stall_s = 0;  // heartbeat pause that is a hang (0: timeout_s)
  int result_fd = 3;
};

// Runs the scenario; returns the process exit code (0 once a result was
// written, 2 on a usage error).
int child_main(const ChildArgs& args);

// When the watchdog fires, relative to the run's timeout.
int watchdog_fire_ms(double timeout_s);

}  // namespace threadlab
