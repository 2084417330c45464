"""`threadlab list`, `threadlab leaks`, `threadlab exec`, and Ctrl-C."""
import json
import signal
import subprocess


def test_list_shows_scenarios_tags_caps_descriptions(lab):
    proc = lab("list")
    assert proc.returncode == 0
    for name in ["foreign-callback-storm", "spawn-exit-churn", "foreign-exit-after-callback",
                 "foreign-exit-without-callback", "selftest-hang"]:
        assert name in proc.stdout
    assert "foreign_callback" in proc.stdout and "reference" in proc.stdout and "pthread" in proc.stdout
    doc = json.loads(lab("list", "--json").stdout)
    storm = next(s for s in doc["scenarios"] if s["name"] == "foreign-callback-storm")
    assert "foreign_callback" in storm["caps"] and storm["description"] and storm["expected"] == "pass"
    for name in ["reference", "reference-hybrid"]:
        ref = next(a for a in doc["adapters"] if a["name"] == name)
        assert ref["problem"] == ""
        assert {"suspend", "collect", "interrupt", "kill", "locks", "regions", "heap", "cleanups", "mailboxes",
                "lock_handoff", "fork", "image"} <= set(ref["caps"].split(",") if isinstance(ref["caps"], str) else ref["caps"])


def test_leaks_clean_lifecycle(lab, validate, tmp_path):
    html = tmp_path / "l.html"
    proc, doc = lab.run_json("leaks", "foreign-exit-after-callback", "--cycles", "40", "--warmup", "5",
                             "--seed", "1", "--html", str(html))
    assert proc.returncode == 0, proc.stdout
    run = validate(doc)["runs"][0]
    assert doc["verb"] == "leaks" and run["verdict"] == "pass"
    assert len(run["counters"]["rt_records_live"]["values"]) == 40
    assert "slope/cycle" in proc.stdout and "rt_records_adopted" in proc.stdout
    text = html.read_text()
    assert "<svg" in text or "<table" in text


def test_leaks_reports_leaking_counter_with_plot(lab, validate, tmp_path):
    html = tmp_path / "l.html"
    proc, doc = lab.run_json("leaks", "selftest-fd-leak", "--cycles", "20", "--warmup", "2", "--html", str(html))
    assert proc.returncode == 1
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "leak"
    assert "fd_eventfd" in proc.stdout and "anon_inode:[eventfd]" in proc.stdout
    text = html.read_text()
    assert "<svg" in text and "fd_eventfd" in text and "LEAK" in text


def test_exec_leaking_program_names_eventfd(lab, validate, c_program):
    prog = c_program("leak_eventfd")
    proc, doc = lab.run_json("exec", "--timeout", "60", "--", prog, "leak", "12")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run = validate(doc)["runs"][0]
    assert doc["verb"] == "exec" and run["verdict"] == "leak"
    leak = next(l for l in run["evidence"]["leaks"] if l["counter"] == "fd_eventfd")
    assert leak["last"] - leak["first"] >= 8
    assert leak["new"] and all("eventfd" in n for n in leak["new"])
    assert "done after 12 cycles" in run["evidence"]["output"]


def test_exec_clean_program_passes(lab, validate, c_program):
    proc, doc = lab.run_json("exec", "--", c_program("leak_eventfd"), "clean", "12")
    assert proc.returncode == 0, proc.stdout
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "pass" and run["exit"]["code"] == 0


def test_exec_failing_program_is_fail(lab, validate):
    proc, doc = lab.run_json("exec", "--", "false")
    assert proc.returncode == 1
    assert validate(doc)["runs"][0]["verdict"] == "fail"


def test_exec_hang_is_deadlock_with_gdb_dump(lab, validate, c_program):
    proc, doc = lab.run_json("exec", "--timeout", "2", "--", c_program("hang"))
    assert proc.returncode == 1
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "deadlock"
    dump = run["evidence"]["dump"]
    if dump["threads"] and dump["threads"][0]["backtrace"]:
        assert len(dump["threads"]) == 3
        assert any("sleeper" in f for t in dump["threads"] for f in t["backtrace"])
    else:  # no gdb, or attaching refused: the reason is in the report
        assert dump["note"]


def test_ctrl_c_writes_partial_report(lab, validate, tmp_path):
    out = tmp_path / "partial.json"
    p = subprocess.Popen([lab.bin, "run", "spawn-exit-churn", "selftest-hang", "--adapter", "reference",
                          "--timeout", "60",
                          "--json", str(out)], stdout=subprocess.PIPE, text=True, env=lab.env)
    # Wait until the first run has finished and the hang is running.
    for line in p.stdout:
        if line.startswith("[1/2]"):
            break
    p.send_signal(signal.SIGINT)
    rest = p.communicate(timeout=30)[0]
    assert p.returncode == 2, rest
    doc = validate(json.loads(out.read_text()))
    assert doc["partial"] is True
    assert [r["scenario"] for r in doc["runs"]] == ["spawn-exit-churn"]
    assert "PARTIAL" in rest
