#!/usr/bin/env bash
# cbtrade-sim smoke test: the simulator listens on a free loopback port, serves wss with a CA it
# writes for the client, checks host names, refuses upgrades on demand, speaks the Coinbase
# Advanced Trade envelope and ticker shapes, paces heartbeats, injects each fault, and its exit
# stats (sent_ticks, price_cents_sum) match what a client decoded. The WebSocket client is
# sim_probe.py (Python standard library only). Everything started here is killed on exit.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
PROBE="$HERE/sim_probe.py"
SIM=${CBTRADE_SIM:-${BUILD_ROOT:-}/cbtrade-sim}
if [ ! -x "$SIM" ]; then
  echo "SKIP: cbtrade-sim not found at '$SIM'"
  exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }

SIM_PIDS=()
cleanup() {
  local p
  for p in "${SIM_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
cd "$SCRATCH"

# start_sim NAME ARGS...: starts the simulator (stdout NAME.out, stderr NAME.err), sets SIM_PID and
# PORT from the first stdout line "listening 127.0.0.1:<port>". Waits at most 10 s.
start_sim() {
  local name=$1
  shift
  "$SIM" "$@" >"$name.out" 2>"$name.err" &
  SIM_PID=$!
  SIM_PIDS+=("$SIM_PID")
  PORT=""
  local line
  for _ in $(seq 100); do
    line=$(head -n 1 "$name.out" 2>/dev/null)
    if [[ $line =~ ^listening\ 127\.0\.0\.1:([0-9]+)$ ]]; then
      PORT=${BASH_REMATCH[1]}
      return 0
    fi
    kill -0 "$SIM_PID" 2>/dev/null || break
    sleep 0.1
  done
  fail "$name: no 'listening 127.0.0.1:<port>' line; stdout: $(head -c 300 "$name.out"); stderr: $(head -c 600 "$name.err")"
  return 1
}

# wait_sim NAME SECONDS: waits for the simulator to exit by itself, else fails and kills it.
wait_sim() {
  local name=$1 secs=$2
  for _ in $(seq $((secs * 10))); do
    kill -0 "$SIM_PID" 2>/dev/null || { wait "$SIM_PID" 2>/dev/null; return 0; }
    sleep 0.1
  done
  fail "$name: simulator still running after ${secs}s"
  kill -KILL "$SIM_PID" 2>/dev/null
  wait "$SIM_PID" 2>/dev/null
}

# stop_sim NAME: SIGTERM, then a bounded wait for the stats.
stop_sim() {
  kill -TERM "$SIM_PID" 2>/dev/null
  wait_sim "$1" 5
}

probe() {  # OUTFILE PROBE-ARGS...
  local out=$1
  shift
  timeout 60 python3 "$PROBE" --port "$PORT" "$@" >"$out" 2>"$out.err" || fail "probe $*: exit $?: $(head -c 600 "$out.err")"
}

field() {  # FILE KEY: value of KEY=value in FILE's first line
  sed -n '1s/.*\b'"$2"'=\([^ ]*\).*/\1/p' "$1"
}

expect_field() {  # FILE KEY VALUE DESCRIPTION
  local got
  got=$(field "$1" "$2")
  [ "$got" = "$3" ] || fail "$4: $2=$got, want $3 ($(head -c 400 "$1"))"
}

expect_field_ge() {  # FILE KEY MIN DESCRIPTION
  local got
  got=$(field "$1" "$2")
  [[ $got =~ ^[0-9]+$ ]] && [ "$got" -ge "$3" ] || fail "$4: $2=$got, want >= $3 ($(head -c 400 "$1"))"
}

# The client's decoded ticks and price sum equal the simulator's exit stats.
expect_checksum() {  # PROBEFILE SIMNAME
  local ticks cents
  ticks=$(field "$1" ticks)
  cents=$(field "$1" cents)
  expect_grep "$2.err" "^sent_ticks=$ticks price_cents_sum=$cents\$" "$2: exit stats match the client"
}

# 1. TLS with the written CA (openssl s_client, both names), full stream until --messages.
if start_sim tls --ca-out ca.pem --pace max --messages 40 --exit-after-sec 60; then
  [ -s ca.pem ] || fail "--ca-out ca.pem not written"
  timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -CAfile ca.pem -verify_return_error \
    -verify_ip 127.0.0.1 </dev/null >s_client_ip.txt 2>&1
  expect_grep s_client_ip.txt "Verify return code: 0 \(ok\)" "s_client trusts the CA for 127.0.0.1"
  timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -CAfile ca.pem -verify_return_error \
    -servername localhost -verify_hostname localhost </dev/null >s_client_name.txt 2>&1
  expect_grep s_client_name.txt "Verify return code: 0 \(ok\)" "s_client trusts the CA for localhost"
  expect_grep s_client_name.txt "ecdsa|id-ecPublicKey|EC" "server key is EC"
  probe tls.probe --ca ca.pem --duration 30
  expect_field tls.probe tls ok "TLS handshake with the written CA"
  expect_field tls.probe ticks 40 "--messages 40 ticker objects"
  expect_field tls.probe close_code 1000 "normal close after --messages"
  expect_field tls.probe first_seq 0 "sequence starts at 0"
  expect_field tls.probe gaps 0 "no sequence gaps by default"
  expect_field tls.probe acks 2 "one subscriptions ack per subscribe"
  expect_field tls.probe snapshots 1 "one ticker snapshot"
  wait_sim tls 10
  expect_checksum tls.probe tls
fi

# 2. Host name verification: a certificate for another name is rejected, accepted under that name.
if start_sim host --cert-host other.example --ca-out ca2.pem --pace max --exit-after-sec 60; then
  probe host_bad.probe --ca ca2.pem --host 127.0.0.1
  expect_field host_bad.probe tls verify_failed "certificate for other.example rejected for 127.0.0.1"
  probe host_good.probe --ca ca2.pem --host other.example --max-ticks 3
  expect_field host_good.probe tls ok "certificate for other.example accepted under that name"
  expect_field host_good.probe ticks 3 "ticks under the other name"
  stop_sim host
  expect_grep host.err "^sent_ticks=[0-9]+ price_cents_sum=[0-9]+$" "stats after SIGTERM"
fi

# 3. Refused upgrade (HTTP 403 with a JSON body) and the REST routing table (404 JSON, /time).
if start_sim refuse --refuse-upgrade --ca-out ca3.pem --exit-after-sec 60; then
  probe refuse.probe --ca ca3.pem
  expect_field refuse.probe status 403 "--refuse-upgrade answers 403"
  expect_field refuse.probe body_json 1 "403 body is JSON"
  timeout 20 python3 - "$PORT" ca3.pem >rest.txt 2>&1 <<'EOF' || fail "REST routes: $(cat rest.txt)"
import json, ssl, sys, urllib.error, urllib.request
port, ca = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
base = f"https://127.0.0.1:{port}"
t = json.load(urllib.request.urlopen(base + "/api/v3/brokerage/time", context=ctx, timeout=10))
assert int(t["epochSeconds"]) > 1.7e9 and t["iso"].endswith("Z"), t
try:
    urllib.request.urlopen(base + "/api/v3/brokerage/nope", context=ctx, timeout=10)
    raise SystemExit("unknown path did not fail")
except urllib.error.HTTPError as e:
    body = json.load(e)
    assert e.code == 404 and body["error"] == "NOT_FOUND", (e.code, body)
print("rest ok")
EOF
  stop_sim refuse
  expect_grep refuse.err "refused_upgrades=1" "refusal counted"
fi

# 4. Drops: the first two connections end after 3 ticker messages, the third is not dropped.
if start_sim drops --plain --pace max --drop-after 3 --drops 2 --exit-after-sec 60; then
  probe drop1.probe --plain
  expect_field drop1.probe ticks 3 "first connection dropped after 3"
  expect_field drop1.probe eof 1 "drop is an abrupt end (no close frame)"
  expect_field drop1.probe close_code none "drop sends no close frame"
  probe drop2.probe --plain
  expect_field drop2.probe ticks 3 "second connection dropped after 3"
  probe drop3.probe --plain --max-ticks 10
  expect_field drop3.probe ticks 10 "third connection runs on"
  expect_field drop3.probe eof 0 "third connection not dropped"
  stop_sim drops
  expect_grep drops.err "drops=2 " "two drops counted"
fi

# 5. Sequence gaps and malformed JSON; checksum over a CSV replay with a plain socket.
if start_sim seq --plain --pace max --skip-seq-every 5 --bad-json-after 4 --messages 30 \
    --csv "$SOURCE_ROOT/data/BTC-USD.csv" --exit-after-sec 60; then
  probe seq.probe --plain
  expect_field seq.probe ticks 30 "CSV replay --messages 30"
  expect_field_ge seq.probe gaps 5 "--skip-seq-every 5 leaves gaps"
  expect_field seq.probe bad_json 1 "one malformed JSON message"
  expect_field seq.probe close_code 1000 "normal close"
  wait_sim seq 10
  expect_checksum seq.probe seq
fi

# 6. A frame with reserved bits set after 3 ticker messages.
if start_sim frame --plain --pace max --bad-frame-after 3 --exit-after-sec 60; then
  probe frame.probe --plain
  expect_field frame.probe bad_frame 1 "frame with RSV bits"
  expect_field frame.probe ticks 3 "bad frame after 3 ticker messages"
  stop_sim frame
fi

# 7. Stall: 2 s of silence after 2 ticker messages.
if start_sim stall --plain --pace max --stall-after 2 --stall-sec 2 --messages 4 --exit-after-sec 60; then
  probe stall.probe --plain
  expect_field stall.probe ticks 4 "all ticks after the stall"
  expect_field_ge stall.probe elapsed_ms 1900 "stall lasted about 2 s"
  wait_sim stall 10
  expect_grep stall.err "stalls=1 " "stall counted"
fi

# 8. A client that does not subscribe is disconnected (policy close 1008).
if start_sim idle --plain --subscribe-timeout-sec 1 --exit-after-sec 60; then
  probe idle.probe --plain --no-subscribe --duration 8
  expect_field idle.probe close_code 1008 "no subscribe within the timeout"
  stop_sim idle
  expect_grep idle.err "subscribe_timeouts=1 " "subscribe timeout counted"
fi

# 9. Heartbeats once a second, counter an integer by default, a string on request.
if start_sim hb --plain --exit-after-sec 60; then
  probe hb.probe --plain --duration 3.5
  expect_field_ge hb.probe heartbeats 2 "heartbeats every second"
  expect_field hb.probe hb_str 0 "heartbeat_counter is an integer by default"
  expect_field hb.probe snapshots 1 "snapshot right after subscribing (real-time pace)"
  stop_sim hb
fi
if start_sim hbs --plain --heartbeat-counter-as-string --exit-after-sec 60; then
  probe hbs.probe --plain --duration 2.5
  expect_field_ge hbs.probe hb_str 2 "--heartbeat-counter-as-string"
  stop_sim hbs
fi

finish
