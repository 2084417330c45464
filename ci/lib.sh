# ci/lib.sh — shared helpers for the ci/ scripts (sourced, not run).
# Invariant: every script prints what it checks and exits non-zero on failure.
TL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TL_ROOT

tl_log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

# tl_build PRESET — configure if needed, then build (incremental).
tl_build() {
  local preset=$1
  if [ ! -f "$TL_ROOT/build/$preset/build.ninja" ]; then
    (cd "$TL_ROOT" && cmake --preset "$preset" >/dev/null) || return 1
  fi
  (cd "$TL_ROOT" && cmake --build --preset "$preset" -- -j"$(nproc)")
}
