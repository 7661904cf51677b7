#!/usr/bin/env bash
# SLACK_WEBHOOK (issue 12 item 8): cbtrade live (paper) against cbtrade-sim posts entries, exits and
# halts to a loopback webhook receiver (python3, http:// on 127.0.0.1) that checks every payload is
# Slack's {"text": ...} JSON. A receiver that never answers: each post gives up in a few seconds,
# failures are counted, the daemon keeps trading (fills go on). One that answers 500: counted, not
# retried into a pile-up. The webhook URL appears in no output, log or metric. Every wait is bounded.
source "$(dirname "$0")/lib.sh"
SIM=${CBTRADE_SIM:-${BUILD_ROOT:-}/cbtrade-sim}
[ -x "$SIM" ] || { echo "SKIP: cbtrade-sim not found at '$SIM'"; exit 77; }
[ -x "$CBTRADE" ] || { echo "SKIP: cbtrade not found at '$CBTRADE'"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not found"; exit 77; }

kill_pids_on_exit
cd "$SCRATCH"
skip_without_io_uring "$CBTRADE"

DATA="$SOURCE_ROOT/data/BTC-USD.csv"
head -n 1001 "$DATA" >history.csv
{ head -n 1; tail -n +1002; } <"$DATA" >market.csv
SECRET=T0SECRET/B0SECRET/Zq8rWebhookSecretPath

# The receiver: MODE ok (200 "ok", each body checked and appended to NAME.posts), hang (reads the
# request, never answers) or 500. Prints its port first.
cat >receiver.py <<'EOF'
import http.server, json, sys, time
mode, out = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(out, "a") as f:
            try:
                d = json.loads(body)
                ok = set(d) == {"text"} and isinstance(d["text"], str) and self.headers.get("Content-Type") == "application/json"
                f.write(json.dumps({"ok": ok, "path": self.path, "text": d.get("text")}) + "\n")
            except Exception as e:
                f.write(json.dumps({"ok": False, "error": str(e)}) + "\n")
        if mode == "hang":
            time.sleep(3600)
        code = 500 if mode == "500" else 200
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok" if code == 200 else b"server_error")
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF

# run NAME MODE: sim, receiver, daemon for 25 s with SIGUSR1 (halt on) at 12 s; NAME.err/out/log/posts/metrics.
run() {
  local name=$1 mode=$2
  python3 receiver.py "$mode" "$name.posts" >"$name.rport" 2>"$name.rerr" &
  PIDS+=($!)
  for _ in $(seq 50); do [ -s "$name.rport" ] && break; sleep 0.1; done
  local rport sport mport
  rport=$(head -n 1 "$name.rport")
  "$SIM" --quiet --ca-out "$name.ca.pem" --csv market.csv --pace x60 >"$name.sim.out" 2>"$name.sim.err" &
  local sim_pid=$!
  PIDS+=("$sim_pid")
  for _ in $(seq 100); do
    [[ $(head -n 1 "$name.sim.out" 2>/dev/null) =~ ^listening\ 127\.0\.0\.1:([0-9]+)$ ]] && [ -s "$name.ca.pem" ] && break
    sleep 0.1
  done
  sport=${BASH_REMATCH[1]:-}
  [ -n "$sport" ] && [ -n "$rport" ] || { fail "$name: sim or receiver did not start"; return 1; }
  mport=$(free_port)
  SLACK_WEBHOOK="http://127.0.0.1:$rport/services/$SECRET" COINBASE_WS_URL="wss://localhost:$sport" \
    TLS_CA_FILE="$name.ca.pem" PORT=$mport IDLE_POLICY=sleep STATUS_INTERVAL_SEC=2 DECISION_LOG="$name.log" JOURNAL_DIR="$name.journal" \
    "$CBTRADE" live --history history.csv --duration 25 >"$name.out" 2>"$name.err" &
  local pid=$!
  PIDS+=("$pid")
  sleep 12
  kill -USR1 "$pid" 2>/dev/null
  sleep 8
  curl -sf "http://127.0.0.1:$mport/metrics" >"$name.metrics" || fail "$name: /metrics not served while posting $mode"
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  wait "$pid"
  local rc=$?
  kill -TERM "$sim_pid" 2>/dev/null
  [ "$rc" = 0 ] || fail "$name: exit $rc: $(tail -c 600 "$name.err")"
  touch "$name.posts"
}
metric() { grep -E "^$2 " "$1.metrics" | awk '{print $2}'; }
fills() { grep -c '"type":"fill"' "$1.log"; }

# 1. A receiver that answers: entries, exits and the halt are posted, as Slack JSON, on the path given.
#    (USE_LIVE_EQUITY=true too: ignored in paper trading, with a warning.)
if USE_LIVE_EQUITY=true run ok ok; then
  expect_grep ok.err 'warning: USE_LIVE_EQUITY=true is ignored in paper trading: equity starts at USD_EQUITY 1000' "ok: live equity ignored in paper, said"
  expect_grep ok.err 'notifications to SLACK_WEBHOOK: entries, exits, order errors, breaker trips, halts' "ok: stated"
  [ "$(fills ok)" -ge 2 ] || fail "ok: fewer than 2 fills: nothing to notify"
  python3 - ok.posts "$SECRET" <<'EOF' || fail "ok: posts: $(head -c 800 ok.posts)"
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1])]
assert posts, "no post"
assert all(p["ok"] for p in posts), "a post is not {\"text\": ...} JSON with Content-Type application/json"
assert all(p["path"] == "/services/" + sys.argv[2] for p in posts), "wrong path"
text = "\n".join(p["text"] for p in posts)
assert "cbtrade BTC-USD:" in text
assert "ENTRY BUY " in text, "no entry"
assert "EXIT (" in text, "no exit"
assert "HALT ON: no new entries; exits still allowed" in text, "no halt"
print(f"ok: {len(posts)} posts")
EOF
  entries=$(grep -o 'ENTRY BUY' ok.posts | wc -l)
  [ "$(metric ok bot_notifications_total)" -ge 1 ] || fail "ok: bot_notifications_total"
  [ "$(metric ok bot_notifications_failed_total)" = 0 ] || fail "ok: failures counted"
  [ "$entries" -ge 1 ] || fail "ok: no entry notice"
fi

# 2. A receiver that hangs: posts give up, are counted, never retried into a pile-up; trading goes on.
if run hang hang; then
  [ "$(fills hang)" -ge 2 ] || fail "hang: fewer than 2 fills: trading waited on the webhook"
  failed=$(metric hang bot_notifications_failed_total)
  [ "$failed" -ge 1 ] 2>/dev/null || fail "hang: bot_notifications_failed_total is '$failed'"
  posts=$(wc -l <hang.posts)
  # 20 s of trading at one post a second would be ~20 posts; backing off (5 s, 10 s, ...) after each
  # failure, at most a handful reach the receiver.
  [ "$posts" -le 4 ] || fail "hang: $posts posts to a webhook that never answers: a pile-up"
  expect_grep hang.err 'SLACK_WEBHOOK: post failed \(no answer in time\); [0-9]+ notices not sent, not retried' "hang: the failure said"
fi

# 3. A receiver that answers 500: counted, not retried.
if run e500 500; then
  [ "$(fills e500)" -ge 2 ] || fail "e500: fewer than 2 fills"
  [ "$(metric e500 bot_notifications_failed_total)" -ge 1 ] 2>/dev/null || fail "e500: failures not counted"
  [ "$(metric e500 bot_notifications_total)" = 0 ] || fail "e500: a failed post counted as sent"
  expect_grep e500.err 'SLACK_WEBHOOK: post failed \(HTTP 500\)' "e500: the failure said"
  [ "$(wc -l <e500.posts)" -le 4 ] || fail "e500: $(wc -l <e500.posts) posts: retried into a pile-up"
fi

# 4. The URL (its secret path) is in no output, log or metric.
for f in *.err *.out *.log *.metrics; do
  [ -f "$f" ] || continue
  if grep -qF -- "Zq8rWebhookSecretPath" "$f" || grep -qF -- "T0SECRET" "$f"; then fail "$f holds the webhook URL"; fi
done

finish
