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

# A free TCP port on loopback (python3).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {  # FILE PATTERN SECONDS: until PATTERN appears in FILE
  for _ in $(seq $(($3 * 10))); do grep -qE -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
wait_count() {  # FILE PATTERN N SECONDS: until PATTERN has N matching lines
  for _ in $(seq $(($4 * 10))); do [ "$(grep -cE -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0; sleep 0.1; done
  return 1
}
# start_sim_process NAME ARGS...: "$SIM" --quiet --ca-out NAME.ca.pem ARGS in the background, output in
# NAME.sim.out/err; sets SIM_PID and PORT once it listens (at most 10 s), else fails and returns 1.
start_sim_process() {
  local name=$1
  shift
  "$SIM" --quiet --ca-out "$name.ca.pem" "$@" >"$name.sim.out" 2>"$name.sim.err" &
  SIM_PID=$!
  PIDS+=("$SIM_PID")
  PORT=""
  for _ in $(seq 100); do
    if [[ $(head -n 1 "$name.sim.out" 2>/dev/null) =~ ^listening\ 127\.0\.0\.1:([0-9]+)$ ]] && [ -s "$name.ca.pem" ]; then
      PORT=${BASH_REMATCH[1]}
      return 0
    fi
    kill -0 "$SIM_PID" 2>/dev/null || break
    sleep 0.1
  done
  fail "$name: simulator did not start: $(head -c 600 "$name.sim.err")"
  return 1
}
# stop_pid PID: SIGTERM, at most 40 s, then SIGKILL; sets RC to its exit status.
stop_pid() {
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 400); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null
  wait "$1"
  RC=$?
}

# make_api_key NAME: an Ed25519 key made now with openssl: NAME.pem (private), NAME.pub (the sim's
# --api-key file); prints the private key as Coinbase's key JSON carries it (base64 of seed + public).
make_api_key() {
  openssl genpkey -algorithm ed25519 -out "$1.pem" 2>/dev/null
  openssl pkey -in "$1.pem" -pubout -out "$1.pub"
  python3 - "$1" <<'EOF'
import base64, subprocess, sys
n = sys.argv[1]
der = subprocess.run(["openssl", "pkey", "-in", n + ".pem", "-outform", "DER"], capture_output=True).stdout
pub = subprocess.run(["openssl", "pkey", "-in", n + ".pem", "-pubout", "-outform", "DER"], capture_output=True).stdout
print(base64.b64encode(der[-32:] + pub[-32:]).decode())
EOF
}

finish() {
  if [ "$FAILURES" -gt 0 ]; then
    echo "$FAILURES check(s) failed" >&2
    exit 1
  fi
  echo "all checks passed"
}
