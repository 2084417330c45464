"""docs/scenarios.md is generated from the scenario registry
(`threadlab list --markdown`): it fails here as soon as a scenario's name,
tags, description, capabilities or catches change without the file."""
import subprocess

from conftest import ROOT, binary

REGENERATE = "build/default/bin/threadlab list --markdown > docs/scenarios.md"


def _generated():
    return subprocess.run([binary(), "list", "--markdown"], capture_output=True, text=True, check=True).stdout


def test_scenarios_doc_is_what_the_registry_prints():
    doc = ROOT / "docs" / "scenarios.md"
    assert doc.exists(), f"docs/scenarios.md is missing; generate it with: {REGENERATE}"
    assert doc.read_text() == _generated(), f"docs/scenarios.md is stale; regenerate it with: {REGENERATE}"


def test_the_table_has_a_row_per_scenario_with_its_catches():
    import json
    scenarios = json.loads(subprocess.run([binary(), "list", "--json"], capture_output=True, text=True,
                                          check=True).stdout)["scenarios"]
    rows = [ln for ln in _generated().splitlines() if ln.startswith("| `")]
    assert len(rows) == len(scenarios)
    for s, row in zip(scenarios, rows):
        assert row.startswith(f"| `{s['name']}` |")
        for c in s["catches"]:
            assert f"`{c['defect']}` → {c['verdict']}" in row, row
