// verb_common.cpp — helpers every verb shares: usage errors, report-path
// checks, seeds, clocks, the default report directory and its creation;
// and cli_support.h's help footer, value checks and error printing.
//
// Invariants:
//   - The default report directory never depends on where the binary was
//     built: $THREADLAB_REPORT_DIR, else ./threadlab-reports.
//   - A report directory that cannot be created is an error naming the
//     directory and the system's reason (strerror), never ignored.
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "adapters/builtin.h"
#include "cli/cli_support.h"
#include "cli/verbs.h"

namespace threadlab {

int usage_error(const std::string& message) {
  fmt::print(stderr, "threadlab: {}\n", message);
  return 2;
}

std::string resolve_adapters(const std::vector<std::string>& asked, std::vector<std::string>* names,
                             std::vector<const tl_adapter*>* out) {
  *names = asked.empty() ? std::vector<std::string>{"reference", "reference-hybrid"} : asked;
  out->clear();
  for (auto& name : *names) {
    const tl_adapter* rt = find_adapter(name);
    if (!rt) return fmt::format("unknown adapter '{}' (threadlab list shows them)", name);
    if (auto p = adapter_problem(rt); !p.empty()) return fmt::format("adapter '{}' is unusable: {}", name, p);
    out->push_back(rt);
  }
  return "";
}

int write_output(const std::string& path, const void* data, size_t n) {
  auto put = [&](std::FILE* f) { return n == 0 || std::fwrite(data, 1, n, f) == n; };
  if (path == "-") {
    if (!put(stdout) || std::fflush(stdout) != 0)
      return usage_error(std::string("standard output: cannot write: ") + std::strerror(errno));
    return 0;
  }
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return usage_error(path + ": cannot write: " + std::strerror(errno));
  bool ok = put(f) && std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  int saved = errno;
  ok = std::fclose(f) == 0 && ok;
  if (ok && std::rename(tmp.c_str(), path.c_str()) == 0) return 0;
  if (ok) saved = errno;
  std::remove(tmp.c_str());
  return usage_error(path + ": cannot write: " + std::strerror(saved));
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
  return "threadlab-reports";
}

bool make_report_dir(const std::string& dir, std::string* err) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    const std::string part = dir.substr(0, i);
    if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
      *err = fmt::format("cannot create report directory '{}': {}{}", dir, std::strerror(errno),
                         part == dir ? "" : fmt::format(" (at '{}')", part));
      return false;
    }
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    *err = fmt::format("cannot create report directory '{}': {}", dir, std::strerror(errno));
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    *err = fmt::format("cannot create report directory '{}': something that is not a directory is there", dir);
    return false;
  }
  return true;
}

std::string help_footer() {
  return "Exit codes:\n"
         "  0  every run passed (or was skipped)\n"
         "  1  findings: a run's verdict is neither pass nor skip (the report says which and why)\n"
         "  2  usage or environment error (a message names it; nothing is written), or a run\n"
         "     interrupted (Ctrl-C) before any finding (its report is marked partial)\n"
         "\n"
         "Environment:\n"
         "  THREADLAB_INJECT=NAME[,NAME]  switch on injected defects of the reference runtime\n"
         "                                (bug-catalogue.md; `threadlab list --json` shows which\n"
         "                                scenario catches each)\n"
         "  THREADLAB_RACE_WIDEN=N        stall at N of every 1000 race points of the reference\n"
         "                                runtime (0..1000) to widen race windows\n"
         "  THREADLAB_REPORT_DIR=DIR      where `run` without --json/--junit/--html writes\n"
         "                                latest.json, latest.xml and latest.html\n"
         "                                (default: ./threadlab-reports)\n"
         "  THREADLAB_CYCLE_FD=N          set by `exec` for the program it runs: a socket; write one\n"
         "                                byte after each lifecycle and wait for one back to get\n"
         "                                per-cycle leak samples\n"
         "  THREADLAB_SOURCE_DIR=DIR      the source tree `fuzz` builds its engine targets in\n"
         "                                (default: the tree this threadlab was built from)\n"
         "  THREADLAB_ADAPTER_LIB=P[:P]   adapter libraries every threadlab process loads first;\n"
         "                                --adapter-lib adds its paths here for the processes a\n"
         "                                verb starts (docs/writing-an-adapter.md)\n"
         "  THREADLAB_ADAPTER_PATH=D[:D]  directories searched for threadlab-adapter-NAME.so when\n"
         "                                --adapter NAME is not built in, before the ones next to\n"
         "                                this binary (../lib/threadlab/adapters)\n";
}

namespace {
bool parse_double(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  *out = std::strtod(s.c_str(), &end);
  return *end == '\0' && errno == 0 && std::isfinite(*out);
}
}  // namespace

CLI::Validator num_range(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        double v;
        if (!parse_double(s, &v)) return fmt::format("'{}' is not a number", s);
        if (v < lo || v > hi) return fmt::format("{} is out of range {}..{}", s, lo, hi);
        return "";
      },
      fmt::format("NUMBER in {}..{}", lo, hi));
}

CLI::Validator seed_check() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        bool digits = !s.empty() && s.size() <= 20;
        for (char c : s) digits = digits && c >= '0' && c <= '9';
        errno = 0;
        if (digits) std::strtoull(s.c_str(), nullptr, 10);
        if (!digits || errno == ERANGE)
          return fmt::format("'{}' is not a seed: seeds are integers from 0 to 18446744073709551615", s);
        return "";
      },
      "SEED");
}

namespace {
std::string verb_names(CLI::App& app, bool planned) {
  std::string out;
  for (auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    const std::string& g = sub->get_group();
    if (g.empty() || (g == kPlannedGroup) != planned) continue;
    out += (out.empty() ? "" : ", ") + sub->get_name();
  }
  return out;
}
}  // namespace

int check_verb(CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help" || a == "--help-all" || a == "--version") return -1;
    if (!a.empty() && a[0] == '-') continue;
    for (auto* sub : app.get_subcommands([](CLI::App*) { return true; }))
      if (sub->get_name() == a) return -1;
    return usage_error(fmt::format("unknown verb '{}' (verbs: {}; planned: {}; threadlab --help describes them)", a,
                                   verb_names(app, false), verb_names(app, true)));
  }
  return usage_error(fmt::format("no verb given (verbs: {}; threadlab --help describes them)", verb_names(app, false)));
}

int parse_error(CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version: stdout, exit 0
  std::fprintf(stderr, "threadlab: %s\n(threadlab --help, or threadlab VERB --help, lists the flags)\n", e.what());
  return 2;
}

}  // namespace threadlab
