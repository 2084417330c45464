// terminal.h — what the user sees while runs finish and at the end: one
// progress line per finished run (counter, elapsed time), a summary table,
// and the per-counter leak table of `leaks`.
// Invariant: colour only when stdout is a terminal; the plain text is the
// same either way, so logs and tests read the same words.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdio>

namespace threadlab {
void print_progress(const nlohmann::json& run, size_t done, size_t total, double elapsed_s);
void print_summary(const nlohmann::json& report);
void print_leak_table(const nlohmann::json& run);
}  // namespace threadlab
