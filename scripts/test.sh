#!/usr/bin/env bash
# Every test: installs what is missing, builds (release, then ASan+UBSan, then ThreadSanitizer for
# the threaded suites only), runs all suites in the release build, the unit suite under ASan+UBSan
# and the threaded suites (rings, stage runner, pipeline) under TSan, and ends with
# "N passed, N failed". The release build is made with -Werror, and its integration suite includes the
# lint tests (.clang-format, .clang-tidy) and the container image test.
set -uo pipefail
source "$(dirname "$0")/setup.sh"
cbtrade_install "${CBTRADE_BUILD_PACKAGES[@]}" "${CBTRADE_TEST_PACKAGES[@]}" || exit 1

status=0
run_suites() {  # DIR [meson test args...]
  local dir=$1
  shift
  echo "== meson test -C $dir $*"
  meson test -C "$CBTRADE_ROOT/$dir" --print-errorlogs --num-processes 2 "$@" || status=1
}

# The release build must stay warning-free (warning_level=3: -Wall -Wextra -Wpedantic, and -Wshadow), so
# here it is built with -Werror; a build/ made earlier by run.sh is switched over (only this flag changes).
if [ -f "$CBTRADE_ROOT/build/build.ninja" ]; then meson configure "$CBTRADE_ROOT/build" -Dwerror=true >/dev/null; fi
if cbtrade_build_main build -Dwerror=true; then
  run_suites build
else
  echo "release build failed" >&2
  status=1
fi
if cbtrade_build_main build-asan -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
  -Dbench=false; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suites build-asan --suite unit
else
  echo "sanitizer build failed" >&2
  status=1
fi

# ThreadSanitizer: only the suites that run threads (meson suite 'threaded', ninja target
# 'threaded-tests'); building the rest under TSan would double CI time for nothing it can find.
tsan_dir=build-tsan
if [ ! -f "$CBTRADE_ROOT/$tsan_dir/build.ninja" ]; then
  meson setup "$CBTRADE_ROOT/$tsan_dir" "$CBTRADE_ROOT" "$(cbtrade_wolfssl_args)" -Dbuildtype=debugoptimized -Db_sanitize=thread \
    -Dbench=false >"$CBTRADE_ROOT/$tsan_dir.setup.log" 2>&1 || cat "$CBTRADE_ROOT/$tsan_dir.setup.log" >&2
fi
if ninja -C "$CBTRADE_ROOT/$tsan_dir" threaded-tests >"$CBTRADE_ROOT/$tsan_dir.ninja.log" 2>&1; then
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 run_suites $tsan_dir --no-rebuild --suite threaded
else
  tail -n 60 "$CBTRADE_ROOT/$tsan_dir.ninja.log" >&2
  echo "thread-sanitizer build failed" >&2
  status=1
fi

python3 "$CBTRADE_ROOT/scripts/test_summary.py" "$CBTRADE_ROOT/build" "$CBTRADE_ROOT/build-asan" \
  "$CBTRADE_ROOT/$tsan_dir" || status=1
exit $status
