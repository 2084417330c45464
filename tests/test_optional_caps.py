"""Optional capabilities: a scenario that uses a capability only for extra
checks lists it as `optional_caps` (`threadlab list`: "uses if present"), is
not skipped on an adapter without it, and still makes those checks on one
that has it."""
import json

import pytest

# Scenario -> capabilities it uses only when the adapter offers them.
OPTIONAL = {
    "foreign-callback-storm": {"value_stack"},
    "foreign-exit-after-callback": {"value_stack"},
    "spawn-exit-churn": {"value_stack"},
    "stop-the-world-storm": {"regions"},
    "gc-callback-storm": {"value_stack", "regions"},
}


def _caps(s):
    return set(filter(None, s.split(",")))


def _scenarios(lab):
    return {s["name"]: s for s in json.loads(lab("list", "--json").stdout)["scenarios"]}


def test_list_separates_needed_from_optional_caps(lab):
    scenarios = _scenarios(lab)
    for name, optional in OPTIONAL.items():
        s = scenarios[name]
        assert _caps(s["optional_caps"]) == optional, name
        assert not _caps(s["caps"]) & optional, name
    assert "regions" not in _caps(scenarios["without-gc-deferral"]["caps"])
    text = lab("list").stdout
    block = text[text.index("  foreign-callback-storm\n"):]
    block = block[:block.index("\n\n")]
    assert "uses if present: value_stack" in block


def test_scenarios_run_without_their_optional_caps(lab, validate, tmp_path):
    names = ["foreign-callback-storm", "foreign-exit-after-callback", "spawn-exit-churn", "without-gc-deferral"]
    out = tmp_path / "bdwgc.json"
    proc = lab("run", "--json", str(out), *names, "--adapter", "bdwgc", "--cycles", "3")
    if proc.returncode == 2 and not out.exists():
        pytest.skip("the bdwgc adapter (no value_stack, no regions) is not built: " + proc.stderr.strip())
    doc = validate(json.loads(out.read_text()))
    runs = {r["scenario"]: r for r in doc["runs"]}
    assert runs[names[0]]["adapter"] == "bdwgc"
    for name in names:
        assert runs[name]["verdict"] == "pass", (name, runs[name]["reason"])
    assert proc.returncode == 0, proc.stdout
