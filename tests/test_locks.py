"""Issue 12: runtime locks and mailboxes end to end. Deadlocks observed (the
wait-for cycle in the dump, also for a plain C program's pthread mutexes
under `exec`) and predicted (a lock-order inversion that never hung);
exact accounting in the lock and mailbox scenarios, under both suspension
policies and the pthread baseline."""
import pytest

ADAPTERS = ["reference", "reference-hybrid"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_hanging_inversion_is_deadlock_with_the_cycle(lab, validate, adapter):
    proc, doc = lab.run_json("run", "selftest-lock-cycle", "--adapter", adapter, "--timeout", "3")
    assert proc.returncode == 1
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "deadlock", run["reason"]
    cycle = run["evidence"]["dump"]["cycle"]
    assert sorted(e["lock"] for e in cycle) == ["lock-A", "lock-B"], cycle
    assert {e["waiter"] for e in cycle} == {e["owner"] for e in cycle}
    assert "wait-for cycle" in run["reason"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_inversion_that_never_hung_is_predicted(lab, validate, adapter):
    proc, doc = lab.run_json("run", "selftest-lock-order", "--adapter", adapter)
    assert proc.returncode == 1
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "deadlock", run["reason"]
    assert run["reason"].startswith("predicted deadlock"), run["reason"]
    assert "dump" not in run["evidence"]  # nothing hung
    (pred,) = run["evidence"]["predicted_cycles"]
    assert sorted(pred["locks"]) == ["order-A", "order-B"]
    assert len(set(pred["threads"])) == 2, pred


def test_the_pthread_baseline_predicts_nothing_and_passes(lab, validate):
    proc, doc = lab.run_json("run", "selftest-lock-order", "--adapter", "pthread")
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "pass" and "predicted_cycles" not in run["evidence"], run["reason"]


def test_exec_names_a_pthread_mutex_cycle(lab, validate, c_program):
    proc, doc = lab.run_json("exec", "--timeout", "2", "--", c_program("mutex_abba"))
    assert proc.returncode == 1
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "deadlock", run["reason"]
    cycle = run["evidence"]["dump"]["cycle"]
    assert cycle and len(cycle) == 2, run["evidence"]["dump"]
    assert all(e["lock"].startswith("pthread_mutex@0x") for e in cycle)
    assert {e["waiter"] for e in cycle} == {e["owner"] for e in cycle}
    assert run["reason"].startswith("wait-for cycle"), run["reason"]


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("threads", [64])
def test_lock_contention_accounts_for_every_acquisition(lab, validate, adapter, threads):
    proc, doc = lab.run_json("run", "lock-contention", "--adapter", adapter, "--threads", str(threads),
                             "--iterations", "50", "--cycles", "2")
    run = validate(doc)["runs"][0]
    assert proc.returncode == 0 and run["verdict"] == "pass", run["reason"]
    assert run["evidence"]["tallies"]["lock_acquisitions"] == threads * 50 * 2


@pytest.mark.parametrize("adapter", ADAPTERS + ["pthread"])
def test_mailbox_traffic_delivers_every_message_once(lab, validate, adapter):
    proc, doc = lab.run_json("run", "mailbox-traffic", "--adapter", adapter, "--threads", "8", "--iterations", "200",
                             "--cycles", "2")
    run = validate(doc)["runs"][0]
    assert proc.returncode == 0 and run["verdict"] == "pass", run["reason"]
    t = run["evidence"]["tallies"]
    assert t["pingpong_sent"] == t["pingpong_received"] == 2 * 2 * 200 * 2  # 2 pairs, both ways, 2 cycles
    assert t["many_to_many_sent"] == t["many_to_many_received"] == 4 * 200 * 2  # 4 senders


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("scenario", ["lock-handoff-order", "kill-lock-owner"])
def test_handoff_and_kills_pass(lab, validate, adapter, scenario):
    proc, doc = lab.run_json("run", scenario, "--adapter", adapter, "--cycles", "2")
    run = validate(doc)["runs"][0]
    assert proc.returncode == 0 and run["verdict"] == "pass", run["reason"]


def test_handoff_needs_its_capability(lab, validate):
    proc, doc = lab.run_json("run", "lock-handoff-order", "--adapter", "pthread")
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "skip" and "lock_handoff" in run["reason"], run["reason"]
