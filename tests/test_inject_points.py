"""Injection points are honest (runtime/src/inject_points.def): every live
point has its marked defect branch in runtime/src, no planned point has
one, and THREADLAB_INJECT naming a planned or unknown point is refused with
exit 2, naming it, before anything runs. Every defect a scenario declares it
catches is a live point."""
import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "runtime" / "src"
POINTS = {m.group(1): m.group(2) for m in re.finditer(r"^X\((\w+), (live|planned), \"",
                                                      (SRC / "inject_points.def").read_text(), re.M)}
LIVE = sorted(n for n, s in POINTS.items() if s == "live")
PLANNED = sorted(n for n, s in POINTS.items() if s == "planned")


def _sources():
    return {p: p.read_text() for p in SRC.rglob("*") if p.suffix in (".cpp", ".h") and p.name != "inject.h"}


def _marks(name):
    """Places in runtime/src marked `DEFECT name:` (one per defect branch)."""
    return [f"{p.relative_to(ROOT)}:{t[:m.start()].count(chr(10)) + 1}"
            for p, t in _sources().items() for m in re.finditer(rf"\bDEFECT {name}:", t)]


def _uses(name):
    return [p for p, t in _sources().items() if f"TL_INJECT({name})" in t]


def test_the_def_parses_into_live_and_planned_points():
    text = (SRC / "inject_points.def").read_text()
    entries = re.findall(r"^X\(", text, re.M)
    assert len(entries) == len(POINTS), "an X(...) line that is neither live nor planned"
    assert LIVE  # planned points may run out: every catalogue entry is live


# Known deviations in runtime/src, reported to the runtime's owner; strict,
# so the test fails once they are fixed and the entry must go.
MARK_DEVIATIONS = {}  # live points whose marks break the rule, with why (none now)


@pytest.mark.parametrize("name", LIVE)
def test_a_live_point_has_exactly_one_marked_branch(name, request):
    if name in MARK_DEVIATIONS:
        request.applymarker(pytest.mark.xfail(strict=True, reason=MARK_DEVIATIONS[name]))
    marks = _marks(name)
    assert len(marks) == 1, f"live point {name}: {len(marks)} `DEFECT {name}:` marks: {marks}"


@pytest.mark.parametrize("name", LIVE)
def test_a_live_point_is_used(name):
    assert _uses(name), f"live point {name} has no TL_INJECT({name}) in runtime/src"


@pytest.mark.parametrize("name", PLANNED)
def test_a_planned_point_has_nothing_behind_it(name):
    assert not _uses(name) and not _marks(name), f"{name} is marked planned but has a branch: mark it live"


@pytest.mark.parametrize("name", PLANNED[:1] + ["bogus"])
@pytest.mark.parametrize("verb", [["run"], ["leaks", "kill-each-state", "--cycles", "20"]])
def test_a_point_with_nothing_behind_it_is_refused_before_running(lab, name, verb):
    proc = lab(*verb, inject=name)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert name in proc.stderr and "THREADLAB_INJECT" in proc.stderr, proc.stderr
    assert ("planned" if name in POINTS else "not an injection point") in proc.stderr, proc.stderr
    assert "run(s)" not in proc.stdout, proc.stdout  # nothing ran


def test_a_bad_name_among_good_ones_is_refused(lab):
    proc = lab("run", inject=f"{LIVE[0]},bogus")
    assert proc.returncode == 2 and "'bogus'" in proc.stderr, proc.stdout + proc.stderr


def test_every_declared_catch_is_a_live_point(lab):
    doc = json.loads(lab("list", "--json").stdout)
    declared = {c["defect"] for s in doc["scenarios"] for c in s["catches"]}
    assert declared and declared <= set(LIVE), declared - set(LIVE)
