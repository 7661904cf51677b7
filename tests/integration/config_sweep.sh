#!/usr/bin/env bash
# Issue 13 item 7: every bad configuration case of tests/data/config/bad_values.tsv through `cbtrade live`
# (and the `config` stage ones through `cbtrade config` too). Each must exit 2 with exactly one line of
# output, "cbtrade: config error: ..." naming the case's key and holding its expected text, never echo
# a value marked S3CR3T, and leave no journal: JOURNAL_DIR (a scratch path, unless the case sets it)
# must not exist afterwards. Nothing can trade: the feed and REST URLs point at a closed local port and
# nothing may be printed but the error, so the daemon never got as far as its start-up lines.
source "$(dirname "$0")/lib.sh"
cd "$SCRATCH"
data="$SOURCE_ROOT/tests/data/config"
table="$data/bad_values.tsv"
[ -f "$table" ] || { echo "FAIL: $table missing" >&2; exit 1; }

# \t \n \r \\ \xHH as the table writes them; @DIR@ and @DATA@.
decode() {
  local v=${1//@DIR@/$2}
  v=${v//@DATA@/$data}
  printf '%b' "$v"
}

cases=0
while IFS= read -r line; do
  [[ -z "$line" || "$line" == \#* ]] && continue
  IFS=$'\t' read -r -a f <<<"$line"
  kind=${f[0]} key=${f[1]} stage=${f[2]} expect=${f[3]}
  cases=$((cases + 1))
  dir="$SCRATCH/case$cases"
  mkdir -p "$dir"
  assigns=()
  journal="$dir/journal"
  for a in "${f[@]:4}"; do
    v=$(decode "$a" "$dir")
    assigns+=("$v")
    [[ "$v" == JOURNAL_DIR=* ]] && journal=${v#JOURNAL_DIR=}
  done
  what="case $cases ($kind $key: ${f[*]:4})"
  what=${what:0:200}
  # A clean environment: the defaults below, then the case's settings (later wins in env).
  run_case() {
    env -i PATH="$PATH" HOME="$dir" COINBASE_WS_URL=ws://127.0.0.1:1 COINBASE_API_BASE=http://127.0.0.1:1 \
      JOURNAL_DIR="$dir/journal" PORT=1 "${assigns[@]}" timeout 20 "$CBTRADE" "$@" >"$dir/out" 2>&1
  }
  # A JOURNAL_DIR that exists already (a case naming a file) must be left as it was.
  before=$( [ -e "$journal" ] && md5sum <"$journal" 2>/dev/null)
  (cd "$dir" && run_case live --duration 1)
  rc=$?
  [ "$rc" = 2 ] || fail "$what: cbtrade live exited $rc, want 2: $(head -c 400 "$dir/out")"
  lines=$(wc -l <"$dir/out")
  [ "$lines" = 1 ] || fail "$what: $lines lines of output, want one: $(head -c 600 "$dir/out")"
  msg=$(head -n 1 "$dir/out")
  [[ "$msg" == "cbtrade: config error: "* ]] || fail "$what: not a config error line: ${msg:0:300}"
  grep -qF -- "$key" "$dir/out" || fail "$what: the error does not name $key: ${msg:0:300}"
  grep -qF -- "$expect" "$dir/out" || fail "$what: the error does not say '$expect': ${msg:0:300}"
  ! grep -q S3CR3T "$dir/out" || fail "$what: a secret was echoed: ${msg:0:300}"
  if [ -n "$before" ]; then
    [ "$(md5sum <"$journal")" = "$before" ] || fail "$what: $journal was changed"
  else
    [ ! -e "$journal" ] || fail "$what: the journal $journal was written"
  fi
  if [ "$stage" = config ]; then
    (cd "$dir" && run_case config)
    rc=$?
    [ "$rc" = 2 ] || fail "$what: cbtrade config exited $rc, want 2"
    grep -qF -- "$expect" "$dir/out" || fail "$what: cbtrade config does not say '$expect': $(head -c 300 "$dir/out")"
    ! grep -q S3CR3T "$dir/out" || fail "$what: cbtrade config echoed a secret"
  fi
done <"$table"
[ "$cases" -ge 100 ] || fail "only $cases cases read from $table"
echo "config_sweep: $cases cases"
finish
