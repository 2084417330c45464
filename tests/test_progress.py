"""Slow is not stuck: `deadlock` only when progress stopped, `timeout` when a
run was still progressing at its time-up (docs/report-schema.md, "Deadlock
or timeout"); timeouts that grow with the work asked for; both suspension
policies by default.

Invariants: each verdict test has its twin that must come out the other way
(selftest-slow vs selftest-hang; spin vs hang under exec), so a watchdog
that always says one thing fails one of them. No sleeps: the programs and
scenarios are deterministic about progressing or not.
"""
import json


def test_slow_but_progressing_run_is_timeout_with_its_progress(lab, validate):
    proc, doc = lab.run_json("run", "selftest-slow", "--seed", "1")  # both adapters
    assert proc.returncode == 1
    runs = validate(doc)["runs"]
    assert doc["summary"]["verdicts"]["timeout"] == 2 and doc["summary"]["findings"] == 2
    for run in runs:
        assert run["verdict"] == "timeout", run["reason"]
        progress = run["evidence"]["progress"]
        assert progress["operations"] > 10  # 2 threads x ~50 steps/s for ~2.4 s
        assert progress["stalled_s"] < progress["window_s"]
        assert "still progressing" in run["reason"]
        assert str(progress["operations"]) in run["reason"]
    assert "TIMEOUT" in proc.stdout  # the terminal lines


def test_stopped_run_is_deadlock_with_no_progress(lab, validate):
    proc, doc = lab.run_json("run", "selftest-hang", "--adapter", "reference", "--timeout", "2", "--seed", "1")
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "deadlock"
    progress = run["evidence"]["progress"]
    assert progress["operations"] == 0 and progress["cycles"] == 0
    assert progress["stalled_s"] >= progress["window_s"]
    assert "no progress for" in run["reason"]


def test_timeout_junit_failure_type(lab, tmp_path):
    xml = tmp_path / "t.xml"
    proc = lab("run", "selftest-slow", "--adapter", "reference", "--junit", str(xml))
    assert proc.returncode == 1
    assert 'type="timeout"' in xml.read_text()


def test_timeout_grows_with_threads_but_a_hang_is_called_at_the_default_timeout(lab, validate):
    # selftest-hang: 3 threads, 3 s by default. At 12 threads the timeout
    # grows to 12 s, but the heartbeat stalls from the start, so the hang is
    # called at the 3 s stall allowance, long before the 12 s.
    proc, doc = lab.run_json("run", "selftest-hang", "--threads", "12", "--adapter", "reference")
    run = validate(doc)["runs"][0]
    assert run["timeout_s"] == 12
    assert run["verdict"] == "deadlock"
    assert run["evidence"]["progress"]["stalled_s"] < 6
    assert run["duration_s"] < 8, run["duration_s"]


def test_explicit_timeout_and_scale(lab, validate):
    proc, doc = lab.run_json("run", "foreign-exit-without-callback", "--adapter", "reference", "--scale", "2",
                             "--cycles", "2")
    assert proc.returncode == 0, proc.stdout
    listed = {s["name"]: s for s in json.loads(lab("list", "--json").stdout)["scenarios"]}
    run = validate(doc)["runs"][0]
    default_threads = listed["foreign-exit-without-callback"]["params"]["threads"]
    assert run["params"]["threads"] == 2 * default_threads
    proc, doc = lab.run_json("run", "foreign-exit-without-callback", "--adapter", "reference", "--threads", "64",
                             "--cycles", "2", "--timeout", "45")
    assert validate(doc)["runs"][0]["timeout_s"] == 45


def test_run_without_adapter_covers_both_suspension_policies(lab, validate):
    proc, doc = lab.run_json("run", "foreign-exit-without-callback", "--cycles", "2", "--seed", "3")
    assert proc.returncode == 0, proc.stdout
    runs = validate(doc)["runs"]
    assert sorted(r["adapter"] for r in runs) == ["reference", "reference-hybrid"]
    assert {r["seed"] for r in runs} == {3}
    proc, doc = lab.run_json("run", "foreign-exit-without-callback", "--cycles", "2", "--adapter", "reference")
    assert [r["adapter"] for r in validate(doc)["runs"]] == ["reference"]


def test_exec_sleeping_program_is_deadlock(lab, validate, c_program):
    proc, doc = lab.run_json("exec", "--timeout", "3", "--", c_program("hang"))
    assert proc.returncode == 1
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "deadlock", run["reason"]
    cpu = run["evidence"]["cpu"]
    assert cpu["threads"] == 3 and cpu["busy_threads"] == 0
    assert "every thread asleep" in run["reason"]


def test_exec_spinning_program_is_timeout_not_deadlock(lab, validate, c_program):
    proc, doc = lab.run_json("exec", "--timeout", "3", "--", c_program("spin"))
    assert proc.returncode == 1
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "timeout", run["reason"]
    cpu = run["evidence"]["cpu"]
    assert cpu["busy_threads"] >= 1 and cpu["cpu_s"] > 0.02 * cpu["window_s"]
    assert "still running:" in run["reason"] and "CPU in the last" in run["reason"]
