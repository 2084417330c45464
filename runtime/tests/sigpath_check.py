#!/usr/bin/env python3
"""sigpath_check.py — the runtime's signal-path files reference no allocator
and no mutex (issue 10: signal-path code marked and checked).

Usage: sigpath_check.py NM SRC_DIR OBJECT...

A source file under SRC_DIR whose leading comment carries the line
"// SIGNAL PATH:" holds only code that may run in a signal handler. For
each such file the matching object file among OBJECT... must have no
undefined reference to malloc/calloc/realloc/free, operator new/delete,
C++ exception allocation, guarded statics, pthread mutex, rwlock and
condition-variable waits, or semaphores (ThreadSanitizer intercepts them,
and an intercepted call inside a signal it delivered late can leave the
thread with every signal blocked: docs/architecture.md, "Nothing
intercepted in the suspend handler"; the suspend handler's ack was
sem_post). Exits 1 naming every file and symbol found, 2
when a marked file has no object (the check would otherwise pass vacuously).
"""
import os
import re
import subprocess
import sys

FORBIDDEN = re.compile(
    r"^_?(malloc|calloc|realloc|free|posix_memalign|aligned_alloc|"
    r"operator new|operator delete|__cxa_allocate_exception|__cxa_guard_acquire|"
    r"pthread_mutex_lock|pthread_mutex_trylock|pthread_mutex_timedlock|"
    r"pthread_rwlock_\w*lock|pthread_cond_\w*wait|pthread_once|"
    r"sem_post|sem_wait|sem_trywait|sem_timedwait|sem_clockwait)\b")


def marked_sources(src_dir):
    for root, _, files in os.walk(src_dir):
        for f in files:
            if not f.endswith(".cpp"):
                continue
            path = os.path.join(root, f)
            with open(path, encoding="utf-8") as fh:
                head = []
                for line in fh:
                    if not line.startswith("//"):
                        break
                    head.append(line)
            if any(l.startswith("// SIGNAL PATH:") for l in head):
                yield os.path.relpath(path, src_dir)


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    nm, src_dir, objects = sys.argv[1], sys.argv[2], sys.argv[3:]
    bad, missing, checked = [], [], 0
    for rel in sorted(marked_sources(src_dir)):
        suffix = "/" + rel + ".o"
        objs = [o for o in objects if o.replace(os.sep, "/").endswith(suffix)]
        if not objs:
            if rel.endswith("_darwin.cpp") or rel.endswith("_linux.cpp") and sys.platform == "darwin":
                continue  # not built on this platform
            missing.append(rel)
            continue
        out = subprocess.run([nm, "-u", "-C", objs[0]], check=True, capture_output=True, text=True).stdout
        checked += 1
        for line in out.splitlines():
            sym = line.split(None, 1)[-1].strip() if line.strip() else ""
            if sym.startswith("U "):
                sym = sym[2:]
            if FORBIDDEN.match(sym):
                bad.append(f"{rel}: {sym}")
    for m in missing:
        print(f"sigpath_check: {m} is marked SIGNAL PATH but no object file was given for it", file=sys.stderr)
    for b in bad:
        print(f"sigpath_check: signal-path file references {b}", file=sys.stderr)
    if missing:
        return 2
    if bad:
        return 1
    print(f"sigpath_check: {checked} signal-path object files reference no allocator or lock")
    return 0


if __name__ == "__main__":
    sys.exit(main())
