"""Per-thread kernel handles (issue 11, item 7): `threadlab leaks` over whole
thread lifecycles (returned, killed and adopted threads) finds no growth of
POSIX timers or of the runtime's handle ledger, and with
per_thread_handle_leak injected reports a `leak` with its slope, naming the
new timers."""
import os

import pytest

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/timers"),
                                reason="the kernel has no /proc/PID/timers: the timer probe is absent")

ADAPTERS = ["reference", "reference-hybrid"]
WARMUP = 5


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_thread_lifecycles_leave_no_handle_behind(lab, validate, adapter):
    proc, doc = lab.run_json("leaks", "thread-handle-cycles", "--adapter", adapter, "--cycles", "40",
                             "--warmup", str(WARMUP), "--seed", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "pass", run["reason"]
    for name in ("posix_timers", "rt_thread_handles"):
        series = run["counters"][name]
        values = series["values"]
        assert series["judged"] and len(values) == 40, (name, series)
        assert series["slope"] == 0 and max(values[WARMUP:]) == values[WARMUP], (name, values)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_injected_handle_leak_is_reported_with_its_slope(lab, validate, adapter):
    proc, doc = lab.run_json("leaks", "thread-handle-cycles", "--adapter", adapter, "--cycles", "20",
                             "--warmup", "2", "--seed", "1", inject="per_thread_handle_leak")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run = validate(doc)["runs"][0]
    assert run["verdict"] == "leak", run["reason"]
    leaks = run["evidence"]["leaks"]
    assert leaks[0]["counter"] == "posix_timers", leaks  # the most specific evidence first
    # 8 lifecycles a cycle (2 returned, 2 killed, 4 adopted threads at the
    # default --threads 4), each leaving its timer behind.
    assert leaks[0]["slope"] == pytest.approx(8, abs=0.01)
    assert leaks[0]["new"] and all("notify:" in n for n in leaks[0]["new"]), leaks[0]["new"]
    ledger = next(l for l in leaks if l["counter"] == "rt_thread_handles")
    assert ledger["slope"] == pytest.approx(8, abs=0.01)
