"""Shared fixtures for the end-to-end tests of the threadlab CLI.

The binary is $THREADLAB_BIN, else build/default/bin/threadlab (ci/test
builds it). Reports of `run` without flags go to a temporary directory
(THREADLAB_REPORT_DIR), never into the checkout.
"""
import json
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "docs" / "report-schema.json"


def binary():
    env = os.environ.get("THREADLAB_BIN")
    path = pathlib.Path(env) if env else ROOT / "build" / "default" / "bin" / "threadlab"
    if not path.exists():
        pytest.fail(f"threadlab binary not found at {path}: build the default preset first")
    return str(path)


class Lab:
    def __init__(self, tmp):
        self.bin = binary()
        self.tmp = tmp
        self.env = dict(os.environ, THREADLAB_REPORT_DIR=str(tmp / "reports"))
        self.env.pop("THREADLAB_INJECT", None)

    def __call__(self, *args, inject=None, timeout=120):
        env = dict(self.env)
        if inject:
            env["THREADLAB_INJECT"] = inject
        return subprocess.run([self.bin, *args], capture_output=True, text=True, env=env, timeout=timeout)

    def run_json(self, *args, inject=None):
        out = self.tmp / f"report-{len(list(self.tmp.glob('report-*.json')))}.json"
        proc = self(args[0], "--json", str(out), *args[1:], inject=inject)
        assert out.exists(), proc.stdout + proc.stderr
        return proc, json.loads(out.read_text())


@pytest.fixture
def lab(tmp_path):
    return Lab(tmp_path)


@pytest.fixture(scope="session")
def schema():
    return json.loads(SCHEMA.read_text())


@pytest.fixture(scope="session")
def validate(schema):
    import jsonschema

    def check(doc):
        jsonschema.validate(doc, schema)
        return doc

    return check


@pytest.fixture(scope="session")
def c_program(tmp_path_factory):
    """Compile tests/programs/NAME.c once per session; returns its path."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        pytest.fail("no C compiler (cc) on PATH")
    out_dir = tmp_path_factory.mktemp("programs")
    built = {}

    def build(name):
        if name not in built:
            exe = out_dir / name
            subprocess.run([cc, "-O1", "-pthread", "-o", str(exe), str(ROOT / "tests" / "programs" / f"{name}.c")],
                           check=True)
            built[name] = str(exe)
        return built[name]

    return build
