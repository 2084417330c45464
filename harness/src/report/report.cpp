// report.cpp — document assembly, atomic writes (see report.h).
#include "report/report.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace threadlab {

namespace {
std::string iso8601(double unix_s) {
  time_t t = static_cast<time_t>(unix_s);
  tm g;
  gmtime_r(&t, &g);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &g);
  return buf;
}
std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

nlohmann::json make_report(const std::string& verb, const std::vector<nlohmann::json>& runs, bool partial,
                           double started_unix, double duration_s) {
  utsname u{};
  uname(&u);
  nlohmann::json counts = nlohmann::json::object();
  for (auto* v : {"pass", "skip", "fail", "timeout", "leak", "invariant", "scribble", "deadlock", "crash"})
    counts[v] = 0;
  int findings = 0;
  for (auto& r : runs) {
    std::string v = r["verdict"];
    counts[v] = counts[v].get<int>() + 1;
    if (v != "pass" && v != "skip") ++findings;
  }
  return {{"schema", "threadlab-report/1"},
          {"tool", {{"name", "threadlab"}, {"version", TL_VERSION}}},
          {"verb", verb},
          {"started_at", iso8601(started_unix)},
          {"duration_s", duration_s},
          {"partial", partial},
          {"host", {{"os", u.sysname}, {"arch", u.machine}, {"kernel", u.release}}},
          {"summary", {{"total", runs.size()}, {"findings", findings}, {"verdicts", counts}}},
          {"runs", runs}};
}

bool check_writable(const std::string& path, std::string* err) {
  struct stat st;
  if (path.empty()) {
    *err = "empty report path";
    return false;
  }
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    *err = fmt::format("report path '{}' is a directory", path);
    return false;
  }
  std::string probe = fmt::format("{}/.threadlab-probe-{}", dir_of(path), getpid());
  int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    *err = fmt::format("cannot write report '{}': {}", path, std::strerror(errno));
    return false;
  }
  close(fd);
  unlink(probe.c_str());
  return true;
}

bool atomic_write(const std::string& path, const std::string& content, std::string* err) {
  std::string tmp = fmt::format("{}/.{}.tmp-{}", dir_of(path), path.substr(path.rfind('/') + 1), getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *err = fmt::format("cannot write report '{}': {}", path, std::strerror(errno));
    return false;
  }
  size_t off = 0;
  bool ok = true;
  while (off < content.size()) {
    ssize_t w = write(fd, content.data() + off, content.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      ok = false;
      break;
    }
    off += static_cast<size_t>(w);
  }
  if (ok && fsync(fd) != 0) ok = false;
  if (close(fd) != 0) ok = false;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    *err = fmt::format("cannot write report '{}': {}", path, std::strerror(errno));
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

bool write_reports(const ReportPaths& p, const nlohmann::json& report, std::string* err) {
  if (!p.json.empty() && !atomic_write(p.json, report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", err)) return false;
  if (!p.junit.empty() && !atomic_write(p.junit, render_junit(report), err)) return false;
  if (!p.html.empty() && !atomic_write(p.html, render_html(report), err)) return false;
  return true;
}

int exit_code_for(const nlohmann::json& report) { return report["summary"]["findings"].get<int>() > 0 ? 1 : 0; }

}  // namespace threadlab
