#!/usr/bin/env python3
"""A mixed hostile load on a perceiverd port, beside the normal clients of tools/qa/soak.sh (HOSTILE=1).

Each kind of abuse runs in its own thread, in a loop, for --duration seconds, from its own source address
(--source, 127.0.0.2 by default, so that per-client limits fall on it and not on the normal clients on
127.0.0.1). It never expects a success; it counts the answers it got per kind and prints them as one JSON
object at the end. Kinds:
  huge-body     declares a 60 MiB body, sends 1 MiB of it, then closes (the body budget refuses or drops it)
  gzip-bomb     64 KiB of gzip that inflates to 64 MiB (413)
  slow-headers  a header line every 2 s, 8 connections at a time (cut off by the read timeout)
  huge-shape    a V2 request declaring 2^32 elements with one value (400 before any data)
  bad-framing   Content-Length beside Transfer-Encoding, no Host, a broken percent-encoding (400)
  pipeline      20 pipelined requests to an unknown model, then a half-close (404s)
  conn-flood    as many idle connections as the per-client cap allows, held for a second (503 beyond)
Usage: tools/qa/hostile_load.py --port PORT --model NAME [--duration S] [--source ADDR]
Stdlib only: it runs without the tools venv.
"""
import argparse
import gzip
import json
import socket
import threading
import time

COUNTS = {}
LOCK = threading.Lock()


def count(kind, outcome):
    with LOCK:
        COUNTS.setdefault(kind, {})
        COUNTS[kind][outcome] = COUNTS[kind].get(outcome, 0) + 1


def connect(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    s.bind((args.source, 0))
    s.connect(("127.0.0.1", args.port))
    return s


def status_of(s):
    """The status of the first response on s, or a short error name."""
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                return "closed"
            data += chunk
    except OSError as error:
        return type(error).__name__
    line = data.split(b"\r\n", 1)[0].split()
    return line[1].decode() if len(line) > 1 else "garbage"


def exchange(args, kind, payload, half_close=False):
    try:
        s = connect(args)
    except OSError as error:
        count(kind, "connect:" + type(error).__name__)
        return
    with s:
        try:
            s.sendall(payload)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except OSError as error:
            count(kind, "send:" + type(error).__name__)
        count(kind, status_of(s))


def huge_body(args):
    head = ("POST /v2/models/%s/infer HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
            % (args.model, 60 << 20)).encode()
    try:
        s = connect(args)
    except OSError as error:
        count("huge-body", "connect:" + type(error).__name__)
        return
    with s:
        try:
            s.sendall(head)
            for _ in range(16):
                s.sendall(b"0" * 65536)
        except OSError as error:
            count("huge-body", "send:" + type(error).__name__)
            return
        count("huge-body", "sent 1 MiB of 60")


BOMB = gzip.compress(b"\0" * (64 << 20), 9)


def gzip_bomb(args):
    head = ("POST /v2/models/%s/infer HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
            % (args.model, len(BOMB))).encode()
    exchange(args, "gzip-bomb", head + BOMB)


def slow_headers(args):
    sockets = []
    try:
        for _ in range(8):
            s = connect(args)
            s.sendall(b"POST /v2/models/%s/infer HTTP/1.1\r\nHost: x\r\n" % args.model.encode())
            sockets.append(s)
        for _ in range(5):
            time.sleep(2)
            for s in sockets:
                s.sendall(b"X-Slow: 1\r\n")
        count("slow-headers", "held 10 s")
    except OSError as error:
        count("slow-headers", "cut off:" + type(error).__name__)
    finally:
        for s in sockets:
            s.close()


def huge_shape(args):
    body = json.dumps({"inputs": [{"name": "input_ids", "shape": [65536, 65536], "datatype": "INT64",
                                   "data": [1]}]}).encode()
    head = ("POST /v2/models/%s/infer HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
            % (args.model, len(body))).encode()
    exchange(args, "huge-shape", head + body)


def bad_framing(args):
    for payload in (b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                    b"GET /v2/health/ready HTTP/1.1\r\n\r\n",
                    b"GET /v2/models/%zz HTTP/1.1\r\nHost: x\r\n\r\n"):
        exchange(args, "bad-framing", payload)


def pipeline(args):
    request = b"GET /v2/models/nope HTTP/1.1\r\nHost: x\r\n\r\n"
    exchange(args, "pipeline", request * 20, half_close=True)


def conn_flood(args):
    held = []
    try:
        for _ in range(600):
            held.append(connect(args))
    except OSError as error:
        count("conn-flood", "connect:" + type(error).__name__)
    time.sleep(1)
    count("conn-flood", "held %d" % len(held))
    for s in held:
        s.close()


def loop(kind, function, args, deadline):
    while time.time() < deadline:
        try:
            function(args)
        except Exception as error:  # a hostile client must never stop on one odd answer
            count(kind, "error:" + type(error).__name__)
        time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--source", default="127.0.0.2")
    args = parser.parse_args()
    deadline = time.time() + args.duration
    kinds = {"huge-body": huge_body, "gzip-bomb": gzip_bomb, "slow-headers": slow_headers,
             "huge-shape": huge_shape, "bad-framing": bad_framing, "pipeline": pipeline, "conn-flood": conn_flood}
    threads = [threading.Thread(target=loop, args=(kind, function, args, deadline), daemon=True)
               for kind, function in kinds.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(args.duration + 30)
    print(json.dumps(COUNTS, sort_keys=True))


if __name__ == "__main__":
    main()
