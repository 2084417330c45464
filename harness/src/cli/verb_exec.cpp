// verb_exec.cpp — `threadlab exec -- PROGRAM ARGS`: run any program under
// the watchdog, sample its leak counters from outside (/proc/PID), and on a
// hang dump every thread with gdb in batch mode before killing its group.
//
// Sampling: a program that cooperates gets THREADLAB_CYCLE_FD, a socket;
// after each lifecycle it writes one byte and waits for one byte back, and
// the harness samples while it waits — deterministic, per-cycle samples,
// judged for leaks after --warmup cycles like `leaks`. A program that does
// not is sampled every --interval ms; those series are reported, not judged
// (time is not a lifecycle).
//
// Invariants:
//   - A program that does not exist or cannot be executed is exit 2, before
//     any report file is written.
//   - The dump happens before the timeout; the group is killed right after
//     it. Which verdict is judged from outside (cpu_judge.h): the threads'
//     CPU time is sampled over a window ending at the dump (and, for a
//     cooperating program, its cycle markers count as a heartbeat). Every
//     thread asleep, no CPU time and no cycle in the window: `deadlock`.
//     Still burning CPU or still cycling: `timeout` (livelock or just slow),
//     and the reason says how much CPU which threads used. Either way the
//     dump, or the reason there is none (no gdb, attach refused), is kept.
#include <poll.h>
#include <sys/wait.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "child/child.h"
#include "probes/leak_analysis.h"
#include "probes/mutex_waits.h"
#include "probes/wait_graph.h"
#include "runner/process.h"
#include "runner/run_record.h"
#include "report/terminal.h"
#include "cli/verbs.h"
#include "probes/cpu_judge.h"
#include "probes/tasks.h"

namespace threadlab {
namespace {

std::string find_program(const std::string& prog) {
  auto executable = [](const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
  };
  if (prog.find('/') != std::string::npos) return executable(prog) ? prog : "";
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(dirs, d, ':');)
    if (executable((d.empty() ? "." : d) + "/" + prog)) return d + "/" + prog;
  return "";
}

// The wait-for cycle among threads blocked on pthread mutexes (mutex_waits.h),
// as the dump's `cycle`, or null; each waiting thread's entry in `threads`
// says which mutex it waits on and who holds it.
// Read before gdb stops the threads.
nlohmann::json mutex_cycle(const std::vector<MutexWait>& waits, nlohmann::json& threads) {
  std::vector<tl_adapter_wait_edge> edges;
  for (const MutexWait& w : waits) {
    tl_adapter_wait_edge e{};
    e.waiter = static_cast<uint64_t>(w.waiter);
    e.owner = static_cast<uint64_t>(w.owner);
    e.lock = w.mutex;
    std::snprintf(e.lock_name, sizeof e.lock_name, "pthread_mutex@%#lx", static_cast<unsigned long>(w.mutex));
    edges.push_back(e);
    for (auto& t : threads)
      if (t.value("tid", int64_t{0}) == w.waiter)
        t["waiting_on"] = fmt::format("{} ({} held by tid {})", t.value("waiting_on", ""), e.lock_name, w.owner);
  }
  nlohmann::json cycle = nullptr;
  for (const auto& e : find_wait_cycle(edges)) {
    if (cycle.is_null()) cycle = nlohmann::json::array();
    cycle.push_back({{"waiter", e.waiter}, {"lock", e.lock_name}, {"owner", e.owner}});
  }
  return cycle;
}

nlohmann::json gdb_dump(pid_t pid, std::string* note) {
  nlohmann::json threads = nlohmann::json::array();
  // What the kernel says each thread waits in, before gdb stops them.
  std::map<long, std::pair<std::string, std::string>> kstate;
  std::string outside_note;
  for (const ThreadSnapshot& t : outside_view(pid, &outside_note)) kstate[t.tid] = {t.kernel_state, t.waiting_on};
  if (find_program("gdb").empty()) {
    *note = "gdb not found on PATH: no backtraces (install gdb for hang dumps under exec)";
    for (auto& [tid, ks] : kstate)
      threads.push_back({{"tid", tid}, {"name", ""}, {"kernel_state", ks.first}, {"waiting_on", ks.second},
                         {"answered", false}, {"record", nullptr}, {"backtrace", nlohmann::json::array()}});
    return threads;
  }
  std::string out, err;
  bool timed_out = false;
  run_capture({"gdb", "-nx", "-batch", "-p", std::to_string(pid), "-ex", "set pagination off", "-ex",
               "thread apply all bt"},
              5000, &out, &timed_out, &err);
  if (timed_out) *note = "gdb did not finish within 5 s; ";
  static const std::regex head(R"re(^Thread \d+ \(.*LWP (\d+)\)(?: "([^"]*)")?)re");
  nlohmann::json* cur = nullptr;
  std::istringstream ls(out);
  for (std::string line; std::getline(ls, line);) {
    std::smatch m;
    if (std::regex_search(line, m, head)) {
      long tid = std::atol(m[1].str().c_str());
      auto ks = kstate.count(tid) ? kstate[tid] : std::make_pair(std::string("?"), std::string(""));
      threads.push_back({{"tid", tid}, {"name", m[2].str()}, {"kernel_state", ks.first}, {"waiting_on", ks.second},
                         {"answered", true}, {"record", nullptr}, {"backtrace", nlohmann::json::array()}});
      cur = &threads.back();
    } else if (cur && line.rfind('#', 0) == 0) {
      (*cur)["backtrace"].push_back(line);
    }
  }
  if (threads.empty()) *note += "gdb gave no backtraces (attach refused?): " + out.substr(0, 400);
  return threads;
}

}  // namespace

int verb_exec(const ExecOptions& o) {
  if (o.argv.empty()) return usage_error("exec needs a program: threadlab exec [OPTIONS] -- PROGRAM [ARGS]");
  std::string path = find_program(o.argv[0]);
  if (path.empty()) return usage_error(fmt::format("exec: program '{}' not found or not executable", o.argv[0]));
  if (!check_report_paths(o.reports)) return 2;
  runner_signals_install();

  SpawnSpec spec;
  spec.argv = o.argv;
  spec.argv[0] = path;
  spec.cycle_socket = true;
  Proc p;
  std::string err;
  const double t0 = mono_now(), started = unix_now();
  if (!proc_spawn(spec, &p, &err)) return usage_error("exec: " + err);

  RunIdentity id{"exec:" + o.argv[0], "none", 0, 0, {"exec"}, "pass", o.timeout_s};
  nlohmann::json run = run_skeleton(id);
  run["program"] = o.argv;
  bool cycle_mode = false;
  SeriesSet cycles(static_cast<size_t>(o.warmup)), timed(0);
  const double fire_at = t0 + watchdog_fire_ms(o.timeout_s) / 1000.0;
  // The CPU window before the dump: a quarter of the timeout, 0.5 to 10 s.
  const double cpu_from = std::max(t0, fire_at - std::clamp(o.timeout_s / 4, 0.5, 10.0));
  std::vector<TaskCpu> cpu_before;
  bool cpu_sampled = false;
  double cpu_sampled_at = t0;
  uint64_t cycles_seen = 0, cycles_at_cpu = 0;
  std::string cpu_note;
  double next_sample = t0;
  bool hung = false, interrupted = false;
  nlohmann::json mutexes = nullptr;  // wait-for cycle over pthread mutexes, at the hang
  CpuJudgement cpu;
  nlohmann::json dump;
  std::string dump_note;

  auto sample_into = [&](SeriesSet& s) {
    ProbeSample ps;
    std::string e;
    if (probe_sample(p.pid, &ps, &e)) {
      s.add(ps);
      s.end_sample(&ps);
    }
  };

  while (!proc_try_reap(&p)) {
    const double now = mono_now();
    if (runner_interrupted()) {
      interrupted = true;
      proc_kill_and_reap(&p);
      break;
    }
    if (!cpu_sampled && now >= cpu_from) {
      cpu_before = task_cpu(p.pid, &cpu_note);
      cpu_sampled = true;
      cpu_sampled_at = now;
      cycles_at_cpu = cycles_seen;
    }
    if (now >= fire_at) {
      hung = true;
      cpu = judge_cpu(cpu_before, task_cpu(p.pid, &cpu_note), now - cpu_sampled_at);
      std::string mutex_note;
      const std::vector<MutexWait> waits = pthread_mutex_waits(p.pid, &mutex_note);
      dump = gdb_dump(p.pid, &dump_note);
      mutexes = mutex_cycle(waits, dump);
      proc_kill_and_reap(&p);
      break;
    }
    if (!cycle_mode && now >= next_sample) {
      sample_into(timed);
      next_sample = now + o.interval_ms / 1000.0;
    }
    std::vector<pollfd> fds = {{runner_signal_fd(), POLLIN, 0}};
    if (p.out_fd >= 0) fds.push_back({p.out_fd, POLLIN, 0});
    if (p.cycle_fd >= 0) fds.push_back({p.cycle_fd, POLLIN, 0});
    double until = std::min(fire_at, cycle_mode ? fire_at : next_sample);
    if (!cpu_sampled) until = std::min(until, cpu_from);
    poll(fds.data(), fds.size(), static_cast<int>(std::clamp((until - now) * 1000, 0.0, 250.0)));
    runner_signal_drain();
    proc_drain(&p);
    if (p.cycle_fd >= 0) {
      char buf[64];
      ssize_t n = read(p.cycle_fd, buf, sizeof buf);
      if (n == 0) {
        close(p.cycle_fd);
        p.cycle_fd = -1;
      }
      for (ssize_t i = 0; i < n; ++i) {
        cycle_mode = true;
        ++cycles_seen;
        sample_into(cycles);
        char ack = 'a';
        (void)!write(p.cycle_fd, &ack, 1);
      }
    }
  }

  run["duration_s"] = mono_now() - t0;
  if (WIFEXITED(p.status)) run["exit"]["code"] = WEXITSTATUS(p.status);
  if (WIFSIGNALED(p.status) && !hung) {
    run["exit"]["signal"] = WTERMSIG(p.status);
    run["exit"]["signal_name"] = signal_name(WTERMSIG(p.status));
  }
  auto& ev = run["evidence"];
  ev["output"] = p.out.text();
  ev["output_bytes"] = p.out.total;
  std::string verdict = "pass", reason;
  if (hung) {
    const uint64_t cycles_in_window = cycles_seen - cycles_at_cpu;
    const bool moving = cpu.busy || cycles_in_window > 0;
    verdict = moving ? "timeout" : "deadlock";
    if (!cpu_note.empty()) dump_note += (dump_note.empty() ? "" : "; ") + cpu_note;
    ev["dump"] = {{"threads", dump}, {"cycle", mutexes}, {"note", dump_note}};
    ev["cpu"] = {{"threads", cpu.threads},
                 {"busy_threads", cpu.busy_threads},
                 {"cpu_s", cpu.cpu_s},
                 {"window_s", cpu.window_s},
                 {"cycles_in_window", cycles_in_window}};
    const std::string cycled =
        cycles_in_window ? fmt::format(", {} cycle marker(s) in that time", cycles_in_window) : "";
    reason = moving ? fmt::format("timed out after {:.1f}s, still running: {} thread(s) used {:.2f}s CPU in the last "
                                  "{:.1f}s{} (livelock or just slow, not stuck); {} thread(s) dumped",
                                  fire_at - t0, cpu.busy_threads, cpu.cpu_s, cpu.window_s, cycled, dump.size())
                    : fmt::format("stuck after {:.1f}s: every thread asleep, {} thread(s) used {:.2f}s CPU in the last "
                                  "{:.1f}s; {} thread(s) dumped",
                                  fire_at - t0, cpu.threads, cpu.cpu_s, cpu.window_s, dump.size());
    if (!dump_note.empty()) reason += " (" + dump_note + ")";
    if (!mutexes.is_null()) reason = describe_cycle(mutexes) + "; " + reason;
  } else if (WIFSIGNALED(p.status)) {
    verdict = "crash";
    reason = "killed by " + signal_name(WTERMSIG(p.status));
  } else if (WIFEXITED(p.status) && WEXITSTATUS(p.status) != 0) {
    verdict = "fail";
    reason = fmt::format("exited with status {}", WEXITSTATUS(p.status));
  }
  if (cycle_mode) {
    run["counters"] = cycles.to_json();
    run["params"] = {{"cycles", cycles.samples()}, {"warmup", o.warmup}};
    auto leaks = cycles.leaks();
    if (!leaks.empty()) {
      ev["leaks"] = leaks;
      if (verdict == "pass" || verdict == "fail") {
        auto& l = leaks[0];
        reason = fmt::format("{} grows {:.2f}/cycle ({} -> {}){}", l["counter"].get<std::string>(),
                             l["slope"].get<double>(), l["first"].get<double>(), l["last"].get<double>(),
                             l["new"].empty() ? "" : ": new " + l["new"][0].get<std::string>()) +
                 (verdict == "fail" ? "; " + reason : "");
        verdict = "leak";
      }
    }
  } else {
    run["counters"] = timed.to_json();
    run["params"] = {{"interval_ms", o.interval_ms}, {"warmup", 0}};
  }
  if (p.stray) ev["stray_processes"] = true;
  run["verdict"] = verdict;
  run["reason"] = reason;

  print_progress(run, 1, 1, mono_now() - t0);
  if (cycle_mode) print_leak_table(run);
  if (hung)
    for (auto& t : dump) {
      fmt::print("thread {} ({}) {} {}\n", t["tid"].get<long>(), t["name"].get<std::string>(),
                 t["kernel_state"].get<std::string>(), t["waiting_on"].get<std::string>());
      for (auto& f : t["backtrace"]) fmt::print("    {}\n", f.get<std::string>());
    }
  auto report = make_report("exec", {run}, interrupted, started, mono_now() - t0);
  if (!write_reports(o.reports, report, &err)) return usage_error(err);
  int rc = exit_code_for(report);
  return interrupted && rc == 0 ? 2 : rc;
}

}  // namespace threadlab
