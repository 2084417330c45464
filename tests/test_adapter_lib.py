"""Adapters loaded from shared libraries: `--adapter-lib PATH`,
THREADLAB_ADAPTER_LIB and `--adapter NAME` found on THREADLAB_ADAPTER_PATH
(docs/writing-an-adapter.md).

The modules are tests/programs/adapter_lib/minimal.c (POSIX threads, spawn
only), compiled here with -D switches into the variants threadlab must
refuse. Every refusal is exit 2 with one `threadlab:` line naming the library
and what is wrong, and no report written."""
import json
import pathlib
import shutil
import subprocess

import pytest

from conftest import ROOT, binary

SOURCE = ROOT / "tests" / "programs" / "adapter_lib" / "minimal.c"
CAPS = {"spawn"}  # the minimal adapter's
NOTHING_NEEDED = "foreign-exit-without-callback"  # a scenario needing no capability, for the refusal tests


def pick_scenarios(lab_bin, caps):
    """(scenarios the caps cover, one that needs more), from `threadlab list`:
    the run ones (not selftest or broken); at most two of the first kind."""
    listed = json.loads(subprocess.run([lab_bin, "list", "--json"], capture_output=True, text=True,
                                       check=True).stdout)["scenarios"]
    usable = [s for s in listed if not {"selftest", "broken"} & set(s["tags"])]
    need = lambda s: set(filter(None, s["caps"].split(",")))  # noqa: E731
    covered = [s["name"] for s in usable if need(s) <= caps]
    beyond = [s for s in usable if not need(s) <= caps]
    assert covered and beyond, listed
    return covered[:2], beyond[0]["name"], sorted(need(beyond[0]) - caps)


@pytest.fixture(scope="session")
def runs():
    """(names that pass on the minimal adapter, a name it skips, the caps it lacks for it)."""
    return pick_scenarios(binary(), CAPS)


@pytest.fixture(scope="session")
def module(tmp_path_factory):
    """module(file_name, *defines) -> path of a freshly built adapter library."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        pytest.fail("no C compiler (cc) on PATH")
    out_dir = tmp_path_factory.mktemp("adapter_lib")
    built = {}

    def build(name, *defines):
        key = (name, defines)
        if key not in built:
            sub = out_dir / str(len(built))
            sub.mkdir()
            path = sub / name
            subprocess.run([cc, "-shared", "-fPIC", "-fvisibility=hidden", "-pthread", "-I",
                            str(ROOT / "harness" / "include"), *defines, "-o", str(path), str(SOURCE)],
                           check=True)
            built[key] = path
        return str(built[key])

    return build


def assert_refused(proc, *words):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("threadlab: "), proc.stderr
    for w in words:
        assert w in lines[0], proc.stderr


def test_a_loaded_adapter_runs_and_skips_what_it_cannot_do(lab, module, runs):
    passing, skipped_name, lacking = runs
    lib = module("threadlab-adapter-minimal.so")
    proc, report = lab.run_json("run", "--adapter-lib", lib, *passing, skipped_name)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    verdicts = {r["scenario"]: r for r in report["runs"]}
    assert set(verdicts) == {*passing, skipped_name}
    assert {r["adapter"] for r in report["runs"]} == {"minimal"}  # not the reference default
    for name in passing:
        assert verdicts[name]["verdict"] == "pass", verdicts[name]
    skipped = verdicts[skipped_name]
    assert skipped["verdict"] == "skip"
    assert skipped["reason"].startswith("adapter 'minimal' lacks capability "), skipped
    for cap in lacking:
        assert cap in skipped["reason"]


def test_adapter_names_a_loaded_adapter_next_to_a_built_in_one(lab, module):
    lib = module("threadlab-adapter-minimal.so")
    proc, report = lab.run_json("run", "--adapter-lib", lib, "--adapter", "minimal", "--adapter", "pthread",
                                NOTHING_NEEDED)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(r["adapter"] for r in report["runs"]) == ["minimal", "pthread"]


def test_list_shows_where_a_loaded_adapter_comes_from(lab, module):
    lib = module("threadlab-adapter-minimal.so")
    proc = lab("list", "--json", "--adapter-lib", lib)
    assert proc.returncode == 0, proc.stderr
    adapters = {a["name"]: a for a in json.loads(proc.stdout)["adapters"]}
    assert adapters["minimal"]["source"] == lib
    assert adapters["minimal"]["caps"] == "spawn"
    assert adapters["minimal"]["problem"] == ""
    assert adapters["reference"]["source"] == "built-in"
    text = lab("list", "--adapter-lib", lib).stdout
    assert f"from: {lib}" in text


def test_replay_children_load_the_library_too(lab, module, tmp_path):
    # replay runs each program in a `threadlab __exec` child: it finds the
    # adapter only through THREADLAB_ADAPTER_LIB, which --adapter-lib sets.
    lib = module("threadlab-adapter-minimal.so")
    prog = tmp_path / "two-threads.txt"
    prog.write_text("t1 = spawn\nt2 = spawn\njoin t1\njoin t2\n")
    proc, report = lab.run_json("replay", "--adapter-lib", lib, str(prog))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["adapter"] == "minimal"
    assert report["files"][0]["verdict"] == "pass", report
    # Without the variable the child does not know the adapter: the test above
    # passes because of it.
    env = dict(lab.env)
    env.pop("THREADLAB_ADAPTER_LIB", None)
    child = subprocess.run([lab.bin, "__exec", "--adapter", "minimal", str(prog)], capture_output=True, text=True,
                           env=env, timeout=60)
    assert child.returncode == 2 and "unknown adapter 'minimal'" in child.stderr


@pytest.mark.parametrize("defines,words", [
    (["-DNO_ENTRY"], ["does not export threadlab_adapter (see docs/writing-an-adapter.md)"]),
    (["-DNULL_ENTRY"], ["threadlab_adapter() returned NULL"]),
    (["-DABI=7"], ["ABI version 7 (this threadlab speaks 1)"]),
    (["-DSTRUCT_SIZE=16"], ["struct_size 16 smaller than any tl_adapter revision"]),
    (["-DCAP_WITHOUT_OPS"], ["capability 'kill' is set but its operations are missing"]),
    (['-DADAPTER_NAME="pthread"'], ["adapter name 'pthread' is taken by a built-in adapter"]),
    (['-DADAPTER_NAME="Not/A/Name"'], ["name 'Not/A/Name' is not made of [a-z0-9_-]"]),
], ids=["no-symbol", "null-entry", "abi-version", "struct-size", "cap-without-ops", "clash-built-in", "bad-name"])
def test_a_broken_library_is_refused_naming_it(lab, module, tmp_path, defines, words):
    lib = module("threadlab-adapter-broken.so", *defines)
    out = tmp_path / "never.json"
    proc = lab("run", "--adapter-lib", lib, "--json", str(out), NOTHING_NEEDED)
    assert_refused(proc, f"'{lib}'", *words)
    assert not out.exists()


def test_a_missing_or_unloadable_file_is_refused(lab, tmp_path):
    missing = tmp_path / "nope.so"
    assert_refused(lab("run", "--adapter-lib", str(missing), NOTHING_NEEDED), f"'{missing}'", "No such file or directory")
    junk = tmp_path / "junk.so"
    junk.write_text("not a shared library\n")
    assert_refused(lab("leaks", "--adapter-lib", str(junk), NOTHING_NEEDED), f"'{junk}'", "cannot load it:")


def test_a_name_taken_by_another_library_is_refused(lab, module):
    first = module("threadlab-adapter-minimal.so")
    second = module("threadlab-adapter-minimal.so", "-DANOTHER_FILE")  # another file, same name
    proc = lab("run", "--adapter-lib", first, "--adapter-lib", second, NOTHING_NEEDED)
    assert_refused(proc, f"'{second}'", f"adapter name 'minimal' is taken by {first}")
    # The same file twice is one adapter.
    proc, report = lab.run_json("run", "--adapter-lib", first, "--adapter-lib", first, NOTHING_NEEDED)
    assert proc.returncode == 0, proc.stderr
    assert [r["adapter"] for r in report["runs"]] == ["minimal"]


def test_several_libraries_and_a_one_adapter_verb_need_adapter(lab, module):
    a = module("threadlab-adapter-minimal.so")
    b = module("threadlab-adapter-other.so", '-DADAPTER_NAME="other"')
    assert_refused(lab("leaks", "--adapter-lib", a, "--adapter-lib", b, NOTHING_NEEDED),
                   "--adapter-lib loaded adapters 'minimal', 'other'; name the one to use with --adapter")
    # run takes them all.
    proc, report = lab.run_json("run", "--adapter-lib", a, "--adapter-lib", b, NOTHING_NEEDED)
    assert proc.returncode == 0, proc.stderr
    assert sorted(r["adapter"] for r in report["runs"]) == ["minimal", "other"]


def test_adapter_name_is_found_on_threadlab_adapter_path(lab, module, runs):
    passing, skipped_name, _ = runs
    lib = module("threadlab-adapter-minimal.so")
    lab.env["THREADLAB_ADAPTER_PATH"] = "/nonexistent:" + str(pathlib.Path(lib).parent)
    proc, report = lab.run_json("run", "--adapter", "minimal", passing[0], skipped_name)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {r["adapter"] for r in report["runs"]} == {"minimal"}
    assert sorted(r["verdict"] for r in report["runs"]) == ["pass", "skip"]


def test_a_module_whose_table_has_another_name_is_refused(lab, module):
    lib = module("threadlab-adapter-minimal.so", '-DADAPTER_NAME="other"')
    lab.env["THREADLAB_ADAPTER_PATH"] = str(pathlib.Path(lib).parent)
    assert_refused(lab("run", "--adapter", "minimal", NOTHING_NEEDED), "carries adapter 'other', not 'minimal'")


def test_an_unknown_adapter_names_where_it_was_looked_for(lab, tmp_path):
    lab.env["THREADLAB_ADAPTER_PATH"] = str(tmp_path)
    assert_refused(lab("run", "--adapter", "nosuch", NOTHING_NEEDED), "unknown adapter 'nosuch'",
                   "threadlab-adapter-nosuch.so", str(tmp_path))


def test_threadlab_adapter_lib_is_loaded_and_its_refusals_named(lab, module):
    lib = module("threadlab-adapter-minimal.so")
    lab.env["THREADLAB_ADAPTER_LIB"] = lib
    proc, report = lab.run_json("run", "--adapter", "minimal", NOTHING_NEEDED)
    assert proc.returncode == 0, proc.stderr
    assert report["runs"][0]["adapter"] == "minimal"
    # Without --adapter-lib on the command line the default stays reference.
    proc, report = lab.run_json("run", NOTHING_NEEDED)
    assert {r["adapter"] for r in report["runs"]} == {"reference", "reference-hybrid"}
    lab.env["THREADLAB_ADAPTER_LIB"] = module("threadlab-adapter-broken.so", "-DNULL_ENTRY")
    assert_refused(lab("list"), "THREADLAB_ADAPTER_LIB:", "returned NULL")
