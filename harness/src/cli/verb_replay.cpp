// verb_replay.cpp — `threadlab replay FILE...`: rerun op programs, each run
// in its own child process, a verdict per file; and `__exec`, the child.
//
// Invariants:
//   - Every file is read (load_program) and the adapter looked up before any
//     run: an unknown adapter or an unreadable or malformed file is a usage
//     error (exit 2) naming it, and nothing runs.
//   - Each of the --repeat runs of a file is a fresh `threadlab __exec
//     --adapter A FILE` child (proc_spawn: own process group, output
//     captured head+tail), so a crash or hang costs only that run. A child
//     ended by a signal is "crash" (the signal named, the tail of its output
//     kept); one still running at --timeout is killed: "timeout"; otherwise
//     its findings, which it prints one a line as
//     "finding<TAB>verdict<TAB>op<TAB>text" (text with newlines as "\n").
//     __exec exits 0 clean, 1 with findings, 2 when it could not run.
//   - A file's verdict is the first non-pass verdict over its runs, else
//     "pass". Exit 0 when every file passed, 1 on any finding, 2 on usage
//     errors. --json writes the report atomically (report.h).
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <threadlab/fuzz/interpreter.h>
#include <threadlab/fuzz/program.h>

#include "adapters/builtin.h"
#include "cli/verbs.h"
#include "report/report.h"
#include "runner/process.h"

namespace threadlab {

namespace {

std::string escape_line(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += ' ';
    else out += c;
  }
  return out;
}

struct RunResult {
  std::string verdict = "pass";
  int exit_code = -1;
  std::string signal;
  std::vector<nlohmann::json> findings;
  std::map<std::string, unsigned> skipped;
  std::string tail;
  std::string text;  // first finding's text, for the line per file
};

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i)
    if (i == line.size() || line[i] == sep) {
      parts.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  return parts;
}

RunResult run_once(const std::string& adapter, const std::string& file, double timeout_s, std::string* err) {
  RunResult r;
  SpawnSpec spec;
  spec.argv = {self_exe(), "__exec", "--adapter", adapter, file};
  Proc p;
  if (!proc_spawn(spec, &p, err)) {
    r.verdict = "error";
    r.text = *err;
    return r;
  }
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  bool timed_out = false;
  while (!proc_try_reap(&p)) {
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    const double s = static_cast<double>(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
    if (s >= timeout_s) {
      timed_out = true;
      proc_kill_and_reap(&p);
      break;
    }
    pollfd pf{p.out_fd, POLLIN, 0};
    poll(&pf, p.out_fd >= 0 ? 1 : 0, 50);
    proc_drain(&p);
  }
  const std::string out = p.out.text();
  r.tail = out.size() > 4000 ? out.substr(out.size() - 4000) : out;
  for (const std::string& line : split(out, '\n')) {
    const auto f = split(line, '\t');
    if (f.size() >= 4 && f[0] == "finding") {
      r.findings.push_back({{"verdict", f[1]}, {"op", std::stoul(f[2].empty() ? "0" : f[2])}, {"text", f[3]}});
      if (r.verdict == "pass") {
        r.verdict = f[1];
        r.text = f[3];
      }
    } else if (f.size() >= 3 && f[0] == "skipped") {
      r.skipped[f[1]] += static_cast<unsigned>(std::stoul(f[2].empty() ? "0" : f[2]));
    }
  }
  if (timed_out) {
    r.verdict = "timeout";
    char secs[32];
    std::snprintf(secs, sizeof secs, "%g", timeout_s);
    r.text = std::string("still running after ") + secs + " s; killed";
  } else if (WIFSIGNALED(p.status)) {
    r.signal = signal_name(WTERMSIG(p.status));
    r.verdict = "crash";
    r.text = "killed by " + r.signal;
  } else if (WIFEXITED(p.status)) {
    r.exit_code = WEXITSTATUS(p.status);
    if (r.exit_code == 2 && r.verdict == "pass") {
      r.verdict = "error";
      r.text = "__exec could not run the program";
    } else if (r.exit_code == 1 && r.verdict == "pass") {
      r.verdict = "error";
      r.text = "__exec reported a finding it did not print";
    }
  }
  return r;
}

}  // namespace

int exec_program_main(const std::string& adapter, const std::string& file) {
  const tl_adapter* a = find_adapter(adapter);
  if (!a) {
    std::fprintf(stderr, "threadlab __exec: unknown adapter '%s'\n", adapter.c_str());
    return 2;
  }
  fuzz::Program p;
  std::string err;
  if (!fuzz::load_program(file, &p, &err)) {
    std::fprintf(stderr, "threadlab __exec: %s\n", err.c_str());
    return 2;
  }
  if (const std::string why = fuzz::exec_init(a); !why.empty()) {
    std::fprintf(stderr, "threadlab __exec: %s\n", why.c_str());
    return 2;
  }
  const fuzz::ExecResult r = fuzz::execute(a, p, fuzz::ExecOptions{});
  for (const auto& [name, n] : r.skipped_by_op) std::printf("skipped\t%s\t%u\n", name.c_str(), n);
  for (const std::string& e : r.errors) std::printf("error\t%s\n", escape_line(e).c_str());
  for (const fuzz::Finding& f : r.findings)
    std::printf("finding\t%s\t%zu\t%s\n", f.verdict.c_str(), f.op_index, escape_line(f.text).c_str());
  std::printf("summary\texecuted %zu\tskipped %zu\tnot applicable %zu\n", r.executed, r.skipped, r.not_applicable);
  std::fflush(stdout);
  return r.findings.empty() ? 0 : 1;
}

int verb_replay(const ReplayOptions& o) {
  const tl_adapter* a = find_adapter(o.adapter);
  if (!a) return usage_error("replay: unknown adapter '" + o.adapter + "' (threadlab list names them)");
  if (auto why = adapter_problem(a); !why.empty())
    return usage_error("replay: adapter '" + o.adapter + "' is unusable: " + why);
  if (auto why = inject_env_problem(); !why.empty()) return usage_error("replay: " + why);
  for (const std::string& f : o.files) {
    fuzz::Program p;
    std::string err;
    if (!fuzz::load_program(f, &p, &err)) return usage_error("replay: " + err);
  }
  if (!check_report_paths(o.reports)) return 2;
  const double started = unix_now(), t0 = mono_now();
  bool any = false;
  std::vector<nlohmann::json> files;
  for (const std::string& f : o.files) {
    std::string verdict = "pass", text;
    int failing = 0;
    std::map<std::string, unsigned> skipped;
    std::vector<nlohmann::json> runs;
    for (int i = 0; i < o.repeat; ++i) {
      std::string err;
      RunResult r = run_once(o.adapter, f, o.timeout_s, &err);
      if (r.verdict != "pass") {
        ++failing;
        if (verdict == "pass") {
          verdict = r.verdict;
          text = r.text;
        }
      }
      if (i == 0) skipped = r.skipped;
      nlohmann::json run = {{"run", i + 1}, {"verdict", r.verdict}, {"findings", r.findings}};
      if (r.exit_code >= 0) run["exit_code"] = r.exit_code;
      if (!r.signal.empty()) run["signal"] = r.signal;
      if (r.verdict != "pass") run["output_tail"] = r.tail;
      runs.push_back(std::move(run));
      if (r.verdict == "crash" || r.verdict == "timeout" || r.verdict == "error")
        std::fprintf(stderr, "--- %s, run %d: %s; the tail of its output:\n%s\n---\n", f.c_str(), i + 1,
                     r.verdict.c_str(), r.tail.c_str());
    }
    std::string skips;
    for (const auto& [name, n] : skipped) skips += (skips.empty() ? "" : ", ") + name + " " + std::to_string(n);
    std::printf("%s: %s", f.c_str(), verdict.c_str());
    if (verdict != "pass")
      std::printf(" (%d of %d runs): %s", failing, o.repeat, text.substr(0, text.find("\\n")).c_str());
    else std::printf(" (%d runs)", o.repeat);
    if (!skips.empty()) std::printf("; skipped ops: %s", skips.c_str());
    std::printf("\n");
    any = any || verdict != "pass";
    files.push_back({{"file", f}, {"verdict", verdict}, {"runs_failing", failing}, {"runs", runs},
                     {"skipped", skipped}});
  }
  if (!o.reports.json.empty()) {
    nlohmann::json report = {{"verb", "replay"}, {"adapter", o.adapter}, {"repeat", o.repeat},
                             {"started_unix", started}, {"duration_s", mono_now() - t0}, {"files", files}};
    std::string err;
    if (!atomic_write(o.reports.json, report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                      &err)) {
      std::fprintf(stderr, "threadlab replay: %s\n", err.c_str());
      return 2;
    }
  }
  return any ? 1 : 0;
}

}  // namespace threadlab
