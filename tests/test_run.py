"""`threadlab run`: passing runs, every verdict the runner must produce, the
reports (JSON against the schema, JUnit, HTML) and the default report dir."""
import json

import pytest
import xml.etree.ElementTree as ET


def test_default_run_passes_and_writes_latest_reports(lab, validate):
    proc = lab("run", "--seed", "7")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    reports = lab.tmp / "reports"
    doc = validate(json.loads((reports / "latest.json").read_text()))
    n = len(doc["runs"])
    assert f"[{n}/{n}]" in proc.stdout and f"{n} pass" in proc.stdout
    names = {r["scenario"] for r in doc["runs"]}
    assert {"foreign-callback-storm", "spawn-exit-churn", "foreign-exit-after-callback",
            "foreign-exit-without-callback", "stop-the-world-storm", "gc-callback-storm", "kill-each-state",
            "without-gc-deferral", "interrupt-storm"} <= names
    assert not any("selftest" in r["tags"] for r in doc["runs"])
    assert all(r["verdict"] == "pass" and r["seed"] == 7 for r in doc["runs"])
    assert doc["partial"] is False and doc["summary"]["findings"] == 0
    suites = ET.parse(reports / "latest.xml").getroot()
    assert suites.tag == "testsuites" and suites.get("tests") == str(len(doc["runs"]))
    assert suites.get("failures") == "0" and suites.get("errors") == "0"
    html = (reports / "latest.html").read_text()
    assert "<svg" in html or "foreign-callback-storm" in html
    assert "<script" not in html and "href='http" not in html and 'src="http' not in html


def test_crashing_scenario_is_crash_with_backtrace(lab, validate):
    proc, doc = lab.run_json("run", "selftest-crash", "--seed", "1")
    assert proc.returncode == 1
    validate(doc)
    run = doc["runs"][0]
    assert run["verdict"] == "crash" and run["exit"]["signal_name"] == "SIGSEGV"
    assert run["evidence"]["crash"]["backtrace"], run
    assert "SIGSEGV" in run["reason"]


def test_abort_is_crash_and_other_runs_survive(lab, validate):
    proc, doc = lab.run_json("run", "selftest-abort", "foreign-exit-without-callback", "--seed", "1")
    assert proc.returncode == 1
    verdicts = {r["scenario"]: r["verdict"] for r in validate(doc)["runs"]}
    assert verdicts == {"selftest-abort": "crash", "foreign-exit-without-callback": "pass"}


def test_hang_is_deadlock_with_every_thread_dumped(lab, validate):
    proc, doc = lab.run_json("run", "selftest-hang", "--timeout", "2", "--seed", "1")
    assert proc.returncode == 1
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "deadlock"
    threads = run["evidence"]["dump"]["threads"]
    # driver + 3 sleepers + watchdog, each with its kernel wait; all but the
    # dumping thread answered with a native backtrace.
    assert len(threads) >= 5
    sleepers = [t for t in threads if any("wait_forever" in f for f in t["backtrace"])]
    assert len(sleepers) == 3
    for t in threads:
        if "harness watchdog" not in t["waiting_on"]:
            assert t["answered"] and t["backtrace"], t
    assert all(t["record"] and t["record"]["state"] for t in sleepers)
    assert any(t["record"] and t["record"]["state"] == "blocked" for t in threads)


@pytest.mark.parametrize("adapter", ["pthread", "reference"])
def test_lock_cycle_is_named(lab, validate, adapter):
    proc, doc = lab.run_json("run", "selftest-lock-cycle", "--adapter", adapter, "--timeout", "2")
    assert proc.returncode == 1
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "deadlock"
    cycle = run["evidence"]["dump"]["cycle"]
    assert sorted(e["lock"] for e in cycle) == ["lock-A", "lock-B"]
    assert "wait-for cycle" in run["reason"]


def test_missing_capability_is_skip_with_reason(lab, validate):
    proc, doc = lab.run_json("run", "stop-the-world-storm", "--adapter", "pthread")
    assert proc.returncode == 0
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "skip" and "suspend" in run["reason"]


def test_leaking_scenario_names_the_fd_kind(lab, validate):
    proc, doc = lab.run_json("run", "selftest-fd-leak", "--seed", "3")
    assert proc.returncode == 1
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "leak"
    leak = next(l for l in run["evidence"]["leaks"] if l["counter"] == "fd_eventfd")
    assert leak["slope"] > 0 and leak["new"] and all("eventfd" in n for n in leak["new"])
    assert "eventfd" in run["reason"]


def test_flood_is_bounded_and_drained(lab, validate):
    proc, doc = lab.run_json("run", "selftest-flood")
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "pass", run["reason"]
    assert run["evidence"]["output_bytes"] >= 8 * 1024 * 1024
    assert len(run["evidence"]["output"]) < 128 * 1024
    assert "bytes elided" in run["evidence"]["output"]


def test_grandchild_is_killed_and_reported(lab, validate):
    proc, doc = lab.run_json("run", "selftest-grandchild")
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "fail" and run["evidence"]["stray_processes"] is True


def test_injected_borrowed_record_is_scribble(lab, validate):
    proc, doc = lab.run_json("run", "foreign-callback-storm", "--seed", "5",
                             inject="callback_borrows_initial_record")
    assert proc.returncode == 1
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "scribble", run["reason"]


def test_injected_unreleased_adoption_is_leak(lab, validate):
    proc, doc = lab.run_json("run", "foreign-exit-after-callback", "--seed", "5",
                             inject="adopted_record_not_released")
    assert proc.returncode == 1
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "leak"
    counters = {l["counter"] for l in run["evidence"]["leaks"]}
    # the ledger and the OS agree: adjacent leaked stacks may merge into one
    # mapping, so the OS shows it as mapping count or bytes
    assert "rt_records_adopted" in counters and ({"maps_count", "maps_bytes"} & counters)


def test_repeat_and_jobs_and_junit(lab, validate, tmp_path):
    junit = tmp_path / "r.xml"
    proc, doc = lab.run_json("run", "selftest-crash", "spawn-exit-churn", "--repeat", "2", "--jobs", "2",
                             "--seed", "10", "--adapter", "reference", "--junit", str(junit))
    assert proc.returncode == 1
    runs = validate(doc)["runs"]
    assert sorted((r["scenario"], r["seed"]) for r in runs) == [
        ("selftest-crash", 10), ("selftest-crash", 11), ("spawn-exit-churn", 10), ("spawn-exit-churn", 11)]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("tests") == "4" and suite.get("errors") == "2"
    assert len(suite.findall("testcase/error")) == 2


def test_tag_selects_selftests(lab):
    proc = lab("run", "--tag", "nonexistent-tag")
    assert proc.returncode == 2 and "nonexistent-tag" in proc.stderr
