// report_junit.cpp — JUnit XML (tinyxml2): one <testsuite> per adapter, one
// <testcase> per run. Findings are <failure> (crash is <error>), skips are
// <skipped>; the evidence summary is the element text.
// Invariant: every string is escaped by tinyxml2; control characters that
// XML 1.0 forbids are replaced before they reach it.
#include <tinyxml2.h>

#include <map>

#include <fmt/format.h>

#include "report/report.h"

namespace threadlab {
namespace {

std::string xml_safe(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) out += (c < 0x20 && c != '\n' && c != '\t' && c != '\r') ? '?' : static_cast<char>(c);
  return out;
}

std::string evidence_text(const nlohmann::json& run) {
  std::string s = run.value("reason", "") + "\n";
  auto& ev = run["evidence"];
  if (ev.contains("dump"))
    for (auto& t : ev["dump"]["threads"]) {
      s += fmt::format("thread {} ({}) {} {}\n", t["tid"].get<int64_t>(), t["name"].get<std::string>(),
                       t["kernel_state"].get<std::string>(), t["waiting_on"].get<std::string>());
      for (auto& f : t["backtrace"]) s += "    " + f.get<std::string>() + "\n";
    }
  if (ev.contains("crash"))
    for (auto& f : ev["crash"]["backtrace"]) s += "    " + f.get<std::string>() + "\n";
  if (ev.contains("leaks"))
    for (auto& l : ev["leaks"]) s += l.dump() + "\n";
  if (ev.contains("findings"))
    for (auto& f : ev["findings"]) s += f.dump() + "\n";
  return xml_safe(s);
}

}  // namespace

std::string render_junit(const nlohmann::json& report) {
  tinyxml2::XMLDocument doc;
  doc.InsertEndChild(doc.NewDeclaration());
  auto* suites = doc.NewElement("testsuites");
  suites->SetAttribute("name", "threadlab");
  doc.InsertEndChild(suites);
  std::map<std::string, std::vector<const nlohmann::json*>> by_adapter;
  for (auto& r : report["runs"]) by_adapter[r["adapter"].get<std::string>()].push_back(&r);
  int total = 0, failures = 0, errors = 0, skipped = 0;
  for (auto& [adapter, runs] : by_adapter) {
    auto* suite = doc.NewElement("testsuite");
    suite->SetAttribute("name", fmt::format("threadlab.{}", adapter).c_str());
    int f = 0, e = 0, s = 0;
    double time = 0;
    for (auto* rp : runs) {
      auto& r = *rp;
      auto* tc = doc.NewElement("testcase");
      tc->SetAttribute("classname", fmt::format("threadlab.{}", adapter).c_str());
      tc->SetAttribute("name", fmt::format("{}[seed={},repeat={}]", r["scenario"].get<std::string>(),
                                           r["seed"].get<uint64_t>(), r["repeat"].get<int>())
                                   .c_str());
      tc->SetAttribute("time", fmt::format("{:.3f}", r["duration_s"].get<double>()).c_str());
      time += r["duration_s"].get<double>();
      std::string v = r["verdict"];
      if (v == "skip") {
        auto* sk = doc.NewElement("skipped");
        sk->SetAttribute("message", xml_safe(r.value("reason", "")).c_str());
        tc->InsertEndChild(sk);
        ++s;
      } else if (v != "pass") {
        auto* el = doc.NewElement(v == "crash" ? "error" : "failure");
        el->SetAttribute("type", v.c_str());
        el->SetAttribute("message", xml_safe(r.value("reason", "")).c_str());
        el->SetText(evidence_text(r).c_str());
        tc->InsertEndChild(el);
        (v == "crash" ? e : f)++;
      }
      if (r["evidence"].contains("output")) {
        auto* out = doc.NewElement("system-out");
        out->SetText(xml_safe(r["evidence"]["output"].get<std::string>()).c_str());
        tc->InsertEndChild(out);
      }
      suite->InsertEndChild(tc);
    }
    suite->SetAttribute("tests", static_cast<int>(runs.size()));
    suite->SetAttribute("failures", f);
    suite->SetAttribute("errors", e);
    suite->SetAttribute("skipped", s);
    suite->SetAttribute("time", fmt::format("{:.3f}", time).c_str());
    suites->InsertEndChild(suite);
    total += static_cast<int>(runs.size());
    failures += f;
    errors += e;
    skipped += s;
  }
  suites->SetAttribute("tests", total);
  suites->SetAttribute("failures", failures);
  suites->SetAttribute("errors", errors);
  suites->SetAttribute("skipped", skipped);
  tinyxml2::XMLPrinter printer;
  doc.Print(&printer);
  return printer.CStr();
}

}  // namespace threadlab
