#!/usr/bin/env python3
"""A tiny WebSocket client (standard library only) for the cbtrade-sim integration tests.

It connects to 127.0.0.1:<port> over TLS (trusting --ca) or plain TCP, performs the upgrade,
subscribes, reads until the server closes (answering close frames), checks the Coinbase Advanced
Trade message shapes, and prints one summary line of key=value pairs for the shell test to check.
"""
import argparse
import base64
import json
import os
import socket
import ssl
import struct
import sys
import time
from decimal import Decimal

TICKER_FIELDS = ("type", "product_id", "price", "volume_24_h", "low_24_h", "high_24_h", "low_52_w",
                 "high_52_w", "price_percent_chg_24_h", "best_bid", "best_bid_quantity", "best_ask",
                 "best_ask_quantity")


class Fail(Exception):
    pass


def open_socket(args):
    raw = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
    if args.plain:
        return raw
    ctx = ssl.create_default_context(cafile=args.ca)
    return ctx.wrap_socket(raw, server_hostname=args.host)


def upgrade(sock, host):
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(4096)
        if not data:
            raise Fail("connection closed during the upgrade")
        buf += data
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


class Frames:
    def __init__(self, sock, rest):
        self.sock, self.buf = sock, rest

    def _need(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buf += data
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read(self):
        b0, b1 = self._need(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._need(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._need(8))[0]
        if b1 & 0x80:
            raise Fail("server frame is masked")
        return b0, self._need(n)

    def send(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = bytes([0x80 | opcode, 0x80 | n])
        elif n < 65536:
            head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack(">H", n)
        else:
            head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload)))


def check_ticker_message(msg, stats):
    for ev in msg["events"]:
        if ev.get("type") not in ("snapshot", "update"):
            raise Fail(f"ticker event type {ev.get('type')!r}")
        if ev["type"] == "snapshot":
            stats["snapshots"] += 1
        for t in ev["tickers"]:
            for f in TICKER_FIELDS:
                if not isinstance(t.get(f), str):
                    raise Fail(f"ticker field {f} missing or not a string: {t}")
            if t["type"] != "ticker":
                raise Fail(f"ticker object type {t['type']!r}")
            price = Decimal(t["price"])
            if not Decimal(t["best_bid"]) <= price <= Decimal(t["best_ask"]):
                raise Fail(f"price outside best bid/ask: {t}")
            if not Decimal(t["low_24_h"]) <= price <= Decimal(t["high_24_h"]):
                raise Fail(f"price outside 24 h range: {t}")
            stats["ticks"] += 1
            stats["cents"] += int(price * 100)


def run(args):
    stats = {"ticks": 0, "cents": 0, "messages": 0, "heartbeats": 0, "hb_int": 0, "hb_str": 0, "acks": 0,
             "snapshots": 0, "gaps": 0, "errors": 0, "bad_json": 0, "bad_frame": 0, "close_code": "none",
             "eof": 0, "status": "", "first_seq": "none"}
    try:
        sock = open_socket(args)
    except ssl.SSLCertVerificationError as e:
        reason = str(e.verify_message).replace(" ", "_")
        print(f"tls=verify_failed reason={reason}")
        return 0
    head, rest = upgrade(sock, args.host)
    stats["status"] = head.split(" ", 2)[1]
    if stats["status"] != "101":
        print(f"tls=ok status={stats['status']} body_json={int(rest.strip().startswith(b'{'))}")
        return 0
    frames = Frames(sock, rest)
    if not args.no_subscribe:
        frames.send(1, json.dumps({"type": "subscribe", "channel": "heartbeats"}).encode())
        frames.send(1, json.dumps({"type": "subscribe", "channel": "ticker",
                                   "product_ids": args.products.split(",")}).encode())
    expected_seq = None
    started = time.monotonic()
    deadline = started + args.duration
    text = b""
    while time.monotonic() < deadline:
        try:
            b0, payload = frames.read()
        except (EOFError, ConnectionResetError, ssl.SSLError):
            stats["eof"] = 1
            break
        except socket.timeout:
            break
        if b0 & 0x70:
            stats["bad_frame"] = 1  # reserved bits without an extension: fail the connection
            break
        opcode = b0 & 0x0F
        if opcode == 8:
            code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
            stats["close_code"] = code
            try:
                frames.send(8, struct.pack(">H", 1000))
                sock.settimeout(2)
                while sock.recv(4096):  # the server closes the TCP connection after the handshake
                    pass
            except (OSError, ssl.SSLError):
                pass
            break
        if opcode == 9:
            frames.send(10, payload)
            continue
        if opcode in (1, 0):
            text += payload
            if not b0 & 0x80:
                continue
        else:
            continue
        data, text = text, b""
        try:
            msg = json.loads(data)
        except ValueError:
            stats["bad_json"] += 1
            continue
        if "channel" not in msg:
            if msg.get("type") == "error":
                stats["errors"] += 1
                continue
            raise Fail(f"message without channel: {msg}")
        for f, typ in (("client_id", str), ("timestamp", str), ("sequence_num", int), ("events", list)):
            if not isinstance(msg.get(f), typ):
                raise Fail(f"envelope field {f} missing or mistyped: {msg}")
        ts = msg["timestamp"]
        if len(ts) != 27 or ts[10] != "T" or ts[19] != "." or not ts.endswith("Z"):
            raise Fail(f"timestamp not RFC 3339 with microseconds: {ts}")
        seq = msg["sequence_num"]
        if expected_seq is None:
            stats["first_seq"] = seq
        elif seq != expected_seq:
            stats["gaps"] += 1
        expected_seq = seq + 1
        stats["messages"] += 1
        channel = msg["channel"]
        if channel == "ticker":
            check_ticker_message(msg, stats)
            if args.max_ticks and stats["ticks"] >= args.max_ticks:
                break
        elif channel == "heartbeats":
            stats["heartbeats"] += 1
            counter = msg["events"][0]["heartbeat_counter"]
            stats["hb_int" if isinstance(counter, int) else "hb_str"] += 1
        elif channel == "subscriptions":
            stats["acks"] += 1
    stats["elapsed_ms"] = int((time.monotonic() - started) * 1000)
    print("tls=ok " + " ".join(f"{k}={v}" for k, v in stats.items()))
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca")
    p.add_argument("--host", default="127.0.0.1", help="TLS server name to verify and Host header")
    p.add_argument("--plain", action="store_true")
    p.add_argument("--products", default="BTC-USD")
    p.add_argument("--no-subscribe", action="store_true")
    p.add_argument("--duration", type=float, default=20, help="stop reading after this many seconds")
    p.add_argument("--max-ticks", type=int, default=0, help="stop after this many ticker objects")
    p.add_argument("--timeout", type=float, default=10, help="socket timeout, seconds")
    args = p.parse_args()
    try:
        return run(args)
    except Fail as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
