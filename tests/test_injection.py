"""Issue 4's injected defects: each is caught by a scenario with the bug
catalogue's verdict, under both suspension policies where the defect lives
in the stop-the-world path, and the suspend-tagged scenarios pass without
injection. Runs are kept short (few cycles, short timeouts)."""
import pytest

ADAPTERS = ["reference", "reference-hybrid"]

# (defect, scenario, expected verdict, extra run flags)
CASES = [
    ("resume_without_generation", "stop-the-world-storm", "deadlock", ["--cycles", "2"]),
    ("suspend_ignores_exiting", "stop-the-world-storm", "deadlock", ["--cycles", "2"]),
    ("free_record_while_suspended", "stop-the-world-storm", "deadlock", ["--cycles", "2"]),
    ("drop_every_nth_signal", "stop-the-world-storm", "deadlock", ["--cycles", "2"]),
    ("suspend_during_no_interrupt", "gc-callback-storm", "deadlock", ["--cycles", "2"]),
    ("suspend_during_no_interrupt", "stop-the-world-storm", "invariant", ["--cycles", "2"]),
    ("gc_skips_saved_registers", "gc-callback-storm", "invariant", ["--cycles", "2"]),
    ("interrupt_during_exit", "interrupt-storm", "crash", ["--cycles", "2"]),
    ("kill_keeps_locks", "kill-each-state", "deadlock", ["--cycles", "1"]),
    ("deferred_gc_dropped", "without-gc-deferral", "invariant", ["--cycles", "1"]),
]

# Defects that now and then end in a crash inside the defective runtime code
# before the hang they usually cause; the crash must be in that code:
# - suspend_ignores_exiting signals a thread that exited; once it was joined,
#   pthread_kill reads its released thread slot.
# - suspend_during_no_interrupt stops a thread mid-allocation; the collector
#   then takes its allocation buffer away and tl_gc_alloc reads NULL.
# (defect, scenario) pairs that catch the defect under one policy only.
PREEMPTIVE_ONLY = {
    ("suspend_during_no_interrupt", "gc-callback-storm"): "the defect is a signal that stops a thread inside its "
    "no-interrupt window; under the hybrid policy managed threads stop at safepoints and are signalled only after "
    "the grace period, and an allocation's window ends long before that (stop-the-world-storm's window members "
    "hold theirs past the grace period and catch it under both policies)",
}

SOMETIMES_CRASH = {
    "suspend_ignores_exiting": ("pthread_kill", "request_stop", "suspend_others"),
    "suspend_during_no_interrupt": ("tl_gc_alloc", "allocate"),
}


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("defect,scenario,verdict,flags", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_injected_defect_is_caught(lab, validate, adapter, defect, scenario, verdict, flags):
    if (defect, scenario) in PREEMPTIVE_ONLY and adapter != "reference":
        pytest.skip(PREEMPTIVE_ONLY[(defect, scenario)])
    proc, doc = lab.run_json("run", scenario, "--adapter", adapter, "--timeout", "3", "--seed", "4", *flags,
                             inject=defect)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run = validate(doc)["runs"][0]
    if run["verdict"] == "crash" and defect in SOMETIMES_CRASH:
        frames = run["evidence"]["crash"]["backtrace"]
        assert any(name in f for f in frames for name in SOMETIMES_CRASH[defect]), run["evidence"]
        return
    assert run["verdict"] == verdict, run["reason"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_stop_timeout_names_the_thread_that_never_answered(lab, validate, adapter):
    proc, doc = lab.run_json("run", "stop-the-world-storm", "--adapter", adapter, "--timeout", "3", "--cycles", "2",
                             inject="suspend_ignores_exiting")
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "deadlock"
    assert "never answered" in run["reason"] and "thread " in run["reason"], run["reason"]
    assert any(f["verdict"] == "deadlock" for f in run["evidence"]["findings"])


def test_a_wedged_allocator_is_still_reported(lab, validate):
    # The stopper frees a dead record while a stopped thread holds malloc's
    # lock: the child's own dump (which allocates) never comes, and the
    # runner reports the threads as the kernel saw them from outside.
    proc, doc = lab.run_json("run", "stop-the-world-storm", "--timeout", "3", "--cycles", "2",
                             inject="free_record_while_suspended")
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "deadlock", run["reason"]
    dump = run["evidence"]["dump"]
    assert len(dump["threads"]) > 1, dump
    assert "seen from outside" in run["reason"], run["reason"]
    assert "dump never came" in dump["note"], dump["note"]
    assert all(t["answered"] is False and t["kernel_state"] for t in dump["threads"]), dump["threads"]
    assert any(t["waiting_on"].startswith("futex") for t in dump["threads"]), dump["threads"]


def test_kept_lock_names_the_wait_in_the_dump(lab, validate):
    proc, doc = lab.run_json("run", "kill-each-state", "--timeout", "3", "--cycles", "1", inject="kill_keeps_locks")
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "deadlock"
    assert "waits for lock 'victim-" in run["reason"], run["reason"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_suspend_tag_passes_without_injection(lab, validate, adapter):
    proc, doc = lab.run_json("run", "--tag", "suspend", "--adapter", adapter, "--seed", "11")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = validate(doc)["runs"]
    assert {r["scenario"] for r in runs} >= {"stop-the-world-storm", "gc-callback-storm"}
    assert all(r["verdict"] == "pass" for r in runs), [(r["scenario"], r["reason"]) for r in runs]
