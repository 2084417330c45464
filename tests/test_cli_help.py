"""The CLI's self-description and plain output (issue 10 item 6): --help
names the exit codes and every THREADLAB_* variable the code reads; the
default report directory is relative to where threadlab runs, not to the
source tree it was built from; exec rows show no adapter or seed; list
prints no empty `needs:`/`caps:` lines."""
import os
import pathlib
import re
import subprocess

from conftest import ROOT


def test_help_names_the_exit_codes(lab):
    out = lab("--help").stdout
    assert "Exit codes:" in out
    codes = out[out.index("Exit codes:"):]
    for code, words in [("0", "passed"), ("1", "findings"), ("2", "usage or environment error")]:
        assert re.search(rf"^\s+{code}\s+.*{words}", codes, re.M), codes
    assert "interrupted" in codes  # the 2 of a partial run (docs/report-schema.md)


def test_help_names_every_threadlab_variable_the_code_reads(lab):
    out = lab("--help").stdout
    names = set()
    for sub in ["harness", "runtime"]:
        for path in (ROOT / sub).rglob("*.[ch]*"):
            names |= set(re.findall(r'getenv\("(THREADLAB_[A-Z_]+)"\)', path.read_text(errors="replace")))
            names |= set(re.findall(r'setenv\("(THREADLAB_[A-Z_]+)"', path.read_text(errors="replace")))
    assert {"THREADLAB_INJECT", "THREADLAB_REPORT_DIR"} <= names, names
    env = out[out.index("Environment:"):]
    for n in sorted(names):
        assert n in env, f"{n} is read by the code but --help does not name it"


def test_default_report_dir_is_in_the_working_directory(lab, tmp_path):
    env = dict(lab.env)
    env.pop("THREADLAB_REPORT_DIR")
    work = tmp_path / "elsewhere"
    work.mkdir()
    proc = subprocess.run([lab.bin, "run", "spawn-exit-churn", "--adapter", "reference", "--cycles", "2"],
                          capture_output=True, text=True, env=env, cwd=work, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ["latest.json", "latest.xml", "latest.html"]:
        assert (work / "threadlab-reports" / name).exists(), proc.stdout
    assert f"report: threadlab-reports/latest.json" in proc.stdout
    assert str(ROOT) not in proc.stdout


def test_report_dir_variable_wins(lab, tmp_path):
    target = tmp_path / "deep" / "er" / "reports"
    env = dict(lab.env, THREADLAB_REPORT_DIR=str(target))
    proc = subprocess.run([lab.bin, "run", "spawn-exit-churn", "--adapter", "reference", "--cycles", "2"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (target / "latest.json").exists()
    assert not (tmp_path / "threadlab-reports").exists()


def test_ci_threadlab_keeps_build_reports():
    text = (ROOT / "ci" / "threadlab").read_text()
    assert 'THREADLAB_REPORT_DIR="${THREADLAB_REPORT_DIR:-$TL_ROOT/build/reports}"' in text


def test_exec_rows_show_no_adapter_or_seed(lab):
    proc = lab("exec", "--", "true")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    row = next(ln for ln in proc.stdout.splitlines() if "exec:true" in ln)
    assert "none" not in row and "seed" not in row, row


def test_list_prints_no_empty_needs(lab):
    out = lab("list").stdout
    assert "needs:" in out  # scenarios that need capabilities still say which
    for line in out.splitlines():
        assert not re.fullmatch(r"\s*(needs|caps):\s*", line), repr(line)
