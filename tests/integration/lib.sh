# Shared by the integration scripts: a scratch directory removed on exit, and checks that print
# what failed. Scripts run with CBTRADE, CBTRADE_GEN, SOURCE_ROOT and BUILD_ROOT set by meson.
set -uo pipefail
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
FAILURES=0

fail() {
  echo "FAIL: $*" >&2
  FAILURES=$((FAILURES + 1))
}

# expect_exit CODE DESCRIPTION -- command...: runs the command, stdout/stderr to $SCRATCH/out, err
expect_exit() {
  local want=$1 what=$2
  shift 3
  "$@" >"$SCRATCH/out" 2>"$SCRATCH/err"
  local got=$?
  [ "$got" = "$want" ] || fail "$what: exit $got, want $want; stderr: $(head -c 600 "$SCRATCH/err")"
}

expect_grep() {  # FILE PATTERN DESCRIPTION
  grep -qE -- "$2" "$1" || fail "$3: '$2' not found in $(basename "$1"): $(head -c 600 "$1")"
}

# Processes to kill when the script exits (add with PIDS+=("$pid")); replaces the scratch-only trap.
PIDS=()
kill_pids_on_exit() {
  cleanup_pids() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$SCRATCH"
  }
  trap cleanup_pids EXIT
}

# skip_without_io_uring CBTRADE: exit 77 (meson's skip), saying why, where io_uring is forbidden
# (container seccomp, kernel.io_uring_disabled).
skip_without_io_uring() {
  local out
  out=$(COINBASE_WS_URL=wss://127.0.0.1:1 "$1" feed --duration-sec 0.2 2>&1)
  if grep -q "io_uring unavailable" <<<"$out"; then
    echo "SKIP: $(grep -m1 'io_uring unavailable' <<<"$out")"
    exit 77
  fi
}

finish() {
  if [ "$FAILURES" -gt 0 ]; then
    echo "$FAILURES check(s) failed" >&2
    exit 1
  fi
  echo "all checks passed"
}
