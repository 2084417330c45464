// report_test.cpp — atomic writes, writability checks, and the renderers on
// hostile strings.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "report/report.h"
#include "runner/run_record.h"

using namespace threadlab;

namespace {
std::string tmpdir() {
  char t[] = "/tmp/tl-report-XXXXXX";
  return mkdtemp(t);
}
}  // namespace

TEST(Report, AtomicWriteReplacesAndLeavesNoTemp) {
  std::string d = tmpdir(), f = d + "/r.json";
  std::string err;
  ASSERT_TRUE(atomic_write(f, "one", &err)) << err;
  ASSERT_TRUE(atomic_write(f, "two", &err)) << err;
  std::ifstream in(f);
  std::string s;
  in >> s;
  EXPECT_EQ(s, "two");
  EXPECT_EQ(system(("test $(ls -A " + d + " | wc -l) -eq 1").c_str()), 0);
}

TEST(Report, UnwritablePathsAreRefused) {
  std::string err;
  EXPECT_FALSE(check_writable("/nonexistent-dir/x.json", &err));
  EXPECT_NE(err.find("/nonexistent-dir/x.json"), std::string::npos);
  std::string d = tmpdir();
  EXPECT_FALSE(check_writable(d, &err));  // a directory
  EXPECT_TRUE(check_writable(d + "/ok.json", &err));
  EXPECT_NE(access((d + "/ok.json").c_str(), F_OK), 0);  // nothing left behind
}

TEST(Report, RenderersEscapeHostileText) {
  RunIdentity id{"s<x>&", "a\"b", 1, 0, {"t"}, "pass", 1};
  auto run = run_skeleton(id);
  run["verdict"] = "crash";
  run["reason"] = "<script>\x01";
  run["evidence"]["output"] = "</pre>\x02";
  auto r = make_report("run", {run}, false, 0, 0);
  std::string html = render_html(r), xml = render_junit(r);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
  EXPECT_NE(xml.find("<error"), std::string::npos);
  EXPECT_EQ(exit_code_for(r), 1);
}
