"""`threadlab selftest`: detection is the harness's own (no scenario reads
the injection switch), and the verb's contract on a small slice of the real
catalogue — the summary line and exit code, the clean runs counted, the
JSON document, the usage errors. Kept to one defect and --repeat 1 so the
file runs in seconds; the whole matrix is `ci/threadlab selftest`."""
import json
import re

import pytest

from conftest import ROOT, binary

SUMMARY = re.compile(r"^selftest: (\d+)/(\d+) defects detected, (\d+) false positives in (\d+) clean runs$", re.M)


def _catalogue():
    import subprocess
    doc = json.loads(subprocess.run([binary(), "list", "--json"], capture_output=True, text=True, check=True).stdout)
    return doc["scenarios"]


def _quick_defect():
    """The defect with the fewest catching scenarios, preferring a verdict
    that does not wait for a hang to be called (a deadlock takes seconds)."""
    by = {}
    for s in _catalogue():
        if "broken" in s["tags"]:
            continue
        for c in s["catches"]:
            by.setdefault(c["defect"], []).append((s["name"], c["verdict"]))
    return min(by, key=lambda d: (any(v in ("deadlock", "timeout") for _, v in by[d]), len(by[d]), d))


def test_no_scenario_reads_the_injection_switch():
    # A defect counts only when the harness's generic checks catch it: a
    # scenario that looked at THREADLAB_INJECT (or the runtime's tl_inject_*)
    # could report itself and prove nothing.
    offenders = []
    for path in sorted((ROOT / "scenarios").rglob("*")):
        if path.is_file():
            for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if "THREADLAB_INJECT" in line or "tl_inject" in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "scenarios must not read the injection switch:\n" + "\n".join(offenders)


def test_one_defect_is_detected_beside_its_clean_runs(lab, validate):
    defect = _quick_defect()
    catching = [s["name"] for s in _catalogue() if any(c["defect"] == defect for c in s["catches"])]
    out = lab.tmp / "selftest.json"
    html = lab.tmp / "selftest.html"
    proc = lab("selftest", "--defect", defect, "--repeat", "1", "--seed", "5", "--json", str(out),
               "--html", str(html), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    m = SUMMARY.search(proc.stdout)
    assert m, proc.stdout
    detected, total, false_pos, clean_runs = map(int, m.groups())
    assert (detected, total, false_pos) == (1, 1, 0), m.group(0)
    doc = validate(json.loads(out.read_text()))
    assert doc["verb"] == "selftest"
    st = doc["selftest"]
    # The clean part: the catching scenarios, once per adapter, every run counted.
    clean = [r for r in doc["runs"] if r["selftest"]["part"] == "clean"]
    assert {r["scenario"] for r in clean} == set(catching)
    assert clean_runs == st["clean"]["runs"] == len([r for r in clean if r["verdict"] != "skip"]) > 0
    assert all(r["verdict"] in ("pass", "skip") for r in clean)
    # The defect part: every run injected with it, every matrix cell detected.
    injected = [r for r in doc["runs"] if r["selftest"]["part"] == "defect"]
    assert injected and all(r["selftest"]["inject"] == defect for r in injected)
    assert all(r["selftest"]["replay"].startswith(f"THREADLAB_INJECT={defect} threadlab run ") for r in injected)
    assert [d["name"] for d in st["defects"]] == [defect] and st["defects"][0]["status"] == "detected"
    assert {c["scenario"] for c in st["defects"][0]["cells"]} == set(catching)
    assert st["summary"]["line"] == m.group(0)
    assert st["summary"]["defects"] == 1 and st["summary"]["detected"] == 1 and st["summary"]["missed"] == []
    assert not [r for r in doc["runs"] if r["selftest"]["part"] == "harness"]  # --defect leaves them out
    # The matrix on the terminal and in the page.
    assert defect in proc.stdout and "detected" in proc.stdout
    page = html.read_text()
    assert "class='matrix'" in page and defect in page and "<script" not in page


def test_an_adapter_without_injection_runs_the_clean_part_only(lab):
    proc = lab("selftest", "spawn-exit-churn", "--adapter", "pthread", "--repeat", "2", "--seed", "3", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "adapter 'pthread' has no injection points" in proc.stdout
    m = SUMMARY.search(proc.stdout)
    assert m and m.groups() == ("0", "0", "0", "2"), proc.stdout


def test_the_harness_checks_get_their_own_verdicts(lab):
    proc, doc = lab.run_json("selftest", "selftest-crash", "selftest-fd-leak", "--adapter", "reference",
                             "--repeat", "1", "--seed", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = {h["scenario"]: h for h in doc["selftest"]["harness"]}
    assert checks["selftest-crash"]["verdict"] == "crash" and checks["selftest-fd-leak"]["verdict"] == "leak"
    assert all(h["outcome"] == "as expected" for h in checks.values())
    assert "harness self-checks" in proc.stdout


@pytest.mark.parametrize("args,needle", [
    (["--repeat", "0"], "--repeat"),
    (["--repeat", "x"], "--repeat"),
    (["--adapter", "no-such-adapter"], "no-such-adapter"),
    (["--defect", "no_such_defect"], "no_such_defect"),
    (["no-such-scenario"], "no-such-scenario"),
    (["--bogus"], "--bogus"),
])
def test_usage_errors_exit_2_before_any_run(lab, args, needle):
    out = lab.tmp / "never.json"
    proc = lab("selftest", *args, "--json", str(out))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("threadlab: ") and needle in proc.stderr, proc.stderr
    assert not out.exists()


def test_a_defect_no_scenario_catches_is_undetected(lab):
    # Parsed from the table THREADLAB_INJECT reads; skipped once every live
    # defect has a catching scenario.
    live = re.findall(r"^X\((\w+), live,", (ROOT / "runtime" / "src" / "inject_points.def").read_text(), re.M)
    caught = {c["defect"] for s in _catalogue() for c in s["catches"]}
    orphans = sorted(set(live) - caught)
    if not orphans:
        pytest.skip("every live defect has a scenario that catches it")
    proc, doc = lab.run_json("selftest", "--defect", orphans[0], "--repeat", "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "no scenario catches it" in proc.stdout
    assert SUMMARY.search(proc.stdout).groups()[:2] == ("0", "1"), proc.stdout
    assert doc["selftest"]["defects"][0]["status"] == "no scenario catches it"
    assert doc["selftest"]["summary"]["missed"] == [orphans[0]]
