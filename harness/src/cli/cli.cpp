// cli.cpp — threadlab_main: the verbs and their flags (CLI11), dispatched to
// verbs.h. Exit codes: 0 all good, 1 findings, 2 usage or environment error.
//
// Invariants:
//   - Flag values are validated by CLI11 before any verb runs: a bad value
//     is a message naming the flag and exit 2.
//   - `__child` is the runner's private entry point for a scenario child,
//     `__exec` replay's for one op-program run; both are hidden from help
//     and not a user contract.
//   - Verbs owned by later work are listed under "Planned verbs" in --help
//     and exit 2 "not implemented yet"; an unknown verb is named as such.
//   - Every parse error is printed with the `threadlab:` prefix (parse_error).
//   - Adapters from libraries are loaded after parsing and before any verb
//     runs (prepare_adapters): THREADLAB_ADAPTER_LIB's, then the verb's
//     --adapter-lib ones, then a module for each --adapter NAME that is not
//     registered. A refusal, or a name found nowhere, is exit 2 naming it.
//   - A verb given --adapter-lib and no --adapter uses the adapters those
//     libraries carry (run: all of them; the others: the one, and several
//     without --adapter is a usage error), never the reference default.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <threadlab/adapter.h>

#include "adapters/builtin.h"
#include "child/child.h"
#include "cli/cli_support.h"
#include "cli/verbs.h"

namespace threadlab {
namespace {

void report_flags(CLI::App* cmd, ReportPaths* p, bool junit_html) {
  cmd->add_option("--json", p->json, "write the JSON report to FILE")->type_name("FILE");
  if (junit_html) {
    cmd->add_option("--junit", p->junit, "write a JUnit XML report to FILE")->type_name("FILE");
    cmd->add_option("--html", p->html, "write an HTML report (with leak plots) to FILE")->type_name("FILE");
  }
}

// A verb's adapter flags: --adapter (one name, or run's several) and
// --adapter-lib PATH (repeatable).
struct AdapterFlags {
  CLI::App* cmd = nullptr;
  CLI::Option* adapter = nullptr;
  std::string* one = nullptr;
  std::vector<std::string>* many = nullptr;
  bool strict = true;  // a name found nowhere is an error here (repro has its own names)
  std::vector<std::string> libs;
};

void adapter_lib_flag(std::deque<AdapterFlags>* all, CLI::App* cmd, CLI::Option* adapter, std::string* one,
                      std::vector<std::string>* many, bool strict = true) {
  all->push_back({cmd, adapter, one, many, strict, {}});
  cmd->add_option("--adapter-lib", all->back().libs,
                  "load an adapter from a shared library (repeatable); without --adapter, the adapter it carries "
                  "is the one used")
      ->type_name("PATH")
      ->allow_extra_args(false);  // one PATH per flag: the scenario names after it stay positional
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (auto& s : v) out += (out.empty() ? "'" : ", '") + s + "'";
  return out;
}

// Returns -1 to go on, else the exit code.
int prepare_adapters(AdapterFlags* f) {
  if (auto why = load_env_adapter_libs(); !why.empty()) return usage_error(why);
  if (!f) return -1;
  std::vector<std::string> from_libs;
  for (auto& path : f->libs) {
    std::string name;
    if (auto why = load_adapter_lib(path, &name); !why.empty()) return usage_error(why);
    if (std::find(from_libs.begin(), from_libs.end(), name) == from_libs.end()) from_libs.push_back(name);
  }
  std::vector<std::string> names;
  if (f->adapter && f->adapter->count() > 0) {
    names = f->many ? *f->many : std::vector<std::string>{*f->one};
  } else if (!from_libs.empty() && (f->one || f->many)) {
    if (f->many) {
      *f->many = from_libs;
    } else if (from_libs.size() == 1) {
      *f->one = from_libs.front();
    } else {
      return usage_error(fmt::format("{}: --adapter-lib loaded adapters {}; name the one to use with --adapter",
                                     f->cmd->get_name(), joined(from_libs)));
    }
    names = from_libs;
  }
  for (auto& n : names) {
    bool found = false;
    if (auto why = load_adapter_module(n, &found); !why.empty()) return usage_error(why);
    if (f->strict && !find_adapter(n)) {
      std::string dirs;
      for (auto& d : adapter_module_dirs()) dirs += (dirs.empty() ? "" : ", ") + d;
      return usage_error(fmt::format("unknown adapter '{}': not built in, not loaded by --adapter-lib or "
                                     "THREADLAB_ADAPTER_LIB, and no threadlab-adapter-{}.so in {} "
                                     "(threadlab list shows the adapters)",
                                     n, n, dirs.empty() ? "the module path" : dirs));
    }
  }
  return -1;
}

int run_cli(int argc, char** argv) {
  CLI::App app{"threadlab — test and fuzz harness for runtime thread machinery"};
  app.set_version_flag("--version", std::string("threadlab ") + TL_VERSION);
  app.require_subcommand(1);
  app.footer(help_footer());

  std::deque<AdapterFlags> adapter_flags;
  bool list_json = false;
  auto* list = app.add_subcommand("list", "list scenarios with tags, capabilities and descriptions");
  list->add_flag("--json", list_json, "print the list as JSON");
  bool list_markdown = false;
  list->add_flag("--markdown", list_markdown, "print the scenario table of docs/scenarios.md (Markdown)");
  adapter_lib_flag(&adapter_flags, list, nullptr, nullptr, nullptr);

  RunOptions run;
  uint64_t run_seed = 0;
  double run_timeout = 0;
  auto* runc = app.add_subcommand("run", "run scenarios, each in its own child process");
  runc->add_option("names", run.names, "scenarios to run (default: all but selftest/broken)");
  runc->add_option("--tag", run.tags, "run the scenarios with this tag (repeatable)")->type_name("TAG");
  auto* run_adapter = runc->add_option("--adapter", run.adapters,
                                       "runtime adapter, repeatable (default: reference and reference-hybrid, "
                                       "the two suspension policies; with --adapter-lib, the adapters loaded)")
                          ->type_name("NAME")
                          ->allow_extra_args(false);
  adapter_lib_flag(&adapter_flags, runc, run_adapter, nullptr, &run.adapters);
  runc->add_option("--repeat", run.repeat, "runs per scenario, seeds S, S+1, ...")->check(num_range(1, 100000));
  auto* seed_opt = runc->add_option("--seed", run_seed, "base seed (default: random, printed)")->check(seed_check());
  auto* timeout_opt = runc->add_option("--timeout", run_timeout,
                                       "per-run timeout in seconds (default: scenario's, grown with --threads, "
                                       "--iterations, --cycles and --scale)")
                          ->check(num_range(0.5, 86400.0));
  runc->add_option("--jobs", run.jobs, "runs in parallel")->check(num_range(1, 256));
  runc->add_option("--threads", run.threads, "worker threads per cycle (default: scenario's)")
      ->check(num_range(1, 1024));
  runc->add_option("--iterations", run.iterations, "work per thread per cycle (default: scenario's)")
      ->check(num_range(1, 100000000));
  runc->add_option("--cycles", run.cycles, "lifecycles per run (default: scenario's)")->check(num_range(1, 10000000));
  runc->add_option("--scale", run.scale, "multiply every scenario's default threads by N (--threads wins)")
      ->check(num_range(1, 1024));
  report_flags(runc, &run.reports, true);
  runc->footer(
      "Under the sanitizers: ci/threadlab --preset tsan run ... (or --preset asan) builds build/tsan and runs its "
      "threadlab. A run still progressing at its timeout is `timeout`; one whose heartbeat stopped is `deadlock` "
      "(docs/report-schema.md).");

  ExecOptions ex;
  auto* exec = app.add_subcommand("exec", "run any program under the watchdog");
  exec->add_option("--timeout", ex.timeout_s, "seconds before the hang dump and kill (default 60)")
      ->check(num_range(0.5, 86400.0));
  exec->add_option("--interval", ex.interval_ms, "sampling period in ms without cycle markers (default 100)")
      ->check(num_range(5, 60000));
  exec->add_option("--warmup", ex.warmup, "cycle markers excluded from the leak fit (default 2)")
      ->check(num_range(0, 1000000));
  report_flags(exec, &ex.reports, true);
  exec->add_option("program", ex.argv, "-- PROGRAM [ARGS...]")->required();

  LeaksOptions lk;
  uint64_t lk_seed = 0;
  double lk_timeout = 0;
  auto* leaks = app.add_subcommand("leaks", "leak-count report for one scenario's lifecycle");
  leaks->add_option("scenario", lk.scenario, "scenario to cycle")->required();
  leaks->add_option("--cycles", lk.cycles, "lifecycles to run (default 200)")->check(num_range(5, 10000000));
  leaks->add_option("--warmup", lk.warmup, "cycles excluded from the fit (default 10)")->check(num_range(0, 10000000));
  adapter_lib_flag(&adapter_flags, leaks,
                   leaks->add_option("--adapter", lk.adapter, "runtime adapter (default reference)")->type_name("NAME"),
                   &lk.adapter, nullptr);
  auto* lk_seed_opt = leaks->add_option("--seed", lk_seed, "seed (default: random, printed)")->check(seed_check());
  auto* lk_timeout_opt = leaks->add_option("--timeout", lk_timeout, "timeout in seconds")->check(num_range(0.5, 86400.0));
  report_flags(leaks, &lk.reports, true);

  ImageOptions img;
  auto* image = app.add_subcommand("image", "heap images");
  image->require_subcommand(1);
  auto* image_check = image->add_subcommand("check", "verify a heap image (exit 1 when it is bad)");
  image_check->add_option("file", img.file, "the image file")->required();
  adapter_lib_flag(&adapter_flags, image_check,
                   image_check->add_option("--adapter", img.adapter, "runtime adapter that reads it (default reference)")
                       ->type_name("NAME"),
                   &img.adapter, nullptr);

  CodecOptions dec, enc;
  auto* decode = app.add_subcommand("decode", "print an op program (binary or text) as canonical text");
  decode->add_option("file", dec.in, "program file (default -: standard input)");
  decode->add_option("-o,--output", dec.out, "where to write the text (default -: standard output)")->type_name("FILE");
  auto* encode = app.add_subcommand("encode", "turn a text op program into its binary encoding");
  encode->add_option("file", enc.in, "text program (default -: standard input)");
  encode->add_option("-o,--output", enc.out, "where to write the bytes (default -: standard output)")
      ->type_name("FILE");

  ReplayOptions rp;
  auto* replay = app.add_subcommand("replay", "rerun op programs, each in its own child, a verdict per file");
  replay->add_option("files", rp.files, "program files (text or binary)")->required();
  adapter_lib_flag(&adapter_flags, replay,
                   replay->add_option("--adapter", rp.adapter, "runtime adapter (default reference)")->type_name("NAME"),
                   &rp.adapter, nullptr);
  replay->add_option("--repeat", rp.repeat, "runs per file (flaky findings)")->check(num_range(1, 100000));
  replay->add_option("--timeout", rp.timeout_s, "per-run timeout in seconds (default 30)")
      ->check(num_range(0.5, 86400.0));
  report_flags(replay, &rp.reports, true);

  MinimizeOptions mn;
  auto* minimize = app.add_subcommand("minimize", "shrink a failing op program at the op level");
  minimize->add_option("file", mn.file, "the failing program (text or binary)")->required();
  minimize->add_option("-o,--output", mn.out, "where to write the minimal text (default FILE.min.txt)")
      ->type_name("FILE");
  adapter_lib_flag(&adapter_flags, minimize,
                   minimize->add_option("--adapter", mn.adapter, "runtime adapter (default reference)")->type_name("NAME"),
                   &mn.adapter, nullptr);
  minimize->add_option("--tries", mn.tries, "runs per candidate; it fails if any run fails (default 5)")
      ->check(num_range(1, 1000));
  minimize->add_option("--timeout", mn.timeout_s, "per-run timeout in seconds (default 30)")
      ->check(num_range(0.5, 86400.0));

  ReproOptions rr;
  auto* repro = app.add_subcommand("repro", "write a standalone C reproducer of a finding");
  repro->add_option("file", rr.file, "the program (text or binary)")->required();
  repro->add_option("-o,--output", rr.out, "the C file (default -: standard output)")->type_name("FILE");
  adapter_lib_flag(&adapter_flags, repro,
                   repro->add_option("--adapter", rr.adapter, "adapter the reproducer drives (default reference)")
                       ->type_name("NAME"),
                   &rr.adapter, nullptr, false);

  FuzzOptions fz;
  auto* fuzz = app.add_subcommand("fuzz", "fuzz op programs with AFL++ or libFuzzer");
  fuzz->add_option("--engine", fz.engine, "afl or libfuzzer (default libfuzzer)")
      ->check(CLI::IsMember({"afl", "libfuzzer"}));
  fuzz->add_option("--time", fz.time_s, "seconds to fuzz (default 60)")->check(num_range(1.0, 31536000.0));
  adapter_lib_flag(&adapter_flags, fuzz,
                   fuzz->add_option("--adapter", fz.adapter, "runtime adapter (default reference)")->type_name("NAME"),
                   &fz.adapter, nullptr);
  fuzz->add_option("--jobs", fz.jobs, "fuzzer instances (AFL++: one main, N-1 secondaries)")
      ->check(num_range(1, 256));
  fuzz->add_option("--corpus", fz.corpus, "seed corpus directory (default fuzz/corpus)")->type_name("DIR");
  fuzz->add_option("--out", fz.out_dir, "output directory (default build/fuzz/ENGINE-ADAPTER)")->type_name("DIR");
  report_flags(fuzz, &fz.reports, false);

  SelftestOptions st;
  uint64_t st_seed = 0;
  auto* selftest = app.add_subcommand("selftest", "prove every injected defect is caught and the clean runtime never flagged");
  selftest->add_option("names", st.names, "scenarios to use (default: all)");
  selftest->add_option("--defect", st.defects, "only this injected defect (repeatable)")->type_name("NAME")->allow_extra_args(false);
  auto* st_adapter = selftest->add_option("--adapter", st.adapters,
                                          "runtime adapter, repeatable (default: reference and reference-hybrid)")
                         ->type_name("NAME")
                         ->allow_extra_args(false);
  adapter_lib_flag(&adapter_flags, selftest, st_adapter, nullptr, &st.adapters);
  selftest->add_option("--repeat", st.repeat, "runs per scenario and adapter, clean and with each defect (default 3)")
      ->check(num_range(1, 100000));
  selftest->add_option("--jobs", st.jobs, "runs in parallel")->check(num_range(1, 256));
  auto* st_seed_opt = selftest->add_option("--seed", st_seed, "base seed (default: random, printed)")->check(seed_check());
  selftest->add_option("--json", st.json, "write the JSON report to FILE")->type_name("FILE");
  selftest->add_option("--html", st.html, "write the HTML report (the matrix, then every run) to FILE")->type_name("FILE");

  ChildArgs child;
  auto* ch = app.add_subcommand("__child", "")->group("");
  ch->add_option("--scenario", child.scenario)->required();
  ch->add_option("--adapter", child.adapter)->required();
  ch->add_option("--seed", child.seed);
  ch->add_option("--cycles", child.cycles);
  ch->add_option("--warmup", child.warmup);
  ch->add_option("--threads", child.threads);
  ch->add_option("--iterations", child.iterations);
  ch->add_option("--timeout", child.timeout_s);
  ch->add_option("--stall", child.stall_s);
  ch->add_option("--result-fd", child.result_fd);

  std::string fx_adapter, fx_file;
  auto* fx = app.add_subcommand("__exec", "")->group("");
  fx->add_option("--adapter", fx_adapter)->required();
  fx->add_option("file", fx_file)->required();

  if (int rc = check_verb(app, argc, argv); rc >= 0) return rc;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return parse_error(app, e);
  }
  AdapterFlags* chosen = nullptr;
  for (auto& f : adapter_flags)
    if (f.cmd->parsed()) chosen = &f;
  if (int rc = prepare_adapters(chosen); rc >= 0) return rc;
  if (*list) return verb_list(list_json, list_markdown);
  if (*runc) {
    if (*seed_opt) run.seed = run_seed;
    if (*timeout_opt) run.timeout_s = run_timeout;
    return verb_run(run);
  }
  if (*exec) return verb_exec(ex);
  if (*leaks) {
    if (*lk_seed_opt) lk.seed = lk_seed;
    if (*lk_timeout_opt) lk.timeout_s = lk_timeout;
    return verb_leaks(lk);
  }
  if (*ch) return child_main(child);
  if (*fx) return exec_program_main(fx_adapter, fx_file);
  if (*image_check) return verb_image_check(img);
  if (*decode) return verb_decode(dec);
  if (*encode) return verb_encode(enc);
  if (*replay) return verb_replay(rp);
  if (*minimize) return verb_minimize(mn);
  if (*repro) return verb_repro(rr);
  if (*fuzz) return verb_fuzz(fz);
  if (*selftest) {
    if (*st_seed_opt) st.seed = st_seed;
    return verb_selftest(st);
  }
  std::fprintf(stderr, "threadlab: verb '%s' is planned and not implemented yet (threadlab --help lists verbs)\n",
               app.get_subcommands().front()->get_name().c_str());
  return 2;
}

}  // namespace
}  // namespace threadlab

extern "C" int threadlab_main(int argc, char** argv, const tl_adapter* const* extra, size_t n) {
  threadlab::register_extra_adapters(extra, n);
  return threadlab::run_cli(argc, argv);
}
