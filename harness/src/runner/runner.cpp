// runner.cpp — see runner.h.
#include "runner/runner.h"

#include <poll.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>

#include "runner/process.h"
#include "probes/tasks.h"
#include "child/watchdog.h"

namespace threadlab {
namespace {

double now_s() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// The threads of a wedged child, seen from outside, in the dump's shape.
nlohmann::json outside_dump(const std::vector<ThreadSnapshot>& seen, const std::string& note) {
  nlohmann::json threads = nlohmann::json::array();
  for (auto& t : seen) threads.push_back(dump_thread_json(t, nullptr));
  return {{"threads", threads}, {"cycle", nullptr}, {"note", note}};
}

struct Active {
  size_t index = 0;
  Proc proc;
  double started = 0;
  double hard_deadline = 0;
  bool hard_timeout = false;
  bool dump_seen = false;
  // The kernel's view, taken when the child's own dump never came.
  bool outside_taken = false;
  std::vector<ThreadSnapshot> outside;
  std::string outside_note;
};

std::vector<std::string> child_argv(const Job& j) {
  std::vector<std::string> a = {self_exe(), "__child", "--scenario", j.id.scenario, "--adapter", j.id.adapter,
                                "--seed", std::to_string(j.id.seed), "--timeout", fmt::format("{}", j.id.timeout_s),
                                "--result-fd", "3"};
  auto opt = [&](const char* flag, int v) {
    if (v >= 0) {
      a.push_back(flag);
      a.push_back(std::to_string(v));
    }
  };
  opt("--cycles", j.cycles);
  opt("--warmup", j.warmup);
  opt("--threads", j.threads);
  opt("--iterations", j.iterations);
  if (j.stall_s > 0 && j.stall_s < j.id.timeout_s) {
    a.push_back("--stall");
    a.push_back(fmt::format("{}", j.stall_s));
  }
  return a;
}

}  // namespace

// glibc keeps up to 40 MiB of joined threads' stacks for reuse; which of
// them a cycle leaves cached depends on the order its threads exited, so at
// 64 threads the mappings count steps up and down by a stack and its guard
// from cycle to cycle, and four cycles of it can read as a slope (a false
// `leak` on fork-storm in the scale gate). With the cache off every joined
// thread's stack is unmapped at once.
std::string child_glibc_tunables(const char* parent) {
  std::string v = parent ? parent : "";
  if (v.find("glibc.pthread.stack_cache_size=") == std::string::npos)
    v += (v.empty() ? "" : ":") + std::string("glibc.pthread.stack_cache_size=0");
  return "GLIBC_TUNABLES=" + v;
}

RunTimeout run_timeout(const Scenario& s, const Job& j, std::optional<double> explicit_s) {
  if (explicit_s) return {*explicit_s, *explicit_s};
  auto ratio = [](int asked, int dflt) { return asked > 0 ? std::max(1.0, double(asked) / std::max(1, dflt)) : 1.0; };
  const double growth = std::min(kMaxTimeoutGrowth, ratio(j.threads, s.defaults.threads) *
                                                        ratio(j.iterations, s.defaults.iterations) *
                                                        ratio(j.cycles, s.defaults.cycles));
  const double base = static_cast<double>(s.timeout_s);
  return {base * growth, base};
}

std::vector<nlohmann::json> run_jobs(const std::vector<Job>& jobs, int parallel,
                                     const std::function<void(const nlohmann::json&, size_t)>& on_done,
                                     bool* interrupted) {
  runner_signals_install();
  *interrupted = false;
  std::vector<nlohmann::json> done;
  std::vector<Active> active;
  size_t next = 0;
  auto finish = [&](nlohmann::json run) {
    done.push_back(std::move(run));
    on_done(done.back(), done.size());
  };

  while (next < jobs.size() || !active.empty()) {
    if (runner_interrupted()) {
      for (auto& a : active) proc_kill_and_reap(&a.proc);
      *interrupted = true;
      break;
    }
    while (next < jobs.size() && static_cast<int>(active.size()) < std::max(1, parallel)) {
      const Job& j = jobs[next];
      nlohmann::json run = run_skeleton(j.id);
      if (!j.skip_reason.empty()) {
        run["verdict"] = "skip";
        run["reason"] = j.skip_reason;
        finish(run);
        ++next;
        continue;
      }
      Active a;
      a.index = next;
      a.started = now_s();
      a.hard_deadline = a.started + j.id.timeout_s + kHardGraceS;
      SpawnSpec spec;
      spec.argv = child_argv(j);
      spec.env_extra.push_back(child_glibc_tunables(std::getenv("GLIBC_TUNABLES")));
      spec.env_extra.insert(spec.env_extra.end(), j.env.begin(), j.env.end());
      spec.result_channel = true;
      std::string err;
      if (!proc_spawn(spec, &a.proc, &err)) {
        run["verdict"] = "fail";
        run["reason"] = "could not start the scenario child: " + err;
        finish(run);
      } else {
        active.push_back(std::move(a));
      }
      ++next;
    }
    if (active.empty()) continue;

    std::vector<pollfd> fds;
    fds.push_back({runner_signal_fd(), POLLIN, 0});
    double soonest = 1e18;
    for (auto& a : active) {
      if (a.proc.out_fd >= 0) fds.push_back({a.proc.out_fd, POLLIN, 0});
      if (a.proc.result_fd >= 0) fds.push_back({a.proc.result_fd, POLLIN, 0});
      soonest = std::min(soonest, a.hard_deadline);
    }
    int wait_ms = static_cast<int>(std::clamp((soonest - now_s()) * 1000, 0.0, 250.0));
    poll(fds.data(), fds.size(), wait_ms);
    runner_signal_drain();

    for (size_t i = 0; i < active.size();) {
      auto& a = active[i];
      proc_drain(&a.proc);
      if (!a.dump_seen && a.proc.result_buf.find("\"event\":\"dump\"") != std::string::npos) {
        // The watchdog has said everything it will: end the whole group now.
        a.dump_seen = true;
        proc_kill_group(&a.proc, SIGKILL);
      }
      if (!a.proc.exited && now_s() >= a.hard_deadline) {
        a.hard_timeout = true;
        if (!a.dump_seen) {
          a.outside = outside_view(a.proc.pid, &a.outside_note);
          a.outside_taken = true;
        }
        proc_kill_and_reap(&a.proc);
      }
      if (proc_try_reap(&a.proc)) {
        nlohmann::json run = run_skeleton(jobs[a.index].id);
        finish_run(run, a.proc, a.hard_timeout, now_s() - a.started,
                   a.outside_taken ? outside_dump(a.outside, a.outside_note) : nlohmann::json(nullptr));
        finish(run);
        active.erase(active.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
  }
  return done;
}

}  // namespace threadlab
