// verb_fuzz.cpp — `threadlab fuzz`: build the engine's target if needed,
// seed it from fuzz/corpus, run it for --time seconds with live progress,
// and end with executions per second, stability, coverage and every
// finding decoded to text.
//
// Invariants:
//   - The target comes from the source tree this threadlab was built from
//     (TL_SOURCE_DIR, or THREADLAB_SOURCE_DIR): `cmake --preset ENGINE`
//     once, then `cmake --build build/ENGINE --target T` every time (a no-op
//     when up to date). A failed build is exit 2 with the log's path and its
//     errors, never a fuzz run of a stale binary.
//   - Seeds are the text programs of the corpus, encoded afresh into
//     OUT/seeds (the engines mutate bytes; every byte string is a program).
//   - AFL++: one main instance (-M) and N-1 secondaries (-S) on one sync
//     directory OUT/afl, each `-V TIME`; the figures are summed over the
//     instances' fuzzer_stats (execs/s) or taken from the main (stability,
//     coverage). libFuzzer: `-fork=N` for N>1 (crashes do not end the run),
//     figures from its final stats.
//   - Each run has its own directory, OUT/run-YYYYmmdd-HHMMSS (the AFL++
//     sync directory, libFuzzer's artifacts, the logs, the decoded
//     findings), so a run reports only what it found itself; the seeds and
//     libFuzzer's growing corpus (OUT/corpus) are shared by the runs.
//   - Every crash and hang the engine saved is decoded to RUN/findings/*.txt
//     and printed; exit 1 when there is any, 0 when none, 2 when the run
//     could not happen (no engine, build failure, unknown adapter).
//   - --json writes the summary atomically (report.h).
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <threadlab/fuzz/program.h>

#include "adapters/builtin.h"
#include "cli/verbs.h"
#include "report/report.h"
#include "runner/process.h"

#ifndef TL_SOURCE_DIR
#define TL_SOURCE_DIR ""
#endif

namespace threadlab {
namespace {

std::string source_dir() {
  const char* env = std::getenv("THREADLAB_SOURCE_DIR");
  return env && *env ? env : TL_SOURCE_DIR;
}

bool is_file(const std::string& p) {
  struct stat st{};
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool make_dirs(const std::string& path, std::string* err) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!cur.empty() && mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
        *err = cur + ": " + std::strerror(errno);
        return false;
      }
    }
    if (i < path.size()) cur += path[i];
  }
  return true;
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Runs argv (in `cwd`) with its output to `log`; true when it exits 0.
// The argument vector of execvp, built before fork (nothing allocates in
// the child).
std::vector<char*> exec_args(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  return args;
}

bool run_logged(const std::vector<std::string>& argv, const std::string& cwd, const std::string& log) {
  std::vector<char*> args = exec_args(argv);
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    if (chdir(cwd.c_str()) != 0) _exit(127);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string tail_errors(const std::string& log) {
  std::ifstream in(log);
  std::string line, out;
  int n = 0;
  while (std::getline(in, line))
    if (line.find("error") != std::string::npos && n++ < 20) out += "  " + line + "\n";
  return out;
}

// Builds `target` of preset `engine`; "" or why not.
std::string build_target(const std::string& src, const std::string& engine, const std::string& target,
                         const std::string& log) {
  const std::string bdir = src + "/build/" + engine;
  std::remove(log.c_str());
  if (!is_file(bdir + "/build.ninja") && !run_logged({"cmake", "--preset", engine}, src, log))
    return "cmake --preset " + engine + " failed (log: " + log + ")\n" + tail_errors(log);
  std::fprintf(stderr, "threadlab fuzz: building %s (cmake --build build/%s --target %s)\n", target.c_str(),
               engine.c_str(), target.c_str());
  if (!run_logged({"cmake", "--build", bdir, "--target", target}, src, log))
    return "building " + target + " failed (log: " + log + ")\n" + tail_errors(log);
  return "";
}

std::map<std::string, std::string> read_stats(const std::string& path) {
  std::map<std::string, std::string> m;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t c = line.find(':');
    if (c == std::string::npos) continue;
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t"));
      s.erase(s.find_last_not_of(" \t\r") + 1);
      return s;
    };
    m[trim(line.substr(0, c))] = trim(line.substr(c + 1));
  }
  return m;
}

double num(const std::map<std::string, std::string>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : std::atof(it->second.c_str());
}

struct Child {
  pid_t pid = -1;
  int out = -1;  // its stderr+stdout, for libFuzzer's lines
};

Child start(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& log,
            bool capture) {
  int fds[2] = {-1, -1};
  if (capture && pipe(fds) != 0) return {};
  std::vector<char*> args = exec_args(argv);
  Child c;
  c.pid = fork();
  if (c.pid == 0) {
    setpgid(0, 0);
    const int fd = capture ? fds[1] : open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
    execvp(args[0], args.data());
    std::fprintf(stderr, "threadlab fuzz: cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  if (capture) {
    close(fds[1]);
    c.out = fds[0];
  }
  return c;
}

struct Figures {
  double execs = 0, execs_per_s = 0, coverage = 0;
  std::string coverage_unit = "edges";
  std::string stability = "n/a";
  std::vector<std::string> finding_files;
};

volatile sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

std::string fmt_time(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%02d:%02d", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  return b;
}

}  // namespace

int verb_fuzz(const FuzzOptions& o) {
  const tl_adapter* a = find_adapter(o.adapter);
  if (!a) return usage_error("fuzz: unknown adapter '" + o.adapter + "' (threadlab list names them)");
  if (auto why = adapter_problem(a); !why.empty())
    return usage_error("fuzz: adapter '" + o.adapter + "' is unusable: " + why);
  const std::string src = source_dir();
  if (src.empty() || !is_file(src + "/CMakePresets.json"))
    return usage_error("fuzz: no threadlab source tree at '" + src + "' (set THREADLAB_SOURCE_DIR)");
  if (o.engine == "afl" && !is_file("/usr/bin/afl-fuzz") && std::system("command -v afl-fuzz >/dev/null 2>&1") != 0)
    return usage_error("fuzz: afl-fuzz not found (ci/setup fuzz installs AFL++)");
  if (!check_report_paths(o.reports)) return 2;

  const std::string out = o.out_dir.empty() ? src + "/build/fuzz/" + o.engine + "-" + o.adapter : o.out_dir;
  const std::string corpus = o.corpus.empty() ? src + "/fuzz/corpus" : o.corpus;
  std::string err;
  char stamp[32];
  const time_t now_t = time(nullptr);
  tm tm_now{};
  localtime_r(&now_t, &tm_now);
  strftime(stamp, sizeof stamp, "run-%Y%m%d-%H%M%S", &tm_now);
  std::string run = out + "/" + stamp;
  for (int k = 2; access(run.c_str(), F_OK) == 0; ++k) run = out + "/" + stamp + "-" + std::to_string(k);
  if (!make_dirs(out + "/seeds", &err) || !make_dirs(run + "/findings", &err))
    return usage_error("fuzz: cannot make the output directory: " + err);

  // 1. The target.
  const bool afl = o.engine == "afl";
  const std::string target = afl ? "threadlab_fuzz_afl" : "threadlab_fuzz_libfuzzer";
  if (std::string why = build_target(src, o.engine, target, out + "/build.log"); !why.empty()) {
    std::fprintf(stderr, "threadlab fuzz: %s", why.c_str());
    return 2;
  }
  const std::string exe = src + "/build/" + o.engine + "/bin/" + target;

  // 2. Seeds: the corpus's text programs, encoded.
  unsigned seeds = 0;
  for (const std::string& name : list_dir(corpus)) {
    fuzz::Program p;
    if (!fuzz::load_program(corpus + "/" + name, &p, &err)) {
      std::fprintf(stderr, "threadlab fuzz: corpus: %s\n", err.c_str());
      return 2;
    }
    const std::vector<uint8_t> bytes = fuzz::encode(p);
    std::ofstream f(out + "/seeds/" + name + ".bin", std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    ++seeds;
  }
  if (seeds == 0) return usage_error("fuzz: no seed programs in " + corpus);
  const std::string dict = src + "/fuzz/dict/ops.dict";
  const std::vector<std::string> env = {"THREADLAB_FUZZ_ADAPTER=" + o.adapter, "AFL_SKIP_CPUFREQ=1", "AFL_NO_UI=1",
                                        "AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1", "AFL_NO_AFFINITY=1",
                                        "AFL_SKIP_CRASHES=1"};
  const int secs = static_cast<int>(std::lround(o.time_s));
  std::fprintf(stderr, "threadlab fuzz: %s on adapter '%s', %d s, %d job(s), %u seed(s); output in %s\n",
               o.engine.c_str(), o.adapter.c_str(), secs, o.jobs, seeds, run.c_str());

  // 3. The run, with progress every 2 s.
  struct sigaction sa{}, old_int{}, old_term{};
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  const double t0 = mono_now(), started = unix_now();
  Figures fig;
  std::vector<Child> kids;
  std::string last_line, all_output;
  if (afl) {
    const std::string sync = run + "/afl";
    make_dirs(sync, &err);
    for (int j = 0; j < o.jobs; ++j) {
      const std::string id = j == 0 ? "main" : "secondary" + std::to_string(j);
      std::vector<std::string> argv = {"afl-fuzz", "-i", out + "/seeds", "-o", sync, j == 0 ? "-M" : "-S", id,
                                       "-V", std::to_string(secs), "-t", "10000+"};
      if (is_file(dict)) argv.insert(argv.end(), {"-x", dict});
      argv.insert(argv.end(), {"--", exe});
      kids.push_back(start(argv, env, run + "/afl-" + id + ".log", false));
    }
  } else {
    std::vector<std::string> argv = {exe,
                                     "-max_total_time=" + std::to_string(secs),
                                     "-artifact_prefix=" + run + "/findings/",
                                     "-print_final_stats=1",
                                     "-timeout=30",
                                     "-rss_limit_mb=4096"};
    if (is_file(dict)) argv.push_back("-dict=" + dict);
    if (o.jobs > 1) argv.insert(argv.end(), {"-fork=" + std::to_string(o.jobs), "-ignore_crashes=1",
                                             "-ignore_timeouts=1", "-ignore_ooms=1"});
    make_dirs(out + "/corpus", &err);
    argv.insert(argv.end(), {out + "/corpus", out + "/seeds"});
    kids.push_back(start(argv, env, "", true));
  }
  double next_report = t0 + 2;
  for (;;) {
    bool running = false;
    for (Child& c : kids) {
      if (c.pid <= 0) continue;
      int st = 0;
      if (waitpid(c.pid, &st, WNOHANG) == c.pid) c.pid = -c.pid;
      else running = true;
    }
    if (!afl && kids[0].out >= 0) {
      pollfd pf{kids[0].out, POLLIN, 0};
      if (poll(&pf, 1, 200) > 0) {
        char buf[4096];
        const ssize_t n = read(kids[0].out, buf, sizeof buf);
        if (n > 0) {
          all_output.append(buf, static_cast<size_t>(n));
          for (size_t p = all_output.size(); p > 0;) {  // last "#N ..." line
            const size_t b = all_output.rfind('\n', p - 1);
            const size_t s = b == std::string::npos ? 0 : b + 1;
            if (all_output.compare(s, 1, "#") == 0) {
              last_line = all_output.substr(s, p - s);
              break;
            }
            if (b == std::string::npos) break;
            p = b;
          }
          if (all_output.size() > (1u << 20)) all_output.erase(0, all_output.size() - (1u << 19));
        } else if (n == 0) {
          close(kids[0].out);
          kids[0].out = -1;
        }
      }
    } else {
      usleep(200000);
    }
    if (!running && (afl || kids[0].out < 0)) break;
    if (g_interrupted) {
      for (Child& c : kids)
        if (c.pid > 0) kill(-c.pid, SIGINT);
    }
    const double now = mono_now();
    if (now >= next_report) {
      next_report = now + 2;
      if (afl) {
        auto m = read_stats(run + "/afl/main/fuzzer_stats");
        std::fprintf(stderr, "[fuzz %s] execs %.0f (%.0f/s main), stability %s, coverage %s, crashes %.0f\n",
                     fmt_time(now - t0).c_str(), num(m, "execs_done"), num(m, "execs_per_sec"),
                     m.count("stability") ? m["stability"].c_str() : "-",
                     m.count("bitmap_cvg") ? m["bitmap_cvg"].c_str() : "-", num(m, "saved_crashes"));
      } else if (!last_line.empty()) {
        std::fprintf(stderr, "[fuzz %s] %s\n", fmt_time(now - t0).c_str(), last_line.c_str());
      }
    }
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  const double duration = mono_now() - t0;

  // 4. Figures and findings.
  if (afl) {
    double coverage = 0;
    for (const std::string& inst : list_dir(run + "/afl")) {
      auto m = read_stats(run + "/afl/" + inst + "/fuzzer_stats");
      if (m.empty()) continue;
      fig.execs += num(m, "execs_done");
      fig.execs_per_s += num(m, "execs_per_sec");
      if (inst == "main") {
        fig.stability = m["stability"];
        coverage = num(m, "bitmap_cvg");
      }
      for (const char* kind : {"crashes", "hangs"})
        for (const std::string& f : list_dir(run + "/afl/" + inst + "/" + kind))
          if (f.rfind("id:", 0) == 0) fig.finding_files.push_back(run + "/afl/" + inst + "/" + kind + "/" + f);
    }
    fig.coverage = coverage;
    fig.coverage_unit = "% of the map";
    if (fig.execs == 0) {
      std::fprintf(stderr, "threadlab fuzz: afl-fuzz ran no input; its log: %s/afl-main.log\n", run.c_str());
      std::ifstream in(run + "/afl-main.log");
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string t = ss.str();
      std::fprintf(stderr, "%s\n", t.substr(t.size() > 3000 ? t.size() - 3000 : 0).c_str());
      return 2;
    }
  } else {
    std::istringstream in(all_output);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("stat::number_of_executed_units:", 0) == 0) fig.execs = std::atof(line.c_str() + 31);
      if (line.rfind("stat::average_exec_per_sec:", 0) == 0) fig.execs_per_s = std::atof(line.c_str() + 27);
      const size_t cov = line.find(" cov: ");
      if (line.rfind('#', 0) == 0 && cov != std::string::npos) fig.coverage = std::atof(line.c_str() + cov + 6);
    }
    if (fig.execs_per_s == 0 && fig.execs > 0 && duration > 0) fig.execs_per_s = fig.execs / duration;
    for (const std::string& f : list_dir(run + "/findings")) {
      const bool decoded = f.size() > 4 && f.compare(f.size() - 4, 4, ".txt") == 0;
      if (!decoded && (f.rfind("crash-", 0) == 0 || f.rfind("timeout-", 0) == 0 || f.rfind("oom-", 0) == 0))
        fig.finding_files.push_back(run + "/findings/" + f);
    }
    if (fig.execs == 0) {
      std::fprintf(stderr, "threadlab fuzz: libFuzzer ran no input; its output:\n%s\n",
                   all_output.substr(all_output.size() > 3000 ? all_output.size() - 3000 : 0).c_str());
      return 2;
    }
  }
  std::vector<nlohmann::json> findings;
  for (const std::string& f : fig.finding_files) {
    fuzz::Program p;
    std::string e;
    if (!fuzz::load_program(f, &p, &e)) continue;
    std::string base = f.substr(f.rfind('/') + 1);
    for (char& c : base)
      if (c == ':' || c == ',') c = '_';
    const std::string txt = run + "/findings/" + base + ".txt";
    const std::string text = fuzz::to_text(p);
    atomic_write(txt, text, &e);
    std::printf("finding: %s\n  decoded: %s\n%s", f.c_str(), txt.c_str(), text.c_str());
    findings.push_back({{"input", f}, {"program", txt}, {"text", text}});
  }
  std::printf("fuzz: %s on '%s' for %.0f s: %.0f execs, %.1f exec/s, stability %s, coverage %.2f %s, %zu finding(s)%s\n",
              o.engine.c_str(), o.adapter.c_str(), duration, fig.execs, fig.execs_per_s, fig.stability.c_str(),
              fig.coverage, fig.coverage_unit.c_str(), findings.size(),
              findings.empty() ? "" : (" (decoded in " + run + "/findings)").c_str());
  if (!o.reports.json.empty()) {
    nlohmann::json report = {{"verb", "fuzz"},          {"engine", o.engine},
                             {"adapter", o.adapter},    {"jobs", o.jobs},
                             {"started_unix", started}, {"duration_s", duration},
                             {"execs", fig.execs},      {"execs_per_s", fig.execs_per_s},
                             {"stability", fig.stability}, {"coverage", fig.coverage},
                             {"coverage_unit", fig.coverage_unit}, {"output_dir", run},
                             {"interrupted", g_interrupted != 0}, {"findings", findings}};
    std::string e;
    if (!atomic_write(o.reports.json, report.dump(2) + "\n", &e)) {
      std::fprintf(stderr, "threadlab fuzz: %s\n", e.c_str());
      return 2;
    }
  }
  return findings.empty() ? 0 : 1;
}

}  // namespace threadlab
