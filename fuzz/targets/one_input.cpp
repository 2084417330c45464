// one_input.cpp — see one_input.h.
#include "one_input.h"

#include <cstdio>
#include <cstdlib>
#include <span>

#include <threadlab/fuzz/interpreter.h>
#include <threadlab/fuzz/program.h>

#include "adapters/builtin.h"

namespace threadlab::fuzz {
namespace {
const tl_adapter* g_adapter = nullptr;
uint64_t g_inputs = 0;
}  // namespace

std::string target_init() {
  if (g_adapter) return "";
  const char* name = std::getenv("THREADLAB_FUZZ_ADAPTER");
  if (!name || !*name) name = "reference";
  const tl_adapter* a = find_adapter(name);
  if (!a) return std::string("THREADLAB_FUZZ_ADAPTER: unknown adapter '") + name + "'";
  std::string why = exec_init(a);
  if (!why.empty()) return std::string("adapter '") + name + "': " + why;
  g_adapter = a;
  return "";
}

int run_one_input(const uint8_t* data, size_t size, const InputOptions& o) {
  if (std::string why = target_init(); !why.empty()) {
    std::fprintf(stderr, "threadlab fuzz target: %s\n", why.c_str());
    std::exit(2);
  }
  // The baseline is the process as this input finds it: the engine's own
  // threads and fds come and go between inputs (libFuzzer's RSS watcher
  // starts after its init hook; its symbolizer's pipes open when it first
  // prints a new function), and only what this input leaves is its own.
  exec_rebaseline();
  const Program p = decode(std::span<const uint8_t>(data, size));
  if (o.print_program) std::fputs(to_text(p).c_str(), stderr);
  ExecOptions eo;
  eo.op_timeout_ms = o.op_timeout_ms;
  eo.abort_on_finding = false;  // printed with the program below, then abort
  eo.seed = ++g_inputs;
  const ExecResult r = execute(g_adapter, p, eo);
  if (r.findings.empty()) return 0;
  std::fprintf(stderr, "threadlab fuzz target: %zu finding(s) on adapter '%s':\n%s--- program ---\n%s---\n",
               r.findings.size(), g_adapter->name, describe(r).c_str(), to_text(p).c_str());
  if (o.abort_on_finding) std::abort();
  return static_cast<int>(r.findings.size());
}

}  // namespace threadlab::fuzz
