#!/usr/bin/env bash
# Every test: installs what is missing, builds (release, then ASan+UBSan), runs all suites in the
# release build and the unit suite under the sanitizers, and ends with "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/setup.sh"
cbtrade_install "${CBTRADE_BUILD_PACKAGES[@]}" "${CBTRADE_TEST_PACKAGES[@]}" || exit 1

status=0
wolfssl_arg=$(cbtrade_wolfssl_args)
run_suites() {  # DIR [meson test args...]
  local dir=$1
  shift
  echo "== meson test -C $dir $*"
  meson test -C "$CBTRADE_ROOT/$dir" --print-errorlogs --num-processes 2 "$@" || status=1
}

if cbtrade_build build "$wolfssl_arg"; then
  run_suites build
else
  echo "release build failed" >&2
  status=1
fi
if cbtrade_build build-asan "$wolfssl_arg" -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
  -Dbench=false; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suites build-asan --suite unit
else
  echo "sanitizer build failed" >&2
  status=1
fi

python3 "$CBTRADE_ROOT/scripts/test_summary.py" "$CBTRADE_ROOT/build" "$CBTRADE_ROOT/build-asan" || status=1
exit $status
