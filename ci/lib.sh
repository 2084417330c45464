# ci/lib.sh — shared helpers for the ci/ scripts (sourced, not run).
# Invariant: every script prints what it checks and exits non-zero on failure.
TL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TL_ROOT

# tl_log MSG — "[script +Ns] MSG" on stderr, N = seconds since the script
# started, so a CI log shows where each gate's time goes (build vs tests).
tl_log() { printf '[%s +%ds] %s\n' "$(basename "$0")" "$SECONDS" "$*" >&2; }

# tl_nproc — online CPUs (Linux nproc; sysctl on the macOS CI runners).
tl_nproc() { nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2; }

# tl_build PRESET — configure if needed, then build (incremental).
tl_build() {
  local preset=$1
  if [ ! -f "$TL_ROOT/build/$preset/build.ninja" ]; then
    (cd "$TL_ROOT" && cmake --preset "$preset" >/dev/null) || return 1
  fi
  (cd "$TL_ROOT" && cmake --build --preset "$preset" -- -j"$(tl_nproc)")
}

# tl_scenario_count THREADLAB_EXE — how many scenarios `threadlab list` shows
# (0 when the harness has none yet or cannot list them).
tl_scenario_count() {
  "$1" list --json 2>/dev/null | /usr/bin/python3 -c \
    'import json,sys
try: print(len(json.load(sys.stdin).get("scenarios", [])))
except Exception: print(0)' 2>/dev/null || echo 0
}
