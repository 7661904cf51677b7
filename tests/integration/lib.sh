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

finish() {
  if [ "$FAILURES" -gt 0 ]; then
    echo "$FAILURES check(s) failed" >&2
    exit 1
  fi
  echo "all checks passed"
}
