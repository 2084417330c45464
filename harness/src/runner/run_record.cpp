// run_record.cpp — see run_record.h.
#include "runner/run_record.h"

#include <sys/wait.h>

#include <cstdlib>
#include <cxxabi.h>
#include <sstream>

#include <fmt/format.h>
#include <threadlab/scenario.h>

namespace threadlab {

nlohmann::json run_skeleton(const RunIdentity& id) {
  return {{"scenario", id.scenario},
          {"adapter", id.adapter},
          {"seed", id.seed},
          {"repeat", id.repeat},
          {"tags", id.tags},
          {"expected", id.expected},
          {"timeout_s", id.timeout_s},
          {"verdict", "pass"},
          {"reason", ""},
          {"duration_s", 0.0},
          {"exit", {{"code", nullptr}, {"signal", nullptr}, {"signal_name", nullptr}}},
          {"evidence", nlohmann::json::object()},
          {"counters", nlohmann::json::object()}};
}

std::string describe_cycle(const nlohmann::json& cycle) {
  if (!cycle.is_array() || cycle.empty()) return "";
  std::string s = "wait-for cycle: ";
  for (size_t i = 0; i < cycle.size(); ++i) {
    auto& e = cycle[i];
    s += fmt::format("{}thread {} waits for lock '{}' held by thread {}", i ? ", " : "",
                     e["waiter"].get<uint64_t>(), e["lock"].get<std::string>(), e["owner"].get<uint64_t>());
  }
  return s;
}

namespace {
bool has_verdict(const nlohmann::json& findings, const char* verdict) {
  for (auto& f : findings)
    if (f.value("verdict", "") == verdict) return true;
  return false;
}

std::string demangle_frame(const std::string& line) {
  // "frame 0xIP NAME+0xOFF"
  std::istringstream ls(line);
  std::string tag, ip, sym;
  ls >> tag >> ip >> sym;
  auto plus = sym.rfind('+');
  std::string name = plus == std::string::npos ? sym : sym.substr(0, plus);
  std::string off = plus == std::string::npos ? "" : sym.substr(plus);
  int st = 0;
  if (char* d = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &st)) {
    name = d;
    std::free(d);
  }
  return ip + " " + name + off;
}
}  // namespace

void finish_run(nlohmann::json& run, const Proc& p, bool hard_timeout, double duration_s,
                const nlohmann::json& outside) {
  run["duration_s"] = duration_s;
  auto& ev = run["evidence"];
  nlohmann::json result, dump, streamed = nlohmann::json::array();
  nlohmann::json beat;  // the watchdog's first line: heartbeat when it fired
  bool watchdog = false, timed_out = false;
  std::vector<std::string> crash_frames;
  std::string crash_head;
  std::istringstream lines(p.result_buf);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("crash end", 0) == 0) continue;
    if (line.rfind("crash ", 0) == 0) {
      crash_head = line.substr(6);
    } else if (line.rfind("frame ", 0) == 0) {
      crash_frames.push_back(fmt::format("#{} {}", crash_frames.size(), demangle_frame(line)));
    } else if (!line.empty() && line[0] == '{') {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;
      std::string e = j.value("event", "");
      if (e == "result") result = j;
      if (e == "dump") dump = j;
      if (e == "watchdog" || e == "timeout") {
        (e == "watchdog" ? watchdog : timed_out) = true;
        beat = j;
      }
      if (e == "finding" && j.contains("finding")) streamed.push_back(j["finding"]);
    }
  }

  if (WIFEXITED(p.status)) run["exit"]["code"] = WEXITSTATUS(p.status);
  if (WIFSIGNALED(p.status)) {
    run["exit"]["signal"] = WTERMSIG(p.status);
    run["exit"]["signal_name"] = signal_name(WTERMSIG(p.status));
  }
  ev["output"] = p.out.text();
  ev["output_bytes"] = p.out.total;
  if (p.stray) ev["stray_processes"] = true;

  std::string verdict = "pass", reason;
  if (beat.is_object())
    ev["progress"] = {{"cycles", beat.value("cycles", uint64_t{0})},
                      {"operations", beat.value("operations", uint64_t{0})},
                      {"stalled_s", beat.value("stalled_ms", 0) / 1000.0},
                      {"window_s", beat.value("recent_ms", 0) / 1000.0}};
  if (timed_out && !watchdog && describe_cycle(dump["cycle"]).empty() && !has_verdict(streamed, "deadlock")) {
    // Time ran out with the heartbeat still moving: slow (or livelocked),
    // not stuck. A finding made on the way outranks it.
    verdict = "timeout";
    reason = fmt::format("still progressing when time ran out after {:.1f}s: {} cycle(s) and {} operation(s) done, "
                         "the heartbeat last moved {:.1f}s before",
                         beat.value("after_ms", 0) / 1000.0, beat.value("cycles", uint64_t{0}),
                         beat.value("operations", uint64_t{0}), beat.value("stalled_ms", 0) / 1000.0);
    if (!dump.is_null())
      ev["dump"] = {{"threads", dump["threads"]}, {"cycle", dump["cycle"]}, {"note", dump["note"]}};
    Verdict worst = Verdict::Timeout, v;
    std::string what;
    for (auto& f : streamed)
      if (verdict_from_name(f.value("verdict", ""), &v) && verdict_rank(v) > verdict_rank(worst))
        worst = v, what = f.value("what", "");
    if (worst != Verdict::Timeout) {
      verdict = verdict_name(worst);
      reason = what + "; then " + reason;
    }
  } else if (!dump.is_null() || watchdog || timed_out || hard_timeout) {
    verdict = "deadlock";
    if (!dump.is_null()) {
      ev["dump"] = {{"threads", dump["threads"]}, {"cycle", dump["cycle"]}, {"note", dump["note"]}};
      std::string cyc = describe_cycle(dump["cycle"]);
      reason = !cyc.empty() ? cyc
               : beat.is_object()
                   ? fmt::format("no progress for {:.1f}s ({} cycle(s), {} operation(s) done) when the watchdog "
                                 "fired; {} threads dumped",
                                 beat.value("stalled_ms", 0) / 1000.0, beat.value("cycles", uint64_t{0}),
                                 beat.value("operations", uint64_t{0}), dump["threads"].size())
                   : fmt::format("no progress before the watchdog fired; {} threads dumped", dump["threads"].size());
      if (!cyc.empty() && timed_out) reason += " (other threads still progressing)";
      // No cycle, but a runtime lock someone waits for (e.g. held by a
      // thread that is gone): name the first such wait.
      if (cyc.empty())
        for (auto& t : dump["threads"])
          if (t["record"].is_object() && t["record"].value("waiting_on", "").rfind("lock ", 0) == 0) {
            reason += fmt::format("; thread {} waits for {}", t["record"].value("id", uint64_t{0}),
                                  t["record"].value("waiting_on", ""));
            break;
          }
    } else if (outside.is_object() && !outside["threads"].empty()) {
      // The child's watchdog fired (or not) but its dump never came: it
      // allocates, and a stopped thread may hold the allocator's lock.
      int futex = 0;
      for (auto& t : outside["threads"])
        if (t.value("waiting_on", "").rfind("futex", 0) == 0) ++futex;
      const std::string what = watchdog ? "the watchdog fired but its dump never came" : "no word from the watchdog";
      std::string note = what + " (a thread stopped holding a lock it needs, such as malloc's?): threads as the kernel "
                                "saw them from outside";
      if (!outside.value("note", "").empty()) note += "; " + outside.value("note", "");
      ev["dump"] = {{"threads", outside["threads"]}, {"cycle", nullptr}, {"note", note}};
      reason = fmt::format("killed after {}s; {}; {} threads seen from outside, {} waiting in futex",
                           run["timeout_s"].get<double>(), what, outside["threads"].size(), futex);
    } else {
      reason = fmt::format("killed after {}s with no dump from the watchdog", run["timeout_s"].get<double>());
    }
    // A deadlock the scenario diagnosed itself (e.g. a stop-the-world that
    // named the thread that never answered) is the better reason.
    for (auto& f : streamed)
      if (f.value("verdict", "") == "deadlock") {
        reason = f.value("what", "") + "; " + reason;
        break;
      }
  } else if (!crash_head.empty() || WIFSIGNALED(p.status)) {
    verdict = "crash";
    int sig = WIFSIGNALED(p.status) ? WTERMSIG(p.status) : 0;
    reason = sig ? fmt::format("killed by {}", signal_name(sig)) : "fatal signal";
    if (!crash_head.empty()) reason += " (" + crash_head + ")";
    ev["crash"] = {{"signal", crash_head}, {"backtrace", crash_frames}};
  } else if (!result.is_null()) {
    verdict = result.value("verdict", "fail");
    reason = result.value("reason", "");
    for (auto* k : {"findings", "violations", "leaks", "predicted_cycles", "tallies"})
      if (result.contains(k) && !result[k].empty()) ev[k] = result[k];
    run["counters"] = result.value("counters", nlohmann::json::object());
    run["params"] = result.value("params", nlohmann::json::object());
    run["cycles_run"] = result.value("cycles_run", 0);
  } else if (const std::string out = p.out.text(); out.find("ThreadSanitizer: lock-order-inversion") != std::string::npos) {
    // The tsan preset: ThreadSanitizer saw runtime locks (annotated) taken in
    // both orders and halted the child: a predicted deadlock, as the runtime's
    // own lock-order graph would have reported it.
    verdict = "deadlock";
    const size_t at = out.find("Cycle in lock order graph:");
    reason = "predicted deadlock (ThreadSanitizer lock-order-inversion; no thread needs to have hung)";
    if (at != std::string::npos) reason += ": " + out.substr(at, out.find('\n', at) - at);
  } else {
    verdict = "fail";
    reason = fmt::format("child exited with status {} without a result", WIFEXITED(p.status) ? WEXITSTATUS(p.status) : -1);
  }
  if (result.is_null() && !streamed.empty()) ev["findings"] = streamed;
  if (p.stray && verdict == "pass") {
    verdict = "fail";
    reason = "left stray processes in its process group (killed)";
  }
  run["verdict"] = verdict;
  run["reason"] = reason;
}

}  // namespace threadlab
