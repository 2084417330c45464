// verb_minimize.cpp — `threadlab minimize FILE`: reduce a failing op
// program at the op level and write the smallest one found as text.
//
// Invariants:
//   - The target is the verdict the original gets (the first non-pass one
//     over --tries runs); a program that passes every run is not a finding:
//     exit 2, nothing written.
//   - A candidate "still fails" when any of its --tries runs gets that same
//     verdict: thread bugs are flaky, and one failing run is proof, while a
//     passing run is not proof of a pass. Each run is `threadlab replay` in
//     a child (its own process group, the timeout enforced there), so a
//     crashing or hanging candidate costs one run, never the minimizer.
//   - Candidates are always valid programs: removing ops can leave a name
//     used but no longer defined; such a candidate fails check() and is not
//     run (the definition goes later, with its uses).
//   - Reduction is delta debugging over op lists: chunks of half the list,
//     then quarters, ... down to single ops, at the top level and then inside
//     every body; then each op's properties (delay, fail_nth, async) are
//     dropped where the failure stays. The result is 1-minimal for removal
//     of single ops in each list, as of the last pass.
//   - The result is written atomically (FILE.min.txt unless -o) and printed.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <threadlab/fuzz/program.h>

#include "adapters/builtin.h"
#include "cli/verbs.h"
#include "report/report.h"
#include "runner/process.h"

namespace threadlab {
namespace {

using fuzz::Op;
using fuzz::Program;

struct Judge {
  std::string adapter, dir;
  double timeout_s = 30;
  int tries = 5;
  std::string target;  // the verdict to keep
  unsigned candidates = 0, runs = 0;

  // The verdict replay gives `p` over `tries` runs ("pass" when none failed).
  std::string verdict(const Program& p) {
    const std::string file = dir + "/candidate.txt", json = dir + "/candidate.json";
    std::string err;
    if (!atomic_write(file, fuzz::to_text(p), &err)) return "error";
    std::remove(json.c_str());
    std::string out;
    bool timed_out = false;
    const int limit_ms = static_cast<int>((timeout_s * tries + 30) * 1000);
    ++candidates;
    runs += static_cast<unsigned>(tries);
    if (!run_capture({self_exe(), "replay", "--adapter", adapter, "--repeat", std::to_string(tries), "--timeout",
                      std::to_string(timeout_s), "--json", json, file},
                     limit_ms, &out, &timed_out, &err))
      return "error";
    std::ifstream in(json);
    if (!in) return timed_out ? "timeout" : "error";
    try {
      const nlohmann::json j = nlohmann::json::parse(in);
      return j.at("files").at(0).at("verdict").get<std::string>();
    } catch (const std::exception&) {
      return "error";
    }
  }
  bool still_fails(const Program& p) {
    if (!fuzz::check(p).empty()) return false;
    return verdict(fuzz::canonical(p)) == target;
  }
};

// The op list at `path`: {} the top level, {i} ops[i]'s body, {i, j} ...
std::vector<Op>& list_at(Program& p, const std::vector<size_t>& path) {
  std::vector<Op>* l = &p.ops;
  for (size_t i : path) l = &(*l)[i].body;
  return *l;
}

void reduce_list(Program& best, const std::vector<size_t>& path, Judge& j) {
  size_t chunk = std::max<size_t>(1, list_at(best, path).size() / 2);
  for (;;) {
    for (size_t i = 0; i < list_at(best, path).size();) {
      Program cand = best;
      std::vector<Op>& l = list_at(cand, path);
      l.erase(l.begin() + static_cast<std::ptrdiff_t>(i),
              l.begin() + static_cast<std::ptrdiff_t>(std::min(l.size(), i + chunk)));
      if (j.still_fails(cand)) {
        best = std::move(cand);
        std::fprintf(stderr, "minimize: %zu ops\n", fuzz::op_count(best));
      } else {
        i += chunk;
      }
    }
    if (chunk == 1) break;
    chunk /= 2;
  }
  for (size_t i = 0; i < list_at(best, path).size(); ++i) {
    if (list_at(best, path)[i].body.empty()) continue;
    std::vector<size_t> inner = path;
    inner.push_back(i);
    reduce_list(best, inner, j);
  }
}

void reduce_props(Program& best, const std::vector<size_t>& path, Judge& j) {
  for (size_t i = 0; i < list_at(best, path).size(); ++i) {
    for (int which = 0; which < 3; ++which) {
      Program cand = best;
      fuzz::Props& pr = list_at(cand, path)[i].props;
      if (which == 0 && pr.delay_us) pr.delay_us = 0;
      else if (which == 1 && pr.fail_nth) pr.fail_nth = 0;
      else if (which == 2 && pr.async) pr.async = false;
      else continue;
      if (j.still_fails(cand)) best = std::move(cand);
    }
    if (!list_at(best, path)[i].body.empty()) {
      std::vector<size_t> inner = path;
      inner.push_back(i);
      reduce_props(best, inner, j);
    }
  }
}

}  // namespace

int verb_minimize(const MinimizeOptions& o) {
  const tl_adapter* a = find_adapter(o.adapter);
  if (!a) return usage_error("minimize: unknown adapter '" + o.adapter + "' (threadlab list names them)");
  if (auto why = adapter_problem(a); !why.empty())
    return usage_error("minimize: adapter '" + o.adapter + "' is unusable: " + why);
  Program p;
  std::string err;
  if (!fuzz::load_program(o.file, &p, &err)) return usage_error("minimize: " + err);
  const std::string out = o.out.empty() ? o.file + ".min.txt" : o.out;
  if (!check_writable(out, &err)) return usage_error("minimize: " + err);
  char tmpl[] = "/tmp/threadlab-minimize-XXXXXX";
  if (!mkdtemp(tmpl)) return usage_error(std::string("minimize: cannot make a temporary directory: ") + strerror(errno));
  Judge j;
  j.adapter = o.adapter;
  j.dir = tmpl;
  j.timeout_s = o.timeout_s;
  j.tries = o.tries;
  p = fuzz::canonical(p);
  j.target = j.verdict(p);
  const size_t before = fuzz::op_count(p);
  if (j.target == "pass" || j.target == "error") {
    std::remove((j.dir + "/candidate.txt").c_str());
    std::remove((j.dir + "/candidate.json").c_str());
    rmdir(j.dir.c_str());
    return usage_error("minimize: " + o.file +
                       (j.target == "pass" ? " passed all " + std::to_string(o.tries) + " runs: nothing to minimize"
                                           : " could not be run (threadlab replay " + o.file + " says why)"));
  }
  std::fprintf(stderr, "minimize: %s fails with '%s' (%zu ops); reducing, %d run(s) per candidate\n", o.file.c_str(),
               j.target.c_str(), before, o.tries);
  Program best = p;
  size_t last;
  do {  // passes until one removes nothing
    last = fuzz::op_count(best);
    reduce_list(best, {}, j);
  } while (fuzz::op_count(best) < last);
  reduce_props(best, {}, j);
  best = fuzz::canonical(best);
  std::remove((j.dir + "/candidate.txt").c_str());
  std::remove((j.dir + "/candidate.json").c_str());
  rmdir(j.dir.c_str());
  const std::string text = "# minimized from " + o.file + " (verdict " + j.target + ", adapter " + o.adapter + ")\n" +
                           fuzz::to_text(best);
  if (!atomic_write(out, text, &err)) return usage_error("minimize: " + err);
  std::printf("%s", text.c_str());
  std::printf("minimize: %zu ops -> %zu ops, verdict '%s' kept; %u candidates, %u runs; written to %s\n", before,
              fuzz::op_count(best), j.target.c_str(), j.candidates, j.runs, out.c_str());
  return 0;
}

}  // namespace threadlab
