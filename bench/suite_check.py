#!/usr/bin/env python3
"""Ratios of the latency suite and the 20% regression guard (bench/run_suite.sh runs this).

  suite_check.py --ratios FILE [--update] RESULT.json...

RESULT files are Google Benchmark JSON output, one per program and pass. For each benchmark the
best (lowest) p50_ns over the passes is taken, since other work on the machine only ever adds to
it, and the median of p99_ns, p99.9 and max; the ratios (see run_suite.sh) are compared with FILE's. Exit 1 when a
ratio is more than 20% above the stored one or a benchmark is missing or reported an error.
"""
import argparse
import json
import platform
import statistics
import sys

ALLOWED_REGRESSION = 1.20
RATIOS = {
    # name: (numerator benchmark, denominator benchmark, percentile, target)
    "ring_hop_vs_floor_p50": ("BM_ring_hop", "BM_cache_line_ping_pong", "p50_ns", 1.5),
    "ours_split_vs_baseline_p50": ("BM_feed_ours_split/50", "BM_feed_baseline/50", "p50_ns", 1 / 3),
    "ours_split_vs_baseline_p99": ("BM_feed_ours_split/50", "BM_feed_baseline/50", "p99_ns", 1 / 5),
    "ours_fused_vs_baseline_p50": ("BM_feed_ours_fused/50", "BM_feed_baseline/50", "p50_ns", 1 / 3),
    "ours_fused_vs_baseline_p99": ("BM_feed_ours_fused/50", "BM_feed_baseline/50", "p99_ns", 1 / 5),
}


def load(paths):
    runs = {}
    errors = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        for b in doc.get("benchmarks", []):
            if b.get("run_type") == "aggregate":
                continue
            name = b.get("run_name", b["name"]).replace("/iterations:1/real_time", "")
            if b.get("error_occurred"):
                errors.append(f"{name}: {b.get('error_message', 'error')}")
                continue
            runs.setdefault(name, []).append(b)
    return runs, errors


def figure(runs, name, counter):
    values = [r[counter] for r in runs.get(name, []) if counter in r]
    if not values:
        return None
    return min(values) if counter == "p50_ns" else statistics.median(values)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ratios", required=True)
    p.add_argument("--update", action="store_true")
    p.add_argument("results", nargs="+")
    args = p.parse_args()
    runs, errors = load(args.results)
    for e in errors:
        print(f"benchmark error: {e}", file=sys.stderr)

    figures = {}
    for name in sorted(runs):
        figures[name] = {c: figure(runs, name, c) for c in ("p50_ns", "p99_ns", "p999_ns", "max_ns")}
    print(f"{'benchmark':34} {'p50 ns':>10} {'p99 ns':>10} {'p99.9 ns':>10} {'max ns':>12}   (p50: best pass; others: median)")
    for name, f in figures.items():
        cells = [f"{f[c]:10.0f}" if f[c] is not None else f"{'-':>10}" for c in ("p50_ns", "p99_ns", "p999_ns")]
        mx = f"{f['max_ns']:12.0f}" if f["max_ns"] is not None else f"{'-':>12}"
        print(f"{name:34} {' '.join(cells)} {mx}")

    current = {}
    missing = []
    for ratio, (num, den, counter, _) in RATIOS.items():
        a, b = figure(runs, num, counter), figure(runs, den, counter)
        if a is None or b is None or b == 0:
            missing.append(ratio)
            continue
        current[ratio] = a / b

    stored = {}
    try:
        with open(args.ratios, encoding="utf-8") as f:
            stored = json.load(f).get("ratios", {})
    except FileNotFoundError:
        if not args.update:
            print(f"no stored ratios at {args.ratios}: run with --update to make them", file=sys.stderr)
            return 1

    regressions = []
    print(f"\n{'ratio':30} {'now':>8} {'stored':>8} {'change':>8} {'target':>8}")
    for ratio, (_, _, _, target) in RATIOS.items():
        now = current.get(ratio)
        ref = stored.get(ratio)
        if now is None:
            print(f"{ratio:30} {'-':>8}")
            continue
        change = f"{(now / ref - 1) * 100:+7.1f}%" if ref else f"{'-':>8}"
        verdict = "meets target" if now <= target else "misses target"
        if ref and now > ref * ALLOWED_REGRESSION:
            verdict = f"REGRESSION (> {ALLOWED_REGRESSION:.2f}x stored)"
            regressions.append(ratio)
        print(f"{ratio:30} {now:8.3f} {ref if ref else float('nan'):8.3f} {change} {target:8.3f}  {verdict}")

    if args.update:
        doc = {
            "comment": "Reference ratios for bench/run_suite.sh (p50: best pass, p99: median of passes). "
                       "A ratio more than 20% above these fails the suite.",
            "machine": f"{platform.machine()} {platform.node()} {platform.processor()}".strip(),
            "ratios": {k: round(v, 4) for k, v in current.items()},
            "figures_ns": {k: {c: round(v) if v is not None else None for c, v in f.items()}
                           for k, f in figures.items()},
        }
        with open(args.ratios, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, sort_keys=True)
            f.write("\n")
        print(f"\nwrote {args.ratios}")
    if errors or missing:
        print(f"missing ratios: {', '.join(missing) or 'none'}", file=sys.stderr)
        return 1
    if regressions:
        print(f"\nregressed more than 20%: {', '.join(regressions)}", file=sys.stderr)
        return 1
    print("\nno ratio regressed more than 20%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
