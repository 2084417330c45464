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

namespace {
// A run whose maps_bytes climbs in steps (slope above the byte threshold,
// too few rises: passes), whose fd_eventfd leaks one per cycle, and whose
// watchdog dump holds a wait-for cycle.
nlohmann::json plotted_run() {
  RunIdentity id{"demo", "reference", 7, 0, {"t"}, "pass", 1};
  auto run = run_skeleton(id);
  run["verdict"] = "leak";
  run["reason"] = "fd_eventfd grows 1.00/cycle";
  run["params"] = {{"threads", 1}, {"iterations", 1}, {"cycles", 10}, {"warmup", 2}};
  std::vector<double> maps = {500e6, 560e6, 562008064, 562008064, 562008064, 572008064, 572008064,
                              572008064, 572008064, 590008064};
  std::vector<double> fds = {0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
  run["counters"]["maps_bytes"] = {{"unit", "bytes"}, {"judged", true}, {"values", maps}, {"slope", 2.81e6}};
  run["counters"]["fd_eventfd"] = {{"unit", "count"}, {"judged", true}, {"values", fds}, {"slope", 1.0}};
  run["counters"]["rss_bytes"] = {{"unit", "bytes"}, {"judged", false}, {"values", maps}, {"slope", 2.81e6}};
  std::vector<double> small(10, 659566592);
  small[0] = small[1] = 659554304;
  run["counters"]["rt_stack_bytes"] = {{"unit", "bytes"}, {"judged", true}, {"values", small}, {"slope", 0.0}};
  run["counters"]["fd_pipe"] = {{"unit", "count"}, {"judged", true}, {"values", {3, 3, 3, 3, 3, 3, 3, 3, 3, 3}},
                                {"slope", 0.0}};
  run["evidence"]["leaks"] = {{{"counter", "fd_eventfd"}, {"unit", "count"}, {"slope", 1.0}, {"first", 1.0},
                               {"last", 8.0}, {"warmup", 2}, {"new", {"fd 12 -> anon_inode:[eventfd] (eventfd)"}}}};
  run["evidence"]["dump"] = {
      {"note", ""},
      {"cycle", {{{"waiter", 3}, {"lock", "a'<b>"}, {"owner", 4}}, {{"waiter", 4}, {"lock", "c"}, {"owner", 3}}}},
      {"threads",
       {{{"tid", 101}, {"name", "w'1"}, {"kernel_state", "S"}, {"waiting_on", "futex(0x1)"}, {"answered", true},
         {"record", {{"id", 3}, {"name", "worker"}, {"state", "blocked"}, {"waiting_on", "lock 'c' held by 4"}}},
         {"backtrace", {"#0 0x1 tl_lock_acquire+0x12", "#1 0x2 <lambda>"}}}}}};
  return run;
}
}  // namespace

TEST(ReportHtml, PlotsSpeakInUnitsAndSayWhy) {
  auto r = make_report("run", {plotted_run()}, false, 0, 0);
  std::string html = render_html(r);
  EXPECT_EQ(html.find("562008064"), std::string::npos) << "raw byte counts on the page";
  EXPECT_NE(html.find("536 MiB"), std::string::npos);           // 562008064 bytes
  EXPECT_NE(html.find(">warm-up<"), std::string::npos);         // the band is labelled
  EXPECT_NE(html.find("class='fit'"), std::string::npos);       // the fitted line
  EXPECT_NE(html.find("class='threshold'"), std::string::npos); // the rule's threshold
  EXPECT_NE(html.find("leak threshold 4.00 KiB/cycle"), std::string::npos);
  // One sentence per plotted counter (fd_pipe never moved: listed, not plotted).
  EXPECT_NE(html.find("but it rose in only 2 of 7 steps and fell in 0 (a leak rises in at least 5 more than it falls)"), std::string::npos) << html;
  EXPECT_NE(html.find("LEAK: after warm-up it grew 1/cycle, at or above the 0.30/cycle threshold"),
            std::string::npos);
  EXPECT_NE(html.find("Not judged: resident memory"), std::string::npos);
  EXPECT_NE(html.find("Unchanged in every cycle: fd_pipe (3)"), std::string::npos);
  // A change too small for the unit is shown with its difference, not as none.
  EXPECT_NE(html.find("The change during warm-up (629 MiB → 629 MiB (+12.0 KiB)) is not judged."),
            std::string::npos);
  size_t figures = 0, whys = 0;
  for (size_t p = 0; (p = html.find("<figure", p)) != std::string::npos; ++p) ++figures;
  for (size_t p = 0; (p = html.find("class='why'>", p)) != std::string::npos; ++p) ++whys;
  EXPECT_EQ(figures, 4u);
  EXPECT_EQ(whys, figures);
}

TEST(ReportHtml, FailingEvidenceIsOnThePageEscaped) {
  auto r = make_report("run", {plotted_run()}, false, 0, 0);
  std::string html = render_html(r);
  EXPECT_NE(html.find("thread 3 waits for lock <code>a&#39;&lt;b&gt;</code> held by thread 4"), std::string::npos)
      << html;
  EXPECT_NE(html.find("blocked"), std::string::npos);
  EXPECT_NE(html.find("lock &#39;c&#39; held by 4"), std::string::npos);
  EXPECT_NE(html.find("tl_lock_acquire+0x12"), std::string::npos);
  EXPECT_NE(html.find("&lt;lambda&gt;"), std::string::npos);
  EXPECT_NE(html.find("w&#39;1"), std::string::npos);
  EXPECT_NE(html.find("fd 12 -&gt; anon_inode:[eventfd] (eventfd)"), std::string::npos);
  EXPECT_EQ(html.find("a'<b>"), std::string::npos);
  for (const char* external : {"<script", "<link", "src=", "@import", "url(http"})
    EXPECT_EQ(html.find(external), std::string::npos) << external;
}

TEST(ReportHtml, ExecRowsShowNoAdapterOrSeed) {
  RunIdentity id{"exec:prog", "none", 0, 0, {"exec"}, "pass", 1};
  auto run = run_skeleton(id);
  run["program"] = {"prog"};
  std::string html = render_html(make_report("exec", {run}, false, 0, 0));
  EXPECT_EQ(html.find("<td>none</td>"), std::string::npos);
  EXPECT_EQ(html.find("seed 0"), std::string::npos);
}
