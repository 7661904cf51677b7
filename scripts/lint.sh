#!/usr/bin/env bash
# The tree against its checked-in tools: .clang-format (every tracked C++ file) and .clang-tidy (the
# files of a build's compile_commands.json). Exit 0 clean, 1 findings (printed), 2 usage or setup error.
#
#   scripts/lint.sh                   both, clang-tidy on every file (about 35 CPU-minutes)
#   scripts/lint.sh --format          the format check only (the `lint_format` test runs this)
#   scripts/lint.sh --tidy [PATH...]  clang-tidy only, on the files under these folders or these files
#                                     (the `lint_tidy` test runs it on the library folders)
#   scripts/lint.sh --fix-format      rewrites the files clang-format would change
# BUILD_DIR (default: $BUILD_ROOT in a meson test, else build/) supplies compile_commands.json; LINT_JOBS the
# number of clang-tidy processes (default: the number of CPUs); LINT_TIDY_CHECKS globs added to
# .clang-tidy's Checks (the `lint_tidy` test in .ci/run sets '-clang-analyzer-*': the path-sensitive
# analyzer is about 95% of clang-tidy's time here, so CI checks every other rule on every run and the
# analyzer runs with scripts/lint.sh by hand).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-${BUILD_ROOT:-$root/build}}  # BUILD_ROOT: set by meson for the lint tests
jobs=${LINT_JOBS:-$(nproc)}

mode=all
paths=()
case "${1:-}" in
  '') ;;
  --format) mode=format ;;
  --fix-format) mode=fix ;;
  --tidy)
    mode=tidy
    paths=("${@:2}")
    ;;
  *)
    sed -n '2,11s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac

# Tracked C++ sources; outside a git checkout (an unpacked tarball), every one under the folders.
cxx_files() {
  if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$root" ls-files -z -- '*.cpp' '*.hpp' '*.h' '*.cc'
  else
    (cd "$root" && find . -path './build*' -prune -o -path './.deps' -prune -o \
      \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.cc' \) -type f -print0)
  fi
}

need() {
  command -v "$1" >/dev/null || {
    echo "lint.sh: $1 not found (apt-get install $2)" >&2
    exit 2
  }
}

status=0
if [ $mode = fix ]; then
  need clang-format clang-format
  (cd "$root" && cxx_files | xargs -0 clang-format -i)
  exit 0
fi

if [ $mode = all ] || [ $mode = format ]; then
  need clang-format clang-format
  echo "== clang-format $(clang-format --version | grep -oE '[0-9]+\.[0-9.]+' | head -n 1): $(cd "$root" && cxx_files | tr -cd '\0' | wc -c) files"
  if ! (cd "$root" && cxx_files | xargs -0 clang-format --dry-run -Werror); then
    echo "lint.sh: files above differ from .clang-format (scripts/lint.sh --fix-format rewrites them)" >&2
    status=1
  fi
fi

if [ $mode = all ] || [ $mode = tidy ]; then
  need clang-tidy clang-tidy
  need run-clang-tidy clang-tidy
  if [ ! -f "$build/compile_commands.json" ]; then
    echo "lint.sh: no $build/compile_commands.json (build first: scripts/run.sh, or set BUILD_DIR)" >&2
    exit 2
  fi
  # run-clang-tidy takes one regular expression over the database's absolute file names.
  regex=
  for p in "${paths[@]}"; do
    p=${p#./}
    p=${p%/}
    [ -e "$root/$p" ] || {
      echo "lint.sh: no $p in the source tree" >&2
      exit 2
    }
    if [ -d "$root/$p" ]; then p="$p/"; else p="$p\$"; fi
    regex+="${regex:+|}$(printf '%s' "$root/$p" | sed 's/[.[*+?(){}|^]/\\&/g')"
  done
  [ -z "$regex" ] || regex="^($regex)"
  files=$(python3 -c 'import json, os, re, sys
names = {os.path.normpath(os.path.join(e["directory"], e["file"])) for e in json.load(open(sys.argv[1]))}
print(sum(1 for n in names if re.search(sys.argv[2], n)))' \
    "$build/compile_commands.json" "${regex:-.}")
  echo "== clang-tidy $(clang-tidy --version | grep -oE '[0-9]+\.[0-9.]+' | head -n 1): $files files of $build/compile_commands.json${paths[*]:+ under ${paths[*]}} (-j $jobs)${LINT_TIDY_CHECKS:+, checks also $LINT_TIDY_CHECKS}"
  # -quiet drops the per-file "N warnings generated"; a finding is an error (WarningsAsErrors in
  # .clang-tidy), so run-clang-tidy exits non-zero on any. Its colours (always on) are taken out.
  # -Werror: .ci/run builds with -Werror, under which clang's own warnings (clang-diagnostic-*, e.g. an
  # unused private field, which g++ does not report) are errors clang-tidy always prints; without it they
  # stay hidden, so a tree clean here would fail in CI.
  if ! run-clang-tidy -quiet -p "$build" -j "$jobs" -extra-arg=-fno-diagnostics-color -extra-arg=-Werror \
    ${LINT_TIDY_CHECKS:+-checks="$LINT_TIDY_CHECKS"} ${regex:+"$regex"} 2>&1 |
    sed 's/\x1b\[[0-9;]*m//g' >"$build/clang-tidy.log"; then
    grep -E '(warning|error): ' "$build/clang-tidy.log" | sort -u
    echo "lint.sh: clang-tidy findings above (whole log: $build/clang-tidy.log)" >&2
    status=1
  fi
fi
exit $status
