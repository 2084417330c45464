"""Bad input: a message naming the problem, exit 2, no files left behind."""
import os

import pytest


@pytest.mark.parametrize("args,needle", [
    (["run", "no-such-scenario"], "no-such-scenario"),
    (["run", "--adapter", "no-such-adapter"], "no-such-adapter"),
    (["run", "--repeat", "0"], "--repeat"),
    (["run", "--timeout", "abc"], "--timeout"),
    (["run", "--jobs", "-3"], "--jobs"),
    (["leaks", "no-such-scenario"], "no-such-scenario"),
    (["leaks", "spawn-exit-churn", "--cycles", "10", "--warmup", "9"], "--warmup"),
    (["exec", "--", "/no/such/program"], "/no/such/program"),
    (["exec", "--", "no-such-program-on-path"], "no-such-program-on-path"),
    (["run", "--bogus-flag"], "--bogus-flag"),
])
def test_bad_input_exits_2_naming_the_problem(lab, args, needle):
    proc = lab(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert needle in proc.stderr + proc.stdout
    assert not (lab.tmp / "reports").exists() or not os.listdir(lab.tmp / "reports")


@pytest.mark.parametrize("verb", ["run", "leaks", "exec"])
def test_unwritable_report_path(lab, verb, tmp_path):
    target = tmp_path / "missing-dir" / "r.json"
    args = {"run": ["run", "spawn-exit-churn"], "leaks": ["leaks", "spawn-exit-churn"],
            "exec": ["exec", "--json", str(target), "--", "true"]}[verb]
    if verb != "exec":
        args += ["--json", str(target)]
    proc = lab(*args)
    assert proc.returncode == 2
    assert str(target) in proc.stderr
    assert not target.parent.exists()


def test_report_path_that_is_a_directory(lab, tmp_path):
    proc = lab("run", "spawn-exit-churn", "--html", str(tmp_path))
    assert proc.returncode == 2 and "directory" in proc.stderr
    assert sorted(os.listdir(tmp_path)) == []


@pytest.mark.parametrize("verb", ["selftest", "fuzz", "replay", "decode", "encode", "minimize"])
def test_later_verbs_are_listed_but_not_implemented(lab, verb):
    proc = lab(verb)
    assert proc.returncode == 2 and "not implemented yet" in proc.stderr
    assert verb in lab("--help").stdout
