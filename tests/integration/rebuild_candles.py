#!/usr/bin/env python3
"""Rebuilds candles from the trade lines `cbtrade feed` printed and compares them, as exact decimals,
with the candle CSV the simulator replayed.

  rebuild_candles.py CSV FEED_OUT STEP_SEC

Trade lines: "trade PRODUCT PRICE size=SIZE id=ID side=SIDE time_ns=NS [snapshot]". A trade id seen
twice (a snapshot after a reconnect repeats recent trades) is counted once. Each trade goes to the
candle starting at floor(time / STEP_SEC) * STEP_SEC; open is the earliest trade, close the latest
(ties by id), high and low the extremes, volume the exact decimal sum of the sizes. Every rebuilt
candle must equal the CSV row with that start time in all five values, and the rebuilt candles
must be the first N rows of the CSV, none missing.

Candle lines ("candle PRODUCT START OPEN HIGH LOW CLOSE VOLUME", from `cbtrade feed --candles`, i.e.
core/candle_builder) are checked the same way: consecutive CSV rows from the first, equal open,
high, low and close, and a volume equal at the CSV's 8 decimals (the builder sums doubles).

Prints one line per difference (at most 20) and exits 1 on any; prints "rebuilt N candles from T
trades, all equal" (and "candle lines: K, all equal" when there are some) and exits 0 otherwise.
"""
import csv
import sys
from decimal import Decimal


def main():
    csv_path, feed_out, step = sys.argv[1], sys.argv[2], int(sys.argv[3])
    trades = {}
    built = []
    for line in open(feed_out, encoding="utf-8"):
        parts = line.split()
        if parts and parts[0] == "candle":
            built.append((int(parts[2]), [Decimal(v) for v in parts[3:8]]))
            continue
        if not parts or parts[0] != "trade":
            continue
        fields = dict(p.split("=", 1) for p in parts[3:] if "=" in p)
        trade_id = int(fields["id"])
        record = (int(fields["time_ns"]), trade_id, Decimal(parts[2]), Decimal(fields["size"]))
        if trades.setdefault(trade_id, record) != record:
            print(f"trade {trade_id} seen twice with different values")
            return 1
    candles = {}
    for time_ns, trade_id, price, size in sorted(trades.values()):
        start = time_ns // 1_000_000_000 // step * step
        c = candles.get(start)
        if c is None:
            candles[start] = [price, price, price, price, size]
        else:
            c[1] = max(c[1], price)
            c[2] = min(c[2], price)
            c[3] = price
            c[4] += size
    rows = list(csv.DictReader(open(csv_path, encoding="utf-8")))
    expected = {int(r["time"]): [Decimal(r[k]) for k in ("open", "high", "low", "close", "volume")] for r in rows}
    order = [int(r["time"]) for r in rows][: len(candles)]
    problems = []
    if sorted(candles) != order:
        problems.append(f"rebuilt candle times {sorted(candles)[:5]}... are not the first {len(candles)} CSV rows")
    names = ("open", "high", "low", "close", "volume")
    for start, got in sorted(candles.items()):
        want = expected.get(start)
        if want is None:
            problems.append(f"candle {start}: not in the CSV")
            continue
        for name, g, w in zip(names, got, want):
            if g != w:
                problems.append(f"candle {start}: {name} rebuilt {g}, CSV {w}")
    times = [int(r["time"]) for r in rows]
    if [t for t, _ in built] != times[: len(built)]:
        problems.append(f"candle lines start at {[t for t, _ in built][:3]}..., not the first CSV rows")
    for start, got in built:
        want = expected.get(start)
        if want is None:
            continue
        got[4] = got[4].quantize(Decimal("0.00000001"))
        for name, g, w in zip(names, got, want):
            if g != w:
                problems.append(f"candle line {start}: {name} {g}, CSV {w}")
    for p in problems[:20]:
        print(p)
    if problems:
        return 1
    if not candles:
        print("no trade lines")
        return 1
    print(f"rebuilt {len(candles)} candles from {len(trades)} trades, all equal")
    if built:
        print(f"candle lines: {len(built)}, all equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
