"""An installed threadlab from a runtime author's side (docs/writing-an-adapter.md):
`cmake --install` of the build under test into a fresh prefix, an adapter
built out of tree against that prefix only (tests/programs/oot_adapter:
find_package(threadlab) + threadlab_add_adapter), then the installed
`threadlab run --adapter-lib` on it.

The build under test is the one $THREADLAB_BIN belongs to (its ../..), else
build/default, as for every test here (conftest.py)."""
import json
import pathlib
import shutil
import subprocess

import pytest

from conftest import ROOT, binary

OOT = ROOT / "tests" / "programs" / "oot_adapter"
CAPS = {"spawn", "counters"}  # oot_adapter.c's


@pytest.fixture(scope="module")
def runs():
    """(a scenario the oot adapter's caps cover, one that needs more), from `threadlab list`."""
    listed = json.loads(sh(binary(), "list", "--json").stdout)["scenarios"]
    usable = [s for s in listed if not {"selftest", "broken"} & set(s["tags"])]
    need = lambda s: set(filter(None, s["caps"].split(",")))  # noqa: E731
    covered = [s["name"] for s in usable if need(s) <= CAPS]
    beyond = [s["name"] for s in usable if not need(s) <= CAPS]
    assert covered and beyond, listed
    return covered[0], beyond[0]


def sh(*argv, timeout=300, **kw):
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, argv))}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(prefix, config dir, the out-of-tree module) for the build under test."""
    build = pathlib.Path(binary()).resolve().parent.parent
    if not (build / "CMakeCache.txt").exists():
        pytest.fail(f"{build} is not a CMake build directory (THREADLAB_BIN should be <build>/bin/threadlab)")
    cmake = shutil.which("cmake")
    if not cmake:
        pytest.fail("cmake not on PATH")
    tmp = tmp_path_factory.mktemp("install")
    prefix = tmp / "prefix"
    sh(cmake, "--install", build, "--prefix", prefix)
    configs = list(prefix.glob("**/cmake/threadlab/threadlabConfig.cmake"))
    assert len(configs) == 1, configs
    oot_build = tmp / "oot-build"
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    sh(cmake, "-S", OOT, "-B", oot_build, *gen, f"-DCMAKE_PREFIX_PATH={prefix}", "-DCMAKE_BUILD_TYPE=Release",
       "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF")
    sh(cmake, "--build", oot_build)
    module = oot_build / "threadlab-adapter-oot.so"
    assert module.is_file(), list(oot_build.iterdir())
    cache = (oot_build / "CMakeCache.txt").read_text()
    assert f"threadlab_DIR:PATH={configs[0].parent}" in cache, "found a threadlab other than the fresh prefix"
    return prefix, configs[0].parent, module


def run_installed(prefix, tmp_path, *args, env_extra=None):
    out = tmp_path / "report.json"
    env = {"PATH": "/usr/bin:/bin", "THREADLAB_REPORT_DIR": str(tmp_path / "reports"), **(env_extra or {})}
    proc = subprocess.run([str(prefix / "bin" / "threadlab"), "run", "--json", str(out), *args], capture_output=True,
                          text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


def check_report(report, runs):
    passing, skipped = runs
    by_name = {r["scenario"]: r for r in report["runs"]}
    assert set(by_name) == {passing, skipped}
    assert {r["adapter"] for r in by_name.values()} == {"oot"}
    assert by_name[passing]["verdict"] == "pass", by_name
    assert by_name[skipped]["verdict"] == "skip"
    assert by_name[skipped]["reason"].startswith("adapter 'oot' lacks capability ")


def test_the_installed_threadlab_runs_an_out_of_tree_adapter(installed, runs, tmp_path):
    prefix, _, module = installed
    check_report(run_installed(prefix, tmp_path, "--adapter-lib", module, *runs), runs)


def test_the_install_offers_the_api_and_no_runtime(installed):
    prefix, config_dir, _ = installed
    headers = sorted(p.name for p in (prefix / "include" / "threadlab").iterdir())
    assert headers == ["adapter.h", "scenario.h"]
    libs = [p.name for p in prefix.rglob("*.a")]
    assert libs == [], f"static libraries installed for linking: {libs}"
    targets = (config_dir / "threadlabTargets.cmake").read_text()
    assert "threadlab::api" in targets and "threadlab::threadlab" in targets
    for leaked in ["threadlab_runtime", "threadlab_harness", "threadlab_adapter_reference"]:
        assert leaked not in targets


def test_an_installed_module_is_found_by_name(installed, runs, tmp_path):
    # <prefix>/<libdir>/threadlab/adapters is where the installed binary
    # looks for threadlab-adapter-NAME.so (the peers' modules install there).
    prefix, config_dir, module = installed
    libdir = config_dir.parent.parent
    modules = libdir / "threadlab" / "adapters"
    modules.mkdir(parents=True, exist_ok=True)
    copy = modules / module.name
    shutil.copy(module, copy)
    try:
        check_report(run_installed(prefix, tmp_path, "--adapter", "oot", *runs), runs)
    finally:
        copy.unlink()
