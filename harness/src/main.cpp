// threadlab CLI entry point: parses the verb and its flags (CLI11).
// Exit codes: 0 all good, 1 findings, 2 usage or environment error.
#include <CLI/CLI.hpp>
#include <cstdio>

int main(int argc, char** argv) {
  CLI::App app{"threadlab — test and fuzz harness for runtime thread machinery"};
  app.set_version_flag("--version", std::string("threadlab ") + TL_VERSION);
  app.require_subcommand(1);
  const char* verbs[][2] = {
      {"list", "list scenarios with tags, capabilities and descriptions"},
      {"run", "run scenarios, each in its own child process"},
      {"exec", "run any program under the watchdog"},
      {"leaks", "leak-count report for one scenario's lifecycle"},
      {"selftest", "prove every injected defect is caught"},
      {"fuzz", "run the op-program fuzzer"},
      {"replay", "replay an op program"},
      {"decode", "print an op program as text"},
      {"encode", "turn a text op program into bytes"},
      {"minimize", "shrink a failing op program"}};
  for (auto& v : verbs) app.add_subcommand(v[0], v[1]);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  std::fprintf(stderr, "threadlab: verb '%s' is not implemented yet\n",
               app.get_subcommands().front()->get_name().c_str());
  return 2;
}
