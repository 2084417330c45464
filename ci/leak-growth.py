#!/usr/bin/env python3
"""ci/leak-growth.py REPORT.json PREFIX... — zero growth of named counters.

Reads a `threadlab leaks` JSON report and, for every run and every counter
whose name starts with one of the PREFIXes (e.g. mach_port_ posix_timers
rt_thread_handles), checks that it did not grow after warm-up: the last
sample is at most the first sample after warm-up. The leak rule of the
harness tolerates a slope below its threshold; this check does not, which is
what "zero port-right growth over 1,000 lifecycles" asks of the macOS jobs.
Prints one line per counter checked. Exits 1 on growth, 2 when the report
is unreadable or names none of the counters (a check that passes vacuously).
"""
import json
import sys


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f"ci/leak-growth.py: {argv[1]}: {e}", file=sys.stderr)
        return 2
    prefixes = argv[2:]
    checked = grew = 0
    for run in doc.get("runs", []):
        warmup = run.get("params", {}).get("warmup", 0)
        for name, series in sorted(run.get("counters", {}).items()):
            if not any(name.startswith(p) for p in prefixes):
                continue
            values = series.get("values", [])
            if len(values) <= warmup:
                continue
            first, last = values[warmup], values[-1]
            checked += 1
            ok = last <= first
            grew += 0 if ok else 1
            print(f"{run.get('scenario')} {run.get('adapter')} {name}: {first:g} -> {last:g} over "
                  f"{len(values) - warmup} cycles after warm-up, slope {series.get('slope', 0):.4f}: "
                  f"{'no growth' if ok else 'GREW'}")
    if checked == 0:
        print(f"ci/leak-growth.py: no counter starting with {' '.join(prefixes)} in {argv[1]}", file=sys.stderr)
        return 2
    return 1 if grew else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
