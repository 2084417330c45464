// verb_common.cpp — helpers every verb shares: usage errors, report-path
// checks, seeds, clocks, the default report directory.
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include <fmt/format.h>

#include "cli/verbs.h"

namespace threadlab {

int usage_error(const std::string& message) {
  fmt::print(stderr, "threadlab: {}\n", message);
  return 2;
}

bool check_report_paths(const ReportPaths& p) {
  for (auto* path : {&p.json, &p.junit, &p.html}) {
    if (path->empty()) continue;
    std::string err;
    if (!check_writable(*path, &err)) {
      usage_error(err);
      return false;
    }
  }
  return true;
}

uint64_t fresh_seed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32 | rd()) & 0xffffffffffffull;
}

double unix_now() {
  timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

double mono_now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

std::string default_report_dir() {
  if (const char* d = std::getenv("THREADLAB_REPORT_DIR"); d && *d) return d;
  return std::string(TL_SOURCE_DIR) + "/build/reports";
}

}  // namespace threadlab
