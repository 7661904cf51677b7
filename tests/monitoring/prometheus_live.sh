#!/usr/bin/env bash
# End to end: a real Prometheus (Debian's package) scrapes a paced `cbtrade backtest` that serves
# /metrics, on loopback, and the monitoring config is checked against what it really exports:
#   - `promtool check metrics` accepts the exposition, every contract metric is there (with the
#     label combinations that are always exported, and the contract's histogram buckets),
#   - the target is up for job "coinbase-bot",
#   - every expression of monitoring/grafana/dashboards/cbtrade.json evaluates without error AND
#     returns data (so no panel shows "No data" on a paper run),
#   - every rule of monitoring/prometheus/rules.yml evaluates without error.
# Everything it starts is killed on exit; every wait is bounded. Exit 0 pass, 1 fail, 77 skip.
# Env: CBTRADE (the cbtrade executable), SOURCE_ROOT (repo root); optional HOLD_SEC (how long the
# backtest keeps serving /metrics after it finishes; default 60).
set -uo pipefail

: "${CBTRADE:?CBTRADE must name the cbtrade executable}"
ROOT=${SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
HOLD_SEC=${HOLD_SEC:-60}
DASHBOARD=$ROOT/monitoring/grafana/dashboards/cbtrade.json
RULES=$ROOT/monitoring/prometheus/rules.yml
CSV=$ROOT/data/BTC-USD.csv

for tool in prometheus promtool curl python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool not found (apt-get install prometheus curl python3)"
    exit 77
  fi
done

tmp=$(mktemp -d)
prom_pid=
bot_pid=
cleanup() {
  local pid
  for pid in $bot_pid $prom_pid; do
    kill "$pid" 2>/dev/null
  done
  for pid in $bot_pid $prom_pid; do
    # bounded: SIGKILL after ~5 s
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  echo "FAIL $*"
  for log in "$tmp"/bot.log "$tmp"/prometheus.log; do
    [ -s "$log" ] && { echo "--- $(basename "$log") (last 30 lines)"; tail -n 30 "$log"; }
  done
  exit 1
}

# wait_for SECONDS DESCRIPTION CMD...: retries CMD every 0.5 s; fails the test after SECONDS.
wait_for() {
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs * 2; i++)); do
    "$@" >/dev/null 2>&1 && { echo "ok   $what"; return 0; }
    if [ -n "$bot_pid" ] && ! kill -0 "$bot_pid" 2>/dev/null; then
      die "$what: cbtrade exited early"
    fi
    sleep 0.5
  done
  die "$what: not within ${secs}s"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
bot_port=$(free_port)
prom_port=$(free_port)
while [ "$prom_port" = "$bot_port" ]; do prom_port=$(free_port); done
prom=http://127.0.0.1:$prom_port

cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: coinbase-bot
    static_configs:
      - targets: ['127.0.0.1:$bot_port']
EOF
promtool check config "$tmp/prometheus.yml" >"$tmp/check_config.log" 2>&1 ||
  { cat "$tmp/check_config.log"; die "generated prometheus.yml does not check"; }

prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
prom_pid=$!
wait_for 30 "prometheus ready on 127.0.0.1:$prom_port" curl -fsS "$prom/-/ready"

PORT=$bot_port METRICS_ADDR=127.0.0.1 "$CBTRADE" backtest "$CSV" --sleep-ms 2 --hold-sec "$HOLD_SEC" \
  >"$tmp/bot.log" 2>&1 &
bot_pid=$!
wait_for 30 "cbtrade backtest serves /metrics on 127.0.0.1:$bot_port" \
  curl -fsS -o "$tmp/metrics.txt" "http://127.0.0.1:$bot_port/metrics"

# Metrics as the daemon writes them.
curl -fsS -o "$tmp/metrics.txt" "http://127.0.0.1:$bot_port/metrics" || die "GET /metrics"
if promtool check metrics <"$tmp/metrics.txt" >"$tmp/check_metrics.log" 2>&1; then
  echo "ok   promtool check metrics"
else
  sed 's/^/     | /' "$tmp/check_metrics.log"
  die "promtool check metrics"
fi

target_up() {
  curl -fsS "$prom/api/v1/targets" | python3 -c '
import json, sys
targets = json.load(sys.stdin)["data"]["activeTargets"]
sys.exit(0 if any(t["labels"].get("job") == "coinbase-bot" and t["health"] == "up" for t in targets) else 1)'
}
wait_for 30 'target job="coinbase-bot" is up' target_up

# Enough scrapes that rate()/increase() over the dashboard's windows have two or more samples.
enough_samples() {
  curl -fsS "$prom/api/v1/query" --data-urlencode 'query=count_over_time(up{job="coinbase-bot"}[1m]) >= 5' |
    python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["data"]["result"] else 1)'
}
wait_for 30 "5 scrapes of the backtest stored" enough_samples
sleep 2  # two rule evaluations on complete data
kill -0 "$bot_pid" 2>/dev/null ||
  die "cbtrade backtest exited before the checks (--hold-sec $HOLD_SEC should keep /metrics up)"

PROM=$prom DASHBOARD=$DASHBOARD METRICS=$tmp/metrics.txt python3 - <<'PY'
import json, math, os, re, sys, urllib.parse, urllib.request

prom, fails = os.environ["PROM"], 0

def check(cond, msg, detail=""):
    global fails
    print(("ok   " if cond else "FAIL ") + msg + ("" if cond or not detail else ": " + detail))
    fails += 0 if cond else 1

def api(path, **params):
    url = prom + path + ("?" + urllib.parse.urlencode(params) if params else "")
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:  # 400/422 carry the PromQL error as JSON
        return json.load(e)

# 1. The exposition carries the whole contract.
samples = {}  # name -> list of label dicts
for line in open(os.environ["METRICS"]):
    m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+", line)
    if m and not line.startswith("#"):
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        samples.setdefault(m.group(1), []).append(labels)

def has(name, **labels):
    return any(all(l.get(k) == v for k, v in labels.items()) for l in samples.get(name, []))

plain = ["bot_equity_usd", "bot_vol_risk_factor", "bot_walk_forward_fits_total", "bot_build_info",
         "bot_trades_total", "bot_daily_pnl_usd", "bot_position_base", "bot_circuit_breaker_tripped",
         "bot_candles_total", "bot_ticks_total", "bot_feed_gaps_total", "bot_feed_reconnects_total",
         "bot_feed_age_seconds", "bot_feed_stale", "bot_ready"]
for name in plain:
    check(has(name), "/metrics exports " + name)
for mode in ("paper", "live"):
    for side in ("BUY", "SELL"):
        check(has("bot_orders_total", mode=mode, side=side), '/metrics exports bot_orders_total{mode="%s",side="%s"}' % (mode, side))
for signal in ("buy", "sell", "flat"):
    check(has("bot_decisions_total", signal=signal), '/metrics exports bot_decisions_total{signal="%s"}' % signal)
for mode in ("baseline", "extended"):
    check(has("bot_model_mode", mode=mode), '/metrics exports bot_model_mode{mode="%s"}' % mode)
check(has("bot_order_errors_total", reason="none"), '/metrics exports bot_order_errors_total{reason="none"}')
for reason in ("breaker", "below_min", "long_only", "market_data", "halt"):
    check(has("bot_entries_blocked_total", reason=reason), '/metrics exports bot_entries_blocked_total{reason="%s"}' % reason)
for reason in ("signal", "stop_loss", "take_profit"):
    check(has("bot_exits_total", reason=reason), '/metrics exports bot_exits_total{reason="%s"}' % reason)
for ring in ("ticks", "decisions", "ops"):
    check(has("bot_ring_full_total", ring=ring), '/metrics exports bot_ring_full_total{ring="%s"}' % ring)
build = samples.get("bot_build_info", [{}])[0]
check(all(k in build for k in ("version", "wolfssl", "aesni")), "bot_build_info has version, wolfssl, aesni", repr(build))

BUCKETS = [1e-7, 2.5e-7, 5e-7, 1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3,
           2.5e-3, 5e-3, 1e-2, 0.1, 1, math.inf]
def buckets(name, **labels):
    les = sorted(float(l["le"]) for l in samples.get(name + "_bucket", [])
                 if "le" in l and all(l.get(k) == v for k, v in labels.items()))
    return les
def same(a, b):
    return len(a) == len(b) and all(x == y or abs(x - y) <= 1e-9 * max(abs(x), abs(y)) for x, y in zip(a, b))
for name, sets in (("bot_tick_to_decision_seconds", [{}]),
                   ("bot_stage_latency_seconds", [{"stage": s} for s in ("decode", "signal", "exec")])):
    for labels in sets:
        what = "%s%s" % (name, "".join('{%s="%s"}' % kv for kv in labels.items()))
        check(same(buckets(name, **labels), BUCKETS), what + " has the contract's buckets",
              "got %r" % buckets(name, **labels))
        check(has(name + "_sum", **labels) and has(name + "_count", **labels), what + " has _sum and _count")

# 2. Every dashboard expression evaluates and returns data.
with open(os.environ["DASHBOARD"]) as f:
    dash = json.load(f)
def all_panels(panels):
    for p in panels or []:
        yield p
        yield from all_panels(p.get("panels"))
for p in all_panels(dash.get("panels")):
    for t in p.get("targets") or []:
        expr = t.get("expr")
        if not expr:
            continue
        r = api("/api/v1/query", query=expr)
        what = "panel %r %s: %s" % (p.get("title"), t.get("refId"), expr)
        if r.get("status") != "success":
            check(False, what, "error: %s" % r.get("error"))
        else:
            check(len(r["data"]["result"]) > 0, what + " returns data", "empty result")

# 3. The alert rules evaluate without error on the daemon's real series.
r = api("/api/v1/rules")
rules = [rule for g in r.get("data", {}).get("groups", []) for rule in g.get("rules", [])]
check(len(rules) > 0, "rules.yml loaded (%d rules)" % len(rules))
for rule in rules:
    check(rule.get("health") != "err" and not rule.get("lastError"),
          "rule %s evaluates" % rule.get("name"), rule.get("lastError", ""))
firing = sorted({a["labels"]["alertname"] for a in api("/api/v1/alerts")["data"]["alerts"]
                 if a["labels"]["alertname"] in ("BotDown", "FeedStale")})
check(not firing, "BotDown and FeedStale are not pending or firing on a healthy backtest", repr(firing))

print("prometheus live checks: %d failed" % fails)
sys.exit(1 if fails else 0)
PY
rc=$?
[ "$rc" -eq 0 ] || die "prometheus live checks failed"
echo "prometheus_live: pass"
