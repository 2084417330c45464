// report.h — the report document (docs/report-schema.md) and its writers:
// JSON, JUnit XML, HTML. All files are written atomically.
//
// Invariants:
//   - One document shape for every verb (run, leaks, exec): a header and a
//     list of runs, so every consumer reads one schema.
//   - A file is written to a temporary name in its own directory and
//     renamed over the target: readers see the old file or the new one,
//     never half of one, and a failed write leaves nothing behind.
//   - Report paths are checked for writability before any run starts.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace threadlab {

struct ReportPaths {
  std::string json, junit, html;
};

nlohmann::json make_report(const std::string& verb, const std::vector<nlohmann::json>& runs, bool partial,
                           double started_unix, double duration_s);

// Can a file be created at `path` (directory exists and is writable, path
// not a directory)? Leaves nothing behind.
bool check_writable(const std::string& path, std::string* err);
bool atomic_write(const std::string& path, const std::string& content, std::string* err);

std::string render_junit(const nlohmann::json& report);
std::string render_html(const nlohmann::json& report);

// Write every requested format; returns false with *err naming the file.
bool write_reports(const ReportPaths& paths, const nlohmann::json& report, std::string* err);

// Exit code for a finished report: 1 if any run has a finding (a verdict
// other than pass or skip), else 0.
int exit_code_for(const nlohmann::json& report);

}  // namespace threadlab
