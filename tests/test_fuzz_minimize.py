"""threadlab minimize (issue 14 item 8): a failing op program reduced at the
op level, each candidate rerun, the verdict kept; a program that does not
fail is refused (exit 2) with nothing written."""
import os
import subprocess

FAILING = """t1 = spawn
t2 = spawn
f1 = foreign
callback f1
yield
alloc 8 (on: t1)
lock l1 (on: t1)
send m1 5
receive m1
without_gc {
  collect
  yield
}
kill t1
lock l1
unlock l1
safepoint
"""


def run(lab, *args, env=None, timeout=300):
    return subprocess.run([lab.bin, *args], capture_output=True, text=True, env=env or lab.env, timeout=timeout)


def test_a_lock_kept_by_a_killed_thread_minimizes_to_the_four_ops_that_hang(lab):
    # kill_keeps_locks: a kill does not release the victim's locks, so the
    # next taker waits for good. The minimal program keeps exactly that.
    src = lab.tmp / "hang.txt"
    src.write_text(FAILING)
    out = lab.tmp / "hang.min.txt"
    env = dict(lab.env, THREADLAB_INJECT="kill_keeps_locks")
    r = run(lab, "minimize", str(src), "--tries", "1", "--timeout", "2", "-o", str(out), env=env)
    assert r.returncode == 0, r.stderr
    ops = [l for l in out.read_text().splitlines() if l and not l.startswith("#")]
    assert ops == ["t1 = spawn", "lock l1 (on: t1)", "kill t1", "lock l1"], out.read_text()
    assert "verdict 'timeout' kept" in r.stdout
    # The minimal program still fails the same way on its own.
    again = run(lab, "replay", str(out), "--timeout", "2", env=env)
    assert again.returncode == 1 and "timeout" in again.stdout, again.stdout + again.stderr


def test_a_program_that_passes_is_not_minimized(lab):
    src = lab.tmp / "fine.txt"
    src.write_text("t1 = spawn\nyield\njoin t1\n")
    out = lab.tmp / "fine.min.txt"
    r = run(lab, "minimize", str(src), "--tries", "2", "-o", str(out))
    assert r.returncode == 2
    assert "passed all 2 runs: nothing to minimize" in r.stderr
    assert not out.exists()


def test_a_malformed_program_names_line_and_column(lab):
    src = lab.tmp / "bad.txt"
    src.write_text("t1 = spawn\nkill t9\n")
    r = run(lab, "minimize", str(src))
    assert r.returncode == 2
    assert "bad.txt:2:" in r.stderr, r.stderr
