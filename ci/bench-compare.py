#!/usr/bin/python3
"""ci/bench-compare.py GROUP=FILE.json... [--json OUT]

Turns Google Benchmark JSON outputs into comparison rows, following the
naming convention of bench/compare.h:
    peer:PEER            and    ours:NAME:vs:PEER
One row per "ours" benchmark, printed as
    compare NAME ours=X peer=PEER peer_value=Y ratio=X/Y
NAME's suffix gives the unit: _ns = real time per iteration in ns,
_per_s = items_per_second. With repetitions, the median aggregate is used.
Invariant: a row is only made from ours and peer of the same file (run).
Exit 1 if a file is unreadable or an "ours" names a peer that is missing.
"""
import json
import sys

NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def value(name, b):
    if name.endswith("_ns"):
        return b["real_time"] * NS[b.get("time_unit", "ns")]
    if name.endswith("_per_s"):
        return b["items_per_second"]
    raise ValueError(f"{name}: name must end in _ns or _per_s")


def rows_of(group, path):
    with open(path) as f:
        data = json.load(f)
    bench = {}
    for b in data["benchmarks"]:
        if b.get("error_occurred"):
            raise ValueError(f"{b['name']}: {b.get('error_message')}")
        key = b.get("run_name", b["name"])
        for suffix in ("/real_time", "/manual_time"):  # added by UseRealTime(), UseManualTime()
            if key.endswith(suffix):
                key = key[: -len(suffix)]
        # Prefer the median aggregate when repetitions were run.
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        if key in bench and bench[key].get("aggregate_name") == "median":
            continue
        bench[key] = b
    rows = []
    for key, b in bench.items():
        if not key.startswith("ours:"):
            continue
        _, name, _, peer = key.split(":", 3)
        pb = bench.get("peer:" + peer)
        if pb is None:
            raise ValueError(f"{key}: peer '{peer}' not measured in the same run")
        x, y = value(name, b), value(name, pb)
        rows.append({"group": group, "name": name, "ours": x, "peer": peer,
                     "peer_value": y, "ratio": x / y if y else None,
                     "context": {k: data["context"].get(k) for k in ("date", "num_cpus", "mhz_per_cpu", "library_build_type")}})
    return rows


def fmt(v):
    return "nan" if v is None else (f"{v:.4g}" if abs(v) < 1e5 else f"{v:.0f}")


def main(argv):
    out, inputs = None, []
    it = iter(argv)
    for a in it:
        if a == "--json":
            out = next(it, None)
            if out is None:
                print("bench-compare: --json needs a file", file=sys.stderr)
                return 2
        elif "=" in a:
            inputs.append(a.split("=", 1))
        else:
            print(f"bench-compare: bad argument '{a}' (want GROUP=FILE or --json F)", file=sys.stderr)
            return 2
    rows = []
    try:
        for group, path in inputs:
            rows += rows_of(group, path)
    except (OSError, ValueError, KeyError) as e:
        print(f"bench-compare: {e}", file=sys.stderr)
        return 1
    for r in rows:
        print(f"compare {r['name']} ours={fmt(r['ours'])} peer={r['peer']} "
              f"peer_value={fmt(r['peer_value'])} ratio={fmt(r['ratio'])}")
    if out:
        tmp = out + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"rows": rows}, f, indent=2)
        import os
        os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
