#!/usr/bin/env python3
"""One forward pass over HTTP: perceiverd's end-to-end time for the reference benchmark's masked-LM request.

tools/bench/bench_reference.sh starts `perceiverd serve` with the language checkpoint and runs this once it is
ready; the time is the client's, from the first byte of the request to the last byte of the answer, so it holds
the whole serving path (HTTP read and parse, the queue, the pass, encoding the logits, writing them) plus
loopback. Standard library only.

    bench_http.py --port PORT --model NAME --batch B --sequence S --runs N [--config NAME]

The request is a KServe V2 binary-tensor request (docs/api.md, binary tensor data) of `input_ids` INT64 (B, S),
the reference benchmark's deterministic ids `6 + ((b*S + i) * 7919) % 256` (bench_reference.py), no mask (all
ones) and no output_positions, so every position is decoded; the answer is `logits` FP32 (B, S, 262) as binary.
One warm-up request, then N timed ones on one keep-alive connection; prints one JSON line (engine
"perceiverd-http"): median, min and max ms and the argmax of the first row's first 64 positions (the field
the report compares across engines). Exits 1, naming it, on any non-200 answer or a malformed one.
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import struct
import sys
import time

from bench_common import positive


def request_body(batch: int, sequence: int) -> tuple[bytes, int]:
    """The binary V2 request and the length of its JSON header."""
    ids = [6 + ((b * sequence + i) * 7919) % 256 for b in range(batch) for i in range(sequence)]
    data = struct.pack(f"<{len(ids)}q", *ids)
    header = json.dumps({
        "inputs": [{"name": "input_ids", "datatype": "INT64", "shape": [batch, sequence],
                    "parameters": {"binary_data_size": len(data)}}],
        "outputs": [{"name": "logits", "parameters": {"binary_data": True}}],
    }).encode()
    return header + data, len(header)


def infer(connection: http.client.HTTPConnection, path: str, body: bytes, header_length: int) -> bytes:
    """One request; the answer's body (JSON header then the logits' bytes)."""
    connection.request("POST", path, body=body, headers={
        "Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(header_length)})
    response = connection.getresponse()
    answer = response.read()
    if response.status != 200:
        sys.exit(f"bench_http.py: HTTP {response.status}: {answer[:500]!r}")
    length = response.getheader("Inference-Header-Content-Length")
    if length is None:
        sys.exit("bench_http.py: the answer has no Inference-Header-Content-Length (not binary)")
    return answer, int(length)


def top1(answer: bytes, header_length: int, sequence: int) -> list[int]:
    """Argmax over the vocabulary at the first row's first 64 positions."""
    header = json.loads(answer[:header_length])
    output = header["outputs"][0]
    width = output["shape"][-1]
    if output["name"] != "logits" or output["datatype"] != "FP32" or output["shape"][1] != sequence:
        sys.exit(f"bench_http.py: unexpected output {output}")
    logits = answer[header_length:]
    best = []
    for row in range(min(64, sequence)):
        values = struct.unpack_from(f"<{width}f", logits, row * width * 4)
        best.append(max(range(width), key=values.__getitem__))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=positive, required=True)
    parser.add_argument("--model", required=True, help="the model's name in the daemon's URLs")
    parser.add_argument("--batch", type=positive, default=1)
    parser.add_argument("--sequence", type=positive, default=2048)
    parser.add_argument("--runs", type=positive, default=5)
    parser.add_argument("--config", default=None, help="the config name the report groups by (default: --model)")
    args = parser.parse_args()
    body, header_length = request_body(args.batch, args.sequence)
    path = f"/v2/models/{args.model}/infer"
    connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=600)
    answer, length = infer(connection, path, body, header_length)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        answer, length = infer(connection, path, body, header_length)
        times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({
        "engine": "perceiverd-http", "config": args.config or args.model, "batch": args.batch, "mode": "f32",
        "runs": args.runs, "median_ms": round(statistics.median(times), 2), "min_ms": round(min(times), 2),
        "max_ms": round(max(times), 2), "request_bytes": len(body), "answer_bytes": len(answer),
        "top1": top1(answer, length, args.sequence),
    }))


if __name__ == "__main__":
    main()
