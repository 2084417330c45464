// cli_support.h — what cli.cpp needs beyond CLI11 to keep the CLI contract
// (verb_common.cpp): the help footer, value checks with plain-words
// messages, the unknown-verb check and the `threadlab:`-prefixed error path.
//
// Invariants:
//   - Every usage error is one line on stderr starting `threadlab: ` and
//     naming what was wrong, and the exit code is 2; --help and --version
//     print to stdout and exit 0.
//   - The footer's exit codes and THREADLAB_* variables are the ones
//     docs/report-schema.md and the code (getenv) define: change them
//     together.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace threadlab {

// Group name under which planned verbs are listed in --help.
inline constexpr const char* kPlannedGroup = "Planned verbs (not implemented yet; they exit 2)";

// Create the report directory and its parents; false with *err naming the
// directory and strerror (EACCES, ENOTDIR, ...) when that fails.
bool make_report_dir(const std::string& dir, std::string* err);
// Exit codes and environment variables, for `threadlab --help`.
std::string help_footer();
// A number in [lo, hi]: "'abc' is not a number", "0.1 is out of range 0.5..86400".
CLI::Validator num_range(double lo, double hi);
// A seed: a non-negative integer below 2^64 ("-1" is refused, not wrapped).
CLI::Validator seed_check();
// The first word of argv that is not an option must name a verb: returns
// -1 to go on parsing, else the exit code after printing the message.
int check_verb(CLI::App& app, int argc, char** argv);
// A CLI11 parse error (or a help/version request) as the CLI contract
// prints it; returns the exit code.
int parse_error(CLI::App& app, const CLI::ParseError& e);

}  // namespace threadlab
