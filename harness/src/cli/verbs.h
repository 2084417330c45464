// verbs.h — one function per CLI verb; cli.cpp parses flags into these
// option structs. Every verb returns the process exit code: 0 all good,
// 1 findings, 2 usage or environment error (with a message naming it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <threadlab/adapter.h>

#include "report/report.h"

namespace threadlab {

struct RunOptions {
  std::vector<std::string> names;
  std::vector<std::string> tags;
  std::vector<std::string> adapters;  // empty: reference and reference-hybrid
  int repeat = 1;
  std::optional<uint64_t> seed;
  std::optional<double> timeout_s;
  int jobs = 1;
  // Override every chosen scenario's defaults (-1: keep them).
  int threads = -1, iterations = -1, cycles = -1;
  int scale = 1;  // default threads x scale where --threads is not given
  ReportPaths reports;
};

struct LeaksOptions {
  std::string scenario;
  std::string adapter = "reference";
  int cycles = 200;
  int warmup = 10;
  std::optional<uint64_t> seed;
  std::optional<double> timeout_s;
  ReportPaths reports;
};

struct ExecOptions {
  std::vector<std::string> argv;
  double timeout_s = 60;
  int interval_ms = 100;
  int warmup = 2;
  ReportPaths reports;
};

struct ImageOptions {
  std::string file;
  std::string adapter = "reference";
};

// decode: binary program -> text; encode: text -> binary ("-": stdin/stdout).
struct CodecOptions {
  std::string in = "-";
  std::string out = "-";
};

// replay FILE...: each program run in its own child process, a verdict each.
struct ReplayOptions {
  std::vector<std::string> files;
  std::string adapter = "reference";
  int repeat = 1;         // runs per file (flaky findings)
  double timeout_s = 30;  // per run
  ReportPaths reports;
};

// minimize FILE: op-level delta debugging, each candidate run `tries` times.
struct MinimizeOptions {
  std::string file;
  std::string out;  // "" : FILE.min.txt
  std::string adapter = "reference";
  int tries = 5;
  double timeout_s = 30;
};

// repro FILE -o OUT.c: a standalone C program against the adapter ABI.
struct ReproOptions {
  std::string file;
  std::string out = "-";
  std::string adapter = "reference";
};

// fuzz: build the engine's target if needed, run it, decode the findings.
struct FuzzOptions {
  std::string engine = "libfuzzer";  // afl | libfuzzer
  double time_s = 60;
  std::string adapter = "reference";
  int jobs = 1;
  std::string corpus;   // "" : fuzz/corpus
  std::string out_dir;  // "" : build/fuzz/<engine>-<adapter>
  ReportPaths reports;
};

int verb_list(bool json, bool markdown = false);
int verb_decode(const CodecOptions& o);
int verb_encode(const CodecOptions& o);
// selftest: the clean runtime through the clean catalogue (repeat times per
// adapter), every live injected defect through the scenarios that declare
// they catch it, and the selftest-tagged scenarios with their own verdicts.
struct SelftestOptions {
  std::vector<std::string> names;     // scenarios (default: all)
  std::vector<std::string> defects;   // --defect filter (default: every live one)
  std::vector<std::string> adapters;  // empty: reference and reference-hybrid
  int repeat = 3;
  int jobs = 1;
  std::optional<uint64_t> seed;
  std::string json, html;
};

int verb_replay(const ReplayOptions& o);
// `__exec --adapter A FILE`: one program run in this process (replay's child).
int exec_program_main(const std::string& adapter, const std::string& file);
int verb_minimize(const MinimizeOptions& o);
int verb_selftest(const SelftestOptions& o);
int verb_repro(const ReproOptions& o);
int verb_fuzz(const FuzzOptions& o);
int verb_image_check(const ImageOptions& o);
int verb_run(const RunOptions& o);
int verb_leaks(const LeaksOptions& o);
int verb_exec(const ExecOptions& o);

// Shared helpers (verb_common.cpp).
int usage_error(const std::string& message);
// The adapters a multi-adapter verb (run, selftest) drives: `asked`, or
// reference and reference-hybrid when none were asked; *names receives the
// names. "" when all are known and usable, else the usage error's message.
std::string resolve_adapters(const std::vector<std::string>& asked, std::vector<std::string>* names,
                             std::vector<const tl_adapter*>* out);
// Writes n bytes to `path` ("-": standard output), atomically for a file
// (a temporary beside it, fsync, rename); 0, or 2 with a message naming it.
int write_output(const std::string& path, const void* data, size_t n);
// Check every requested report path; on failure print and return false.
bool check_report_paths(const ReportPaths& p);
uint64_t fresh_seed();
double unix_now();
double mono_now();
// Where `run` without report flags writes latest.{json,xml,html}.
std::string default_report_dir();

}  // namespace threadlab
