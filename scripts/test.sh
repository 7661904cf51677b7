#!/usr/bin/env bash
# Every test: installs what is missing, builds three ways and runs every suite once, ending with
# "N passed, N failed":
#   build/       release, -Werror: the unit suite and the tooling suite (lint, container image, monitoring
#                configs): what users run, and the checks on the tree itself;
#   build-san/   clang with ASan + UBSan + libFuzzer coverage on every object (-Dfuzz=true): the unit and
#                integration suites (the integration scripts start build/'s cbtrade-sim, test equipment)
#                and a short run of every fuzz target (suite 'fuzz'); any sanitizer report from any
#                process, even one a script only kills, fails the run (reports are collected as files);
#   build-tsan/  ThreadSanitizer (gcc): the threaded suites (rings, stage runner, pipeline).
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
  run_suites build --suite unit --suite tooling
else
  echo "release build failed" >&2
  status=1
fi
# One sanitized build for the unit, integration and fuzz suites: each compile is instrumented once for
# all three. Reports go to files under build-san/sanitizer-reports (a script that kills a daemon or
# ignores its exit status cannot hide one); any file there fails the run and is printed.
san_dir=build-san
reports=$CBTRADE_ROOT/$san_dir/sanitizer-reports
if CXX=clang++ cbtrade_build_main $san_dir -Dbuildtype=debugoptimized -Dfuzz=true -Dbench=false \
  -Dtest_sim="$CBTRADE_ROOT/build/cbtrade-sim"; then
  rm -rf "$reports" && mkdir -p "$reports"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$reports/asan:log_exe_name=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan:log_exe_name=1 \
    run_suites $san_dir --suite unit --suite integration --suite fuzz
  for f in "$reports"/*; do
    [ -f "$f" ] || continue
    echo "== sanitizer report $f"
    head -n 60 "$f"
  done
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

python3 "$CBTRADE_ROOT/scripts/test_summary.py" "$CBTRADE_ROOT/build" "$CBTRADE_ROOT/$san_dir" \
  "$CBTRADE_ROOT/$tsan_dir" || status=1
exit $status
