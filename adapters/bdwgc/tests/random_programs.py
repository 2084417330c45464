#!/usr/bin/env python3
"""random_programs.py — random op programs over what the bdwgc adapter offers.

The scenarios mostly need capabilities bdwgc lacks (regions, value stack,
locks, ...); the fuzz interpreter runs any op program on whatever an adapter
offers, so these programs drive bdwgc through spawn/join, foreign threads
calling back, alloc, collect (from any thread, and by the thread holding the
world stopped), suspend_all/resume_all (nested), without_gc scopes and fork
with a child that spawns, allocates and collects.

    random_programs.py OUT_DIR FIRST_SEED COUNT [--big]
    threadlab replay --adapter bdwgc --repeat 3 OUT_DIR/*.txt

--big starts 8 spawned and 12 foreign threads (16 of each at most) instead
of 3 and 4. Programs stay within the format's limits (256 ops, 16 threads
of each kind). A seed always gives the same program.
"""
import random
import sys
from pathlib import Path


def program(seed, nt, nf, nops):
    r = random.Random(seed)
    out, ts, fs, n = [], [], [], [0, 0]

    def new_t():
        n[0] += 1
        ts.append(n[0])
        out.append(f"t{n[0]} = spawn")

    def new_f():
        n[1] += 1
        fs.append(n[1])
        out.append(f"f{n[1]} = foreign")

    for _ in range(nt):
        new_t()
    for _ in range(nf):
        new_f()
    stops = 0
    for _ in range(nops):
        who = r.choice(["main"] + [f"t{t}" for t in ts] + [f"f{f}" for f in fs])
        props = []
        if who != "main":
            props.append(f"on: {who}")
            if r.random() < 0.6:
                props.append("async")
        if r.random() < 0.1:
            props.append(f"delay: {r.choice([10, 50, 200])}us")
        p = f" ({', '.join(props)})" if props else ""
        timing = [x for x in props if not x.startswith("on")]
        if stops:  # the driver holds the world stopped: only stop-safe ops
            c = r.random()
            if c < 0.5:
                out.append("resume_all")
                stops -= 1
            elif c < 0.7:
                out.append("collect")
            elif c < 0.8:
                out.append("suspend_all")
                stops += 1
            else:
                out.append("yield")
            continue
        k = r.random()
        if k < 0.25:
            out.append(f"alloc {r.randint(1, 8)}{p}")
        elif k < 0.40 and fs:
            out.append(f"callback f{r.choice(fs)}" + (f" ({', '.join(timing)})" if timing else ""))
        elif k < 0.52:
            out.append(f"collect{p}")
        elif k < 0.60:
            out.append("suspend_all")
            stops += 1
        elif k < 0.66 and n[0] < 16:
            new_t()
        elif k < 0.71 and n[1] < 16:
            new_f()
        elif k < 0.76:
            out += ["without_gc {", f"  alloc {r.randint(1, 4)}", "  collect", "}"]
        elif k < 0.79 and n[0] < 15:
            n[0] += 1
            c = n[0]
            out += ["fork {", f"  t{c} = spawn", f"  alloc 2 (on: t{c})", "  collect", f"  join t{c}", "}"]
        elif k < 0.84 and fs:
            f = r.choice(fs)
            fs.remove(f)
            out.append(f"exit f{f}")
        elif k < 0.89 and ts:
            t = r.choice(ts)
            ts.remove(t)
            out += [f"exit t{t}", f"join t{t}"]
        else:
            out.append(f"yield{p}")
    out += ["resume_all"] * stops
    out += [f"exit f{f}" for f in fs]
    for t in ts:
        out += [f"exit t{t}", f"join t{t}"]
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    out_dir, first, count = Path(argv[1]), int(argv[2]), int(argv[3])
    big = "--big" in argv[4:]
    out_dir.mkdir(parents=True, exist_ok=True)
    for seed in range(first, first + count):
        text = program(seed, 8, 12, 100) if big else program(seed, 3, 4, 120)
        (out_dir / f"{'b' if big else 'p'}{seed:04d}.txt").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
