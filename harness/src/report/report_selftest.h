// report_selftest.h — what `threadlab selftest` shows of its report's
// `selftest` section (docs/report-schema.md): the defects x scenarios
// matrix on the terminal and as an HTML table above the runs.
// Invariant: both read only the report document, so the page and the
// terminal cannot disagree with the JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace threadlab {
// The matrix, the harness checks and every failure with its replay command.
void print_selftest(const nlohmann::json& report);
// render_html's page with the matrix and the parts' summaries first.
std::string render_selftest_html(const nlohmann::json& report);
}  // namespace threadlab
