"""Bad input: a message naming the problem, exit 2, no files left behind."""
import os
import subprocess

import pytest


def run_env(lab, *args, env):
    """lab(*args) with extra environment variables."""
    return subprocess.run([lab.bin, *args], capture_output=True, text=True, env=dict(lab.env, **env), timeout=120)


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


# Verbs listed in --help under "Planned verbs" and exiting 2 (none left:
# selftest was the last).
PLANNED = []


@pytest.mark.parametrize("verb", PLANNED)
def test_later_verbs_are_listed_but_not_implemented(lab, verb):
    proc = lab(verb)
    assert proc.returncode == 2 and "not implemented yet" in proc.stderr
    assert proc.stderr.startswith(f"threadlab: verb '{verb}' is planned"), proc.stderr
    # --help lists it under the planned group, marked as such.
    help_text = lab("--help").stdout
    planned = help_text[help_text.index("Planned verbs"):]
    line = next(ln for ln in planned.splitlines() if ln.strip().startswith(verb + " "))
    assert "[planned]" in line, line


def test_implemented_verbs_are_not_marked_planned(lab):
    help_text = lab("--help").stdout
    head = help_text.split("Planned verbs")[0]
    for verb in ["list", "run", "exec", "leaks", "fuzz", "replay", "decode", "encode", "minimize", "repro",
                 "selftest"]:
        assert any(ln.strip().startswith(verb + " ") and "[planned]" not in ln for ln in head.splitlines()), verb


@pytest.mark.parametrize("args,needle", [
    (["bogus"], "threadlab: unknown verb 'bogus'"),
    (["bogus", "--json", "x.json"], "threadlab: unknown verb 'bogus'"),
    ([], "threadlab: no verb given"),
])
def test_unknown_or_missing_verb_says_so(lab, args, needle):
    proc = lab(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert needle in proc.stderr, proc.stderr
    assert "A subcommand is required" not in proc.stderr
    assert "run" in proc.stderr and "list" in proc.stderr  # it names the verbs there are


@pytest.mark.parametrize("args", [
    ["run", "--timeout", "abc"],
    ["run", "spawn-exit-churn", "--timeout", "1x"],
    ["leaks", "spawn-exit-churn", "--timeout", "soon"],
    ["exec", "--timeout", "abc", "--", "true"],
    ["run", "--cycles", "many"],
])
def test_non_numeric_value_says_not_a_number(lab, args):
    proc = lab(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    flag = next(a for a in args if a.startswith("--"))
    assert f"{flag}: '{args[args.index(flag) + 1]}' is not a number" in proc.stderr, proc.stderr


@pytest.mark.parametrize("verb", ["run", "leaks"])
@pytest.mark.parametrize("seed", ["-1", "-18446744073709551615", "18446744073709551616", "1.5", "x"])
def test_bad_seed_is_refused_not_wrapped(lab, verb, seed):
    args = [verb, "spawn-exit-churn", "--cycles", "5", f"--seed={seed}"]
    proc = lab(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--seed" in proc.stderr and "is not a seed" in proc.stderr, proc.stderr
    assert "18446744073709551615 " not in proc.stdout  # no run started with a wrapped seed


def test_largest_seed_is_accepted(lab):
    proc, doc = lab.run_json("run", "spawn-exit-churn", "--adapter", "reference", "--cycles", "2",
                             "--seed", "18446744073709551615")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert doc["runs"][0]["seed"] == 18446744073709551615


@pytest.mark.parametrize("args", [["run", "--bogus-flag"], ["list", "--nope"], ["exec"], ["leaks"]])
def test_parser_messages_carry_the_prefix(lab, args):
    proc = lab(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("threadlab: "), proc.stderr


def test_report_dir_that_cannot_be_created_says_why(lab, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = run_env(lab, "run", "spawn-exit-churn", env={"THREADLAB_REPORT_DIR": str(blocker / "reports")})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"cannot create report directory '{blocker / 'reports'}'" in proc.stderr, proc.stderr
    assert os.strerror(20) in proc.stderr  # ENOTDIR: "Not a directory"
    assert "[1/" not in proc.stdout  # nothing ran


@pytest.mark.skipif(os.geteuid() == 0, reason="root bypasses directory permissions: EACCES cannot happen")
def test_report_dir_without_permission_says_eacces(lab, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    proc = run_env(lab, "run", "spawn-exit-churn", env={"THREADLAB_REPORT_DIR": str(locked / "reports")})
    assert proc.returncode == 2
    assert os.strerror(13) in proc.stderr, proc.stderr  # EACCES: "Permission denied"
