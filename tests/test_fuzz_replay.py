"""threadlab replay (issue 14 item 8): each program run --repeat times, each
run in its own child; a verdict per file; exit 0 all clean, 1 any finding,
2 usage errors naming what was wrong; --json writes the report."""
import json

from conftest import ROOT

REGRESSIONS = ROOT / "fuzz" / "regressions"
DEADLOCK = (
    "t1 = spawn\nt2 = spawn\n"
    "lock l1 (on: t1)\nlock l2 (on: t2)\n"
    "lock l2 (on: t1, async)\nlock l1 (on: t2, async)\n"
)


def test_regressions_replay_clean_with_a_line_per_file(lab):
    files = sorted(str(p) for p in REGRESSIONS.glob("*.txt"))
    assert len(files) >= 2
    proc = lab("replay", "--repeat", "2", *files)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(files)
    for f, line in zip(files, lines):
        assert line.startswith(f + ": pass (2 runs)"), line


def test_skipped_ops_are_named_per_file(lab):
    prog = lab.tmp / "p.txt"
    prog.write_text("t1 = spawn\ncollect\nkill t1\n")
    proc = lab("replay", "--adapter", "pthread", str(prog))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "skipped ops: collect 1, kill 1" in proc.stdout


def test_an_injected_defect_is_a_finding_in_the_report(lab):
    prog = REGRESSIONS / "kill-then-lock-from-another-thread.txt"
    out = lab.tmp / "replay.json"
    proc = lab("replay", "--json", str(out), str(prog), inject="kill_keeps_locks", timeout=180)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert ": deadlock (1 of 1 runs): no op finished within" in proc.stdout
    report = json.loads(out.read_text())
    assert report["verb"] == "replay" and report["adapter"] == "reference"
    (entry,) = report["files"]
    assert entry["verdict"] == "deadlock" and entry["runs_failing"] == 1
    (run,) = entry["runs"]
    assert run["exit_code"] == 1
    assert any("waits for lock" in f["text"] for f in run["findings"])


def test_a_run_past_the_timeout_is_killed(lab):
    prog = lab.tmp / "dl.txt"
    prog.write_text(DEADLOCK)
    proc = lab("replay", "--timeout", "2", str(prog))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "timeout (1 of 1 runs): still running after 2 s; killed" in proc.stdout


def test_usage_errors_name_what_was_wrong(lab):
    prog = REGRESSIONS / "ops-that-cannot-apply.txt"
    proc = lab("replay", "--adapter", "nope", str(prog))
    assert proc.returncode == 2 and "unknown adapter 'nope'" in proc.stderr
    missing = lab.tmp / "missing.txt"
    proc = lab("replay", str(prog), str(missing))
    assert proc.returncode == 2 and str(missing) in proc.stderr
    assert proc.stdout == ""  # nothing ran
    bad = lab.tmp / "bad.txt"
    bad.write_text("t1 = spawn\nfrobnicate t1\n")
    proc = lab("replay", str(bad))
    assert proc.returncode == 2 and f"{bad}:2:" in proc.stderr
