#!/usr/bin/env bash
# Checks the monitoring configuration in monitoring/ without running anything but the linters:
#   - promtool check config / check rules / test rules (every alert firing and not firing),
#   - amtool check-config,
#   - the Grafana dashboard and provisioning files and docker-compose.yml parse (python3 json, yaml)
#     and agree with each other (datasource uid, mount paths, ports, services),
#   - every PromQL expression in the dashboard and the rules parses and uses only metric names and
#     labels of the metric contract (DESIGN.md section 7, the list in CONTRACT below),
#   - routing, grouping and secret handling of the Alertmanager config; no Slack webhook URL in git.
# Prints one line per check ("ok" / "FAIL" with what failed); exit 0 when all pass, 1 when one
# fails, 77 (skip) when promtool, amtool or python3 with PyYAML is missing.
# Env: SOURCE_ROOT (repo root; default: two levels above this script).
set -uo pipefail

ROOT=${SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MON=$ROOT/monitoring

failed=0
passed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
# check DESCRIPTION CMD...: runs CMD, shows its output only when it fails.
check() {
  local what=$1 out
  shift
  if out=$("$@" 2>&1); then
    ok "$what"
  else
    fail "$what: $*"
    printf '%s\n' "$out" | sed 's/^/     | /'
  fi
}

for tool in promtool amtool; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool not found (apt-get install prometheus prometheus-alertmanager)"
    exit 77
  fi
done
PYTHON=
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import yaml' 2>/dev/null; then PYTHON=$p; break; fi
done
if [ -z "$PYTHON" ]; then
  echo "SKIP: python3 with PyYAML not found (apt-get install python3-yaml)"
  exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- Prometheus ----------------------------------------------------------------------------------
# promtool resolves rule_files relative to the config file, so the repo files are checked in place.
check "promtool check config monitoring/prometheus/prometheus.yml" \
  promtool check config "$MON/prometheus/prometheus.yml"
check "promtool check rules monitoring/prometheus/rules.yml" \
  promtool check rules "$MON/prometheus/rules.yml"
check "promtool test rules monitoring/prometheus/rules_test.yml" \
  promtool test rules "$MON/prometheus/rules_test.yml"

# --- Alertmanager --------------------------------------------------------------------------------
# slack_api_url_file is read when a notification is sent, not when the config is loaded (0.25), so
# the secret file need not exist here. The copy with a dummy secret file also checks the config the
# way a running Alertmanager with the secret in place sees it.
check "amtool check-config monitoring/alertmanager/alertmanager.yml" \
  amtool check-config "$MON/alertmanager/alertmanager.yml"
printf '%s' 'https://hooks.slack.com/services/T00000000/B00000000/dummydummydummydummy' >"$tmp/slack_webhook_url"
sed "s#/etc/alertmanager/secrets/slack_webhook_url#$tmp/slack_webhook_url#" \
  "$MON/alertmanager/alertmanager.yml" >"$tmp/alertmanager.yml"
check "amtool check-config (with a dummy secret file in place)" amtool check-config "$tmp/alertmanager.yml"

# --- Structure and contract (python3) ------------------------------------------------------------
# Writes every dashboard expression as a recording rule into $tmp/dashboard_exprs.yml so that
# promtool can check its PromQL syntax below.
MON=$MON ROOT=$ROOT TMP=$tmp "$PYTHON" - <<'PY'
import json, os, re, sys
import yaml

MON, ROOT, TMP = os.environ["MON"], os.environ["ROOT"], os.environ["TMP"]
fails = 0

passes = 0

def ok(msg):
    global passes
    passes += 1
    print("ok   " + msg)

def fail(msg):
    global fails
    fails += 1
    print("FAIL " + msg)

def expect(cond, msg, detail=""):
    if cond:
        ok(msg)
    else:
        fail(msg + (": " + detail if detail else ""))
    return cond

def load_yaml(rel):
    try:
        with open(os.path.join(MON, rel)) as f:
            doc = yaml.safe_load(f)
        ok("monitoring/%s parses as YAML" % rel)
        return doc
    except Exception as e:  # report and go on with the other files
        fail("monitoring/%s parses as YAML: %s" % (rel, e))
        return None

# The metric contract: name -> {label: allowed values or None for any}. Target labels (job,
# instance) are allowed everywhere; histograms also have _bucket (with le), _sum and _count.
ANY = None
CONTRACT = {
    "bot_orders_total": {"mode": {"paper", "live"}, "side": {"BUY", "SELL"}},
    "bot_decisions_total": {"signal": {"buy", "sell", "flat"}},
    "bot_equity_usd": {},
    "bot_model_mode": {"mode": {"baseline", "extended"}},
    "bot_vol_risk_factor": {},
    "bot_walk_forward_fits_total": {},
    "bot_build_info": {"version": ANY, "wolfssl": ANY, "aesni": ANY},
    "bot_trades_total": {},
    "bot_daily_pnl_usd": {},
    "bot_position_base": {},
    "bot_circuit_breaker_tripped": {},
    "bot_entries_blocked_total": {"reason": {"breaker", "below_min", "long_only", "market_data", "halt"}},
    "bot_exits_total": {"reason": {"signal", "stop_loss", "take_profit"}},
    "bot_order_errors_total": {"reason": ANY},
    "bot_candles_total": {},
    "bot_ticks_total": {},
    "bot_feed_gaps_total": {},
    "bot_feed_reconnects_total": {},
    "bot_feed_connect_failures_total": {},
    "bot_feed_messages_refused_total": {},
    "bot_feed_records_refused_total": {},
    "bot_price_outliers_total": {},
    "bot_feed_age_seconds": {},
    "bot_feed_stale": {},
    "bot_ring_full_total": {"ring": {"ticks", "decisions", "ops"}},
    "bot_ready": {},
    "bot_halted": {},
    "bot_live_equity_refreshes_total": {},
    "bot_live_equity_refresh_failures_total": {},
    "bot_live_equity_age_seconds": {},
    "bot_notifications_total": {},
    "bot_notifications_failed_total": {},
    "bot_notifications_dropped_total": {},
    "bot_journal_failures_total": {},
    "bot_entries_while_stale_total": {},
}
HISTOGRAMS = {
    "bot_tick_to_decision_seconds": {},
    "bot_stage_latency_seconds": {"stage": {"decode", "signal", "exec"}},
}
SERIES = dict(CONTRACT)
for h, labels in HISTOGRAMS.items():
    SERIES[h + "_bucket"] = dict(labels, le=ANY)
    SERIES[h + "_sum"] = dict(labels)
    SERIES[h + "_count"] = dict(labels)
TARGET_LABELS = {"job", "instance"}

STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
NAME = re.compile(r"\b(bot_[A-Za-z0-9_]+)\b")
SELECTOR = re.compile(r"\b(bot_[A-Za-z0-9_]+)\s*\{([^}]*)\}")
MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')

def contract_problems(expr):
    """Metric names and label matchers in a PromQL expression that are not in the contract."""
    problems = []
    names = set(NAME.findall(STRING.sub('""', expr)))  # names inside label values do not count
    for n in sorted(names):
        if n not in SERIES:
            problems.append("metric %s is not in the contract" % n)
    for metric, body in SELECTOR.findall(expr):
        allowed = SERIES.get(metric)
        if allowed is None:
            continue
        for label, op, value in MATCHER.findall(body):
            if label in TARGET_LABELS:
                continue
            if label not in allowed:
                problems.append("%s has no label %s" % (metric, label))
            elif op == "=" and allowed[label] is not ANY and value not in allowed[label]:
                problems.append('%s{%s="%s"}: value not one of %s' % (metric, label, value, sorted(allowed[label])))
    return names, problems

# --- prometheus.yml ---
prom = load_yaml("prometheus/prometheus.yml") or {}
jobs = {j.get("job_name"): j for j in prom.get("scrape_configs") or []}
bot_job = jobs.get("coinbase-bot")
if expect(bot_job is not None, 'prometheus.yml has scrape job "coinbase-bot"'):
    interval = bot_job.get("scrape_interval", (prom.get("global") or {}).get("scrape_interval"))
    expect(interval == "15s", "coinbase-bot is scraped every 15s", "got %r" % interval)
    targets = [t for sc in bot_job.get("static_configs") or [] for t in sc.get("targets") or []]
    expect(targets == ["bot:8080"], "coinbase-bot target is bot:8080", "got %r" % targets)
expect("rules.yml" in (prom.get("rule_files") or []), "prometheus.yml loads rules.yml")
am_targets = [t for am in ((prom.get("alerting") or {}).get("alertmanagers") or [])
              for sc in am.get("static_configs") or [] for t in sc.get("targets") or []]
expect("alertmanager:9093" in am_targets, "prometheus.yml sends alerts to alertmanager:9093", "got %r" % am_targets)

# --- rules.yml ---
REQUIRED_ALERTS = {  # name -> (for, severity); None = not checked
    "BotDown": ("2m", "critical"),
    "NoDecisionsRecently": ("30m", "warning"),
    "EquityDropRapid": ("5m", "critical"),
    "FeedStale": ("1m", None),
    "CircuitBreakerTripped": (None, None),
    "OrderErrors": (None, None),
    "TickToDecisionSlow": ("10m", None),
    "ReconnectStorm": (None, None),
    "OrderJournalFailed": (None, "critical"),
}
rules_doc = load_yaml("prometheus/rules.yml") or {}
alerts = {r["alert"]: r for g in rules_doc.get("groups") or [] for r in g.get("rules") or [] if "alert" in r}
missing = sorted(set(REQUIRED_ALERTS) - set(alerts))
expect(not missing, "rules.yml has all alerts (%s)" % ", ".join(REQUIRED_ALERTS), "missing %s" % missing)
for name, rule in sorted(alerts.items()):
    ann = rule.get("annotations") or {}
    expect(ann.get("summary") and ann.get("description"), "alert %s has summary and description" % name)
    sev = (rule.get("labels") or {}).get("severity")
    want_for, want_sev = REQUIRED_ALERTS.get(name, (None, None))
    expect(sev in ("critical", "warning") and (want_sev is None or sev == want_sev),
           "alert %s severity is %s" % (name, want_sev or "critical|warning"), "got %r" % sev)
    if want_for:
        expect(rule.get("for") == want_for, "alert %s has for: %s" % (name, want_for), "got %r" % rule.get("for"))
    names, problems = contract_problems(rule.get("expr", ""))
    expect(not problems, "alert %s uses contract metrics only" % name, "; ".join(problems))
expect("up{job=\"coinbase-bot\"} == 0" in alerts.get("BotDown", {}).get("expr", ""),
       'BotDown is up{job="coinbase-bot"} == 0')
expect('reason!="none"' in alerts.get("OrderErrors", {}).get("expr", ""), 'OrderErrors ignores reason="none"')
expect("histogram_quantile(0.99" in alerts.get("TickToDecisionSlow", {}).get("expr", "")
       and "bot_tick_to_decision_seconds_bucket" in alerts.get("TickToDecisionSlow", {}).get("expr", ""),
       "TickToDecisionSlow is the p99 of the tick-to-decision histogram")

# --- rules_test.yml: each alert shown firing and not firing ---
tests_doc = load_yaml("prometheus/rules_test.yml") or {}
fires, quiet = set(), set()
for t in tests_doc.get("tests") or []:
    for case in t.get("alert_rule_test") or []:
        (fires if case.get("exp_alerts") else quiet).add(case.get("alertname"))
for name in sorted(alerts):
    expect(name in fires and name in quiet, "rules_test.yml tests %s firing and not firing" % name,
           "firing case: %s, not-firing case: %s" % (name in fires, name in quiet))

# --- alertmanager.yml ---
am = load_yaml("alertmanager/alertmanager.yml") or {}
route = am.get("route") or {}
expect(route.get("group_by") == ["alertname"], "alertmanager groups by alertname", "got %r" % route.get("group_by"))
for key, want in (("group_wait", "10s"), ("group_interval", "2m"), ("repeat_interval", "2h")):
    expect(route.get(key) == want, "alertmanager %s is %s" % (key, want), "got %r" % route.get(key))
receivers = {r.get("name"): r for r in am.get("receivers") or []}
recv = receivers.get(route.get("receiver"))
slack = (recv or {}).get("slack_configs") or []
expect(bool(slack), "alertmanager routes to a Slack receiver", "receiver %r" % route.get("receiver"))
expect(slack and all(s.get("send_resolved") is True for s in slack), "Slack receiver has send_resolved: true")
url_file = (am.get("global") or {}).get("slack_api_url_file")
expect(url_file == "/etc/alertmanager/secrets/slack_webhook_url",
       "Slack webhook read from /etc/alertmanager/secrets/slack_webhook_url", "got %r" % url_file)
expect(not (am.get("global") or {}).get("slack_api_url") and not any(s.get("api_url") for s in slack),
       "no inline Slack api_url in alertmanager.yml")
webhook = re.compile(r"hooks\.slack\.com/services/T[A-Z0-9]{8,}/B[A-Z0-9]{8,}/[A-Za-z0-9]{20,}")
leaks = []
for dirpath, dirnames, filenames in os.walk(MON):
    rel = os.path.relpath(dirpath, MON)
    if rel.startswith(os.path.join("alertmanager", "secrets")):
        continue  # git-ignored on purpose
    for fn in filenames:
        if rel == "." and fn == "bot.env":
            continue  # git-ignored on purpose
        try:
            with open(os.path.join(dirpath, fn), errors="replace") as f:
                if webhook.search(f.read()):
                    leaks.append(os.path.join(rel, fn))
        except OSError:
            pass
expect(not leaks, "no Slack webhook URL in monitoring/ files", "found in %s" % leaks)

# --- Grafana provisioning ---
ds_doc = load_yaml("grafana/provisioning/datasources/prometheus.yml") or {}
dss = ds_doc.get("datasources") or []
prom_ds = [d for d in dss if d.get("type") == "prometheus"]
ds_uid = prom_ds[0].get("uid") if prom_ds else None
expect(len(prom_ds) == 1 and ds_uid, "one Prometheus datasource with a uid is provisioned", "got %r" % dss)
expect(prom_ds and prom_ds[0].get("url") == "http://prometheus:9090", "datasource points at http://prometheus:9090")
dash_doc = load_yaml("grafana/provisioning/dashboards/dashboards.yml") or {}
providers = [p for p in dash_doc.get("providers") or [] if p.get("type") == "file"]
dash_path = ((providers[0].get("options") or {}).get("path")) if providers else None
expect(bool(dash_path), "a file dashboard provider is provisioned", "got %r" % dash_doc)

# --- dashboard JSON ---
dash = {}
try:
    with open(os.path.join(MON, "grafana/dashboards/cbtrade.json")) as f:
        dash = json.load(f)
    ok("monitoring/grafana/dashboards/cbtrade.json parses as JSON")
except Exception as e:
    fail("monitoring/grafana/dashboards/cbtrade.json parses as JSON: %s" % e)
expect(bool(dash.get("uid")) and bool(dash.get("title")), "dashboard has a uid and a title")
expect(dash.get("id") in (None, 0), "dashboard has no instance id (provisioned dashboards must not)")

def all_panels(panels):
    for p in panels or []:
        yield p
        yield from all_panels(p.get("panels"))  # collapsed rows hold their panels

panels = [p for p in all_panels(dash.get("panels")) if p.get("type") != "row"]
expect(len(panels) > 0, "dashboard has panels")
ids = [p.get("id") for p in panels]
expect(len(ids) == len(set(ids)) and None not in ids, "panel ids are unique")
used, recording, all_exprs = set(), [], []
for p in panels:
    # One line per panel: its targets, refIds, datasource and the contract.
    problems = []
    targets = p.get("targets") or []
    if not targets:
        problems.append("no targets")
    refs = [t.get("refId") for t in targets]
    if not all(refs) or len(refs) != len(set(refs)):
        problems.append("refIds missing or not unique: %r" % refs)
    pds = p.get("datasource")
    if isinstance(pds, dict) and pds.get("uid") != ds_uid:
        problems.append("panel datasource uid %r" % pds.get("uid"))
    for t in targets:
        ref = t.get("refId")
        tds = t.get("datasource")
        if not isinstance(tds, dict) or tds.get("uid") != ds_uid:
            problems.append("%s: datasource uid is not %r: %r" % (ref, ds_uid, tds))
        expr = t.get("expr") or ""
        if not expr.strip():
            problems.append("%s: empty expr" % ref)
            continue
        all_exprs.append(expr)
        if "$" in expr:  # tests evaluate the expressions as they are
            problems.append("%s: uses a dashboard variable: %s" % (ref, expr))
        names, bad = contract_problems(expr)
        used |= names
        problems += ["%s: %s in %s" % (ref, b, expr) for b in bad]
        recording.append({"record": "dashboard:panel_%s_%s" % (p.get("id"), ref), "expr": expr})
    expect(not problems, "panel %r (%d targets): refIds, datasource uid %r, contract metrics only"
           % (p.get("title"), len(targets), ds_uid), "; ".join(problems))
with open(os.path.join(TMP, "dashboard_exprs.yml"), "w") as f:
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recording}]}, f)

# The panels of the earlier dashboard plus the new ones, by what they query.
joined = "\n".join(all_exprs)
REQUIRED_PANELS = {
    "equity": "bot_equity_usd",
    "decisions by signal": "bot_decisions_total",
    'orders paper BUY vs SELL': 'bot_orders_total{mode="paper"}',
    'orders live BUY vs SELL': 'bot_orders_total{mode="live"}',
    "circuit breaker": "bot_circuit_breaker_tripped",
    "total trades": "bot_trades_total",
    "daily P/L": "bot_daily_pnl_usd",
    "tick-to-decision p50": "histogram_quantile(0.5, sum by (le) (rate(bot_tick_to_decision_seconds_bucket",
    "tick-to-decision p99": "histogram_quantile(0.99, sum by (le) (rate(bot_tick_to_decision_seconds_bucket",
    "feed age": "bot_feed_age_seconds",
    "feed gaps": "bot_feed_gaps_total",
    "reconnects": "bot_feed_reconnects_total",
    "position": "bot_position_base",
}
for what, needle in REQUIRED_PANELS.items():
    expect(needle in joined, "dashboard shows %s (%s)" % (what, needle))

# --- docker-compose.yml ---
compose = load_yaml("docker-compose.yml") or {}
services = compose.get("services") or {}
expect(set(services) >= {"bot", "prometheus", "alertmanager", "grafana"},
       "compose has services bot, prometheus, alertmanager, grafana", "got %r" % sorted(services))

def ports_of(svc):
    out = set()
    for p in (services.get(svc) or {}).get("ports") or []:
        if isinstance(p, dict):
            out.add((str(p.get("published")), str(p.get("target"))))
        else:
            parts = str(p).split("/")[0].split(":")
            if len(parts) >= 2:
                out.add((parts[-2], parts[-1]))
    return out

for svc, port in (("bot", "8080"), ("prometheus", "9090"), ("alertmanager", "9093"), ("grafana", "3000")):
    expect((port, port) in ports_of(svc), "compose %s publishes %s:%s" % (svc, port, port), "got %r" % ports_of(svc))

def mounts_of(svc):
    out = {}
    for v in (services.get(svc) or {}).get("volumes") or []:
        if isinstance(v, dict):
            out[v.get("target")] = v.get("source")
        else:
            parts = str(v).split(":")
            if len(parts) >= 2:
                out[parts[1]] = parts[0]
    return out

ignored = {"./bot.env", "./alertmanager/secrets"}  # secrets, created by the operator (README)
for svc in services:
    for target, source in mounts_of(svc).items():
        if source and source.startswith(".") and source not in ignored:
            expect(os.path.exists(os.path.join(MON, source)), "compose %s mount %s exists" % (svc, source))

bot = services.get("bot") or {}
build = bot.get("build") or {}
context = build if isinstance(build, str) else build.get("context", ".")
dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
expect(os.path.realpath(os.path.join(MON, context)) == os.path.realpath(ROOT)
       and os.path.isfile(os.path.join(ROOT, dockerfile)),
       "compose bot is built from the repo root Dockerfile", "context %r dockerfile %r" % (context, dockerfile))
cmd = bot.get("command")
cmd = cmd.split() if isinstance(cmd, str) else cmd
expect(cmd == ["live", "--env-file", "/config/bot.env"], "compose bot runs cbtrade live --env-file /config/bot.env",
       "got %r" % cmd)
env = bot.get("environment") or {}
env = dict(e.split("=", 1) for e in env) if isinstance(env, list) else env
expect(str(env.get("METRICS_ADDR")) == "0.0.0.0" and str(env.get("PORT")) == "8080",
       "compose bot serves metrics on 0.0.0.0:8080 (reachable as bot:8080)", "got %r" % env)
expect("/config/bot.env" in mounts_of("bot"), "compose bot mounts /config/bot.env")

pm = mounts_of("prometheus")
expect(pm.get("/etc/prometheus/prometheus.yml") == "./prometheus/prometheus.yml"
       and pm.get("/etc/prometheus/rules.yml") == "./prometheus/rules.yml",
       "compose prometheus mounts prometheus.yml and rules.yml side by side", "got %r" % pm)
amm = mounts_of("alertmanager")
expect(amm.get("/etc/alertmanager/alertmanager.yml") == "./alertmanager/alertmanager.yml",
       "compose alertmanager mounts alertmanager.yml", "got %r" % amm)
expect(url_file is not None and amm.get(os.path.dirname(url_file or "")) == "./alertmanager/secrets",
       "compose alertmanager mounts ./alertmanager/secrets where slack_api_url_file points", "got %r" % amm)
gm = mounts_of("grafana")
expect(gm.get("/etc/grafana/provisioning") == "./grafana/provisioning",
       "compose grafana mounts the provisioning folder", "got %r" % gm)
expect(dash_path is not None and gm.get(dash_path) == "./grafana/dashboards",
       "compose grafana mounts the dashboards at the provider path %r" % dash_path, "got %r" % gm)

# --- Dockerfile ---
try:
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        df = f.read()
except OSError:
    df = ""
expect(re.search(r"^FROM\s+debian:(12|bookworm)\b", df, re.M) is not None, "Dockerfile is based on Debian 12")
# The image builds through README's setup script (issue 8 item 6: the two cannot drift apart).
expect(re.search(r"source scripts/setup\.sh && cbtrade_build_main build\b", df) is not None
       and "WORKDIR /src" in df and "/src/build/cbtrade" in df,
       "Dockerfile builds through scripts/setup.sh (cbtrade_build_main) into /src/build and runs build/cbtrade")

with open(os.path.join(TMP, "py_counts"), "w") as f:
    f.write("%d %d\n" % (passes, fails))
sys.exit(1 if fails else 0)
PY
py_rc=$?
if [ -s "$tmp/py_counts" ]; then
  read -r py_passed py_failed <"$tmp/py_counts"
  passed=$((passed + py_passed))
  failed=$((failed + py_failed))
fi
if [ "$py_rc" -ne 0 ] && [ "${py_failed:-0}" -eq 0 ]; then
  fail "structure and contract checks (python3) crashed (exit $py_rc)"
fi

if [ -s "$tmp/dashboard_exprs.yml" ]; then
  check "dashboard expressions are valid PromQL (promtool check rules)" \
    promtool check rules "$tmp/dashboard_exprs.yml"
else
  fail "dashboard expressions were not extracted"
fi

echo "monitoring config checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
