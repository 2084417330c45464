"""The scenario child's crash report: a backtrace even for a stack overflow
on a thread other than the main one (the handler runs on that thread's
alternate stack), and a faulting address only for faults the kernel raised
(a sent signal's si_addr overlays the sender's pid)."""
import pytest


@pytest.mark.parametrize("adapter", ["reference", "pthread"])
def test_a_foreign_threads_stack_overflow_has_a_backtrace(lab, validate, adapter):
    proc, doc = lab.run_json("run", "selftest-stack-overflow", "--adapter", adapter)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "crash", run["reason"]
    crash = run["evidence"]["crash"]
    assert crash["signal"].startswith("signal=11 ") and " addr=0x" in crash["signal"], crash
    assert any("overflow_stack" in f for f in crash["backtrace"]), crash["backtrace"]


def test_a_raised_signal_names_its_sender_not_an_address(lab, validate):
    proc, doc = lab.run_json("run", "selftest-abort")
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "crash", run["reason"]
    head = run["evidence"]["crash"]["signal"]
    assert head.startswith("signal=6 ") and "addr=" not in head and "sent_by_pid=" in head, head


def test_a_fault_names_the_faulting_address(lab, validate):
    proc, doc = lab.run_json("run", "selftest-crash")
    head = validate(doc)["runs"][0]["evidence"]["crash"]["signal"]
    assert head.startswith("signal=11 ") and head.endswith(" addr=0x0"), head
