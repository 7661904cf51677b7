#!/usr/bin/env python3
"""Ratios of the latency suite and the 20% regression guard (bench/run_suite.sh runs this).

  suite_check.py --ratios FILE [--update] RESULT.json...

RESULT files are Google Benchmark JSON output, one per program and pass. For each benchmark the
best (lowest) p50 over the passes is taken, since other work on the machine only ever adds to it,
and the median of p99, p99.9 and max. The ratios (see RATIOS) are compared with FILE's.
Exit 1 when a ratio is more than 20% above the stored one, when a hot thread allocated in the
measured window (hot_allocs > 0 in any pass), or when a benchmark is missing or reported an error.
A missed target is reported, not failed: the stored file is this machine's reference.
"""
import argparse
import json
import platform
import statistics
import sys

ALLOWED_REGRESSION = 1.20
OURS = ("fused_spin", "fused_yield", "split_spin", "split_yield")
RATIOS = {
    # name: (numerator benchmark, denominator benchmark, percentile, target)
    "ring_hop_vs_floor_p50": ("BM_ring_hop", "BM_cache_line_ping_pong", "p50_ns", 1.5),
}
for v in OURS:
    # Tick to decision (from the completion that brought the bytes), then exchange send to decision.
    RATIOS[f"{v}_vs_baseline_rx_p50"] = (f"BM_t2d/{v}", "BM_t2d/baseline", "rx_p50_ns", 1 / 3)
    RATIOS[f"{v}_vs_baseline_rx_p99"] = (f"BM_t2d/{v}", "BM_t2d/baseline", "rx_p99_ns", 1 / 5)
    RATIOS[f"{v}_vs_baseline_p50"] = (f"BM_t2d/{v}", "BM_t2d/baseline", "p50_ns", 1 / 3)
    RATIOS[f"{v}_vs_baseline_p99"] = (f"BM_t2d/{v}", "BM_t2d/baseline", "p99_ns", 1 / 5)
ZERO_ALLOCATIONS = tuple(f"BM_t2d/{v}" for v in OURS)
PERCENTILES = ("p50_ns", "p99_ns", "p999_ns", "max_ns")


def load(paths):
    runs = {}
    errors = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        for b in doc.get("benchmarks", []):
            if b.get("run_type") == "aggregate":
                continue
            name = b.get("run_name", b["name"]).replace("/iterations:1", "").replace("/real_time", "")
            if b.get("error_occurred"):
                errors.append(f"{name}: {b.get('error_message', 'error')}")
                continue
            runs.setdefault(name, []).append(b)
    return runs, errors


def figure(runs, name, counter):
    values = [r[counter] for r in runs.get(name, []) if counter in r]
    if not values:
        return None
    return min(values) if counter.endswith("p50_ns") else statistics.median(values)


def cell(v, width=10):
    return f"{v:{width}.0f}" if v is not None else f"{'-':>{width}}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ratios", required=True)
    p.add_argument("--update", action="store_true")
    p.add_argument("--mode", default="priority", help="how run_suite.sh ran the programs (priority or share)")
    p.add_argument("results", nargs="+")
    args = p.parse_args()
    runs, errors = load(args.results)
    for e in errors:
        print(f"benchmark error: {e}", file=sys.stderr)

    figures = {}
    for name in sorted(runs):
        figures[name] = {c: figure(runs, name, c) for c in PERCENTILES}
        figures[name].update({"rx_" + c: figure(runs, name, "rx_" + c) for c in PERCENTILES})
    passes = max((len(v) for v in runs.values()), default=0)
    print(f"one-way / send-to-decision latency, ns, {passes} passes (p50: best pass; others: median)")
    print(f"{'benchmark':33} {'p50':>10} {'p99':>10} {'p99.9':>10} {'max':>12}")
    for name, f in figures.items():
        label = name if f["rx_p50_ns"] is None else name + " (send)"
        print(f"{label:33} {cell(f['p50_ns'])} {cell(f['p99_ns'])} {cell(f['p999_ns'])} {cell(f['max_ns'], 12)}")
        if f["rx_p50_ns"] is not None:
            print(f"{name + ' (rx)':33} {cell(f['rx_p50_ns'])} {cell(f['rx_p99_ns'])} "
                  f"{cell(f['rx_p999_ns'])} {cell(f['rx_max_ns'], 12)}")

    allocation_failures = []
    for name in ZERO_ALLOCATIONS:
        counts = [r.get("hot_allocs") for r in runs.get(name, [])]
        if any(c is None or c != 0 for c in counts):
            allocation_failures.append(f"{name}: hot_allocs {counts}")
        else:
            print(f"{name}: 0 heap allocations on the hot threads in each pass's measured window")

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
            reference = json.load(f)
        stored = reference.get("ratios", {})
        if reference.get("mode", "priority") != args.mode:
            print(f"warning: the reference was measured in mode {reference.get('mode')}, this run in {args.mode}",
                  file=sys.stderr)
    except FileNotFoundError:
        if not args.update:
            print(f"no stored ratios at {args.ratios}: run with --update to make them", file=sys.stderr)
            return 1

    regressions = []
    print(f"\n{'ratio':34} {'now':>8} {'stored':>8} {'change':>8} {'target':>8}")
    for ratio, (_, _, _, target) in RATIOS.items():
        now = current.get(ratio)
        ref = stored.get(ratio)
        if now is None:
            print(f"{ratio:34} {'-':>8}")
            continue
        change = f"{(now / ref - 1) * 100:+7.1f}%" if ref else f"{'-':>8}"
        verdict = "meets target" if now <= target else "misses target"
        if ref and now > ref * ALLOWED_REGRESSION:
            verdict = f"REGRESSION (> {ALLOWED_REGRESSION:.2f}x stored)"
            regressions.append(ratio)
        print(f"{ratio:34} {now:8.3f} {ref if ref else float('nan'):8.3f} {change} {target:8.3f}  {verdict}")

    if args.update and not errors and not missing and not allocation_failures:
        doc = {
            "comment": "Reference ratios for bench/run_suite.sh (p50: best pass, others: median of passes). "
                       "A ratio more than 20% above these fails the suite.",
            "machine": f"{platform.machine()} {platform.node()} {platform.processor()}".strip(),
            "passes": passes,
            "mode": args.mode,
            "ratios": {k: round(v, 4) for k, v in current.items()},
            "figures_ns": {k: {c: round(v) for c, v in f.items() if v is not None} for k, f in figures.items()},
        }
        with open(args.ratios, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, sort_keys=True)
            f.write("\n")
        print(f"\nwrote {args.ratios}")
    failed = False
    if errors or missing:
        print(f"missing ratios: {', '.join(missing) or 'none'}", file=sys.stderr)
        failed = True
    if allocation_failures:
        print("hot threads allocated: " + "; ".join(allocation_failures), file=sys.stderr)
        failed = True
    if regressions:
        print(f"\nregressed more than 20%: {', '.join(regressions)}", file=sys.stderr)
        failed = True
    if failed:
        return 1
    print("\nno ratio regressed more than 20%; no hot-thread allocation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
