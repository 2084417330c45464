"""ci/unit_repeat.py BUILD_DIR N [REGEX] — the --repeat part of ci/unit (REGEX:
only the runs whose label, environment and binary name, matches).

Invariants:
  - The set of runs comes from CTest itself (ctest --show-only=json-v1): a
    GoogleTest binary (a test whose command has --gtest_filter) runs whole,
    once per distinct environment CTest gives its tests, with
    --gtest_repeat=N --gtest_shuffle; any other test runs through CTest
    (ctest -R NAME --repeat until-fail:N), which judges it as usual. Nothing is listed by hand, so a new test binary is covered.
  - Each run has a time limit (N x the largest CTest TIMEOUT of its tests);
    a run that passes its limit is a failure, named as such.
  - Exit 0 only when every run exited 0; failed GoogleTest cases are listed
    by name (with the iteration that failed them) at the end.
"""
import json
import os
import pathlib
import re
import subprocess
import sys
import time


def discovered_environments(build_dir):
    """Test name -> ENVIRONMENT from gtest_discover_tests' *_tests.cmake files
    (ctest's JSON leaves the ENVIRONMENT property out)."""
    envs = {}
    line = re.compile(r"^set_tests_properties\(\s*\[(=*)\[(.*?)\]\1\]\s+PROPERTIES(.*)\)\s*$")
    for path in pathlib.Path(build_dir).rglob("*_tests.cmake"):
        for text in path.read_text(errors="replace").splitlines():
            m = line.match(text)
            env = m and re.search(r"ENVIRONMENT\s+\[(=*)\[(.*?)\]\1\]", m.group(3))
            if env:
                envs[m.group(2)] = env.group(2).split(";")
    return envs


def runs_from_ctest(build_dir):
    out = subprocess.run(["ctest", "--show-only=json-v1"], cwd=build_dir, capture_output=True, text=True, check=True)
    envs = discovered_environments(build_dir)
    runs = {}
    for t in json.loads(out.stdout)["tests"]:
        cmd = t.get("command") or []
        if not cmd:
            continue
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        env = tuple(sorted(props.get("ENVIRONMENT", envs.get(t["name"], []))))
        timeout = float(props.get("TIMEOUT", 1500))
        gtest = any(a.startswith("--gtest_filter") for a in cmd)
        if gtest:
            base = tuple(a for a in cmd if not a.startswith("--gtest_"))
            key = (base, env)
        else:
            key = (tuple(cmd), env)
        prev = runs.get(key)
        runs[key] = {"gtest": gtest, "timeout": max(timeout, prev["timeout"] if prev else 0),
                     "cwd": props.get("WORKING_DIRECTORY", build_dir), "name": t["name"]}
    return runs


def main():
    build_dir, n = sys.argv[1], int(sys.argv[2])
    only = re.compile(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else None
    failed, ran = [], 0
    for (cmd, env), r in sorted(runs_from_ctest(build_dir).items()):
        label = " ".join([*env, os.path.basename(cmd[0]) if r["gtest"] else r["name"]])
        if only and not only.search(label):
            continue
        ran += 1
        if r["gtest"]:
            argv, cwd = list(cmd) + ["--gtest_repeat=%d" % n, "--gtest_shuffle"], r["cwd"]
        else:  # CTest judges it (pass/fail regular expressions, WILL_FAIL)
            argv = ["ctest", "-R", "^%s$" % re.escape(r["name"]), "--repeat", "until-fail:%d" % n,
                    "--output-on-failure"]
            cwd = build_dir
        environ = dict(os.environ, **dict(e.split("=", 1) for e in env))
        t0 = time.monotonic()
        times = 1
        rc, text = 0, ""
        for _ in range(times):
            try:
                p = subprocess.run(argv, cwd=cwd, env=environ, capture_output=True, text=True,
                                   timeout=r["timeout"] * n)
                rc, text = p.returncode, text + p.stdout + p.stderr
            except subprocess.TimeoutExpired as e:
                rc, text = -1, text + f"\n(timed out after {e.timeout:.0f}s)\n"
            if rc != 0:
                break
        status = "ok" if rc == 0 else ("TIMEOUT" if rc == -1 else f"FAIL (exit {rc})")
        print(f"[unit x{n}] {label}: {status} in {time.monotonic() - t0:.1f}s", flush=True)
        if rc != 0:
            # GoogleTest prints "Repeating all tests (iteration K)" and
            # "[  FAILED  ] Suite.Name" lines; keep which iteration failed what.
            iteration = 1
            names = []
            for line in text.splitlines():
                m = re.match(r"Repeating all tests \(iteration (\d+)\)", line)
                if m:
                    iteration = int(m.group(1))
                m = re.match(r"\[  FAILED  \] (\S+)", line)
                if m and "," not in line and (m.group(1), iteration) not in names:
                    names.append((m.group(1), iteration))
            failed.append((label, status, names))
            sys.stdout.write("\n".join(text.splitlines()[-40:]) + "\n")
    if failed:
        print("\nci/unit --repeat %d: FAILED" % n)
        for label, status, names in failed:
            print(f"  {label}: {status}")
            for name, it in names:
                print(f"      {name} (iteration {it})")
        return 1
    if ran == 0:
        print("ci/unit --repeat: no test binary matched")
        return 1
    print("\nci/unit --repeat %d: every test binary passed (%d runs)" % (n, ran))
    return 0


if __name__ == "__main__":
    sys.exit(main())
