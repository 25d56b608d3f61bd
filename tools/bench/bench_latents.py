#!/usr/bin/env python3
"""The client side of tools/bench/bench_latents.sh: perceiverd's latent cache (issue 20), end to end over HTTP.

Each measurement subcommand talks to one running perceiverd (KServe V2 with Triton binary tensor data, one
keep-alive connection per client, `X-Request-ID` on every request) and prints one JSON line on stdout; progress
goes to stderr. With --log (the daemon's stderr) every timed request is joined to its log line by request id, so
each record also has the daemon's own `duration.ms` (from the request's first byte to its response) and where
its latents came from (`latents=hit|miss|explicit`). Each series of requests is also bracketed by the daemon's
/metrics: how perceiverd_latent_cache_lookups_total{result="miss"|"hit"} and
perceiverd_encoder_passes_saved_total moved over it, against what they should (uncached: one miss per request;
cached: one hit and one pass saved per request; by latents_id: one pass saved per request, no lookup). A target
passes only when the labels and the counters are as expected.

    flow        --url URL --model NAME --runs N --cached-runs M --pixels P [--log FILE]
        One warm-up request on frame pair A (a miss: its latents are cached), then N requests each on new random
        frames (misses: uncached), then M on pair A again with new pixels (hits: cached), then M naming A's
        latents_id with only output_positions (explicit). frames (1, 2, 3, H, W) FP32 and output_positions
        (1, P) INT64, both as binary tensor data.
    language    --url URL --model NAME --runs N --cached-runs M --tokens T --positions K [--log FILE]
        The same with input_ids (1, T) INT64 (random bytes between [CLS] and [SEP]) and K output_positions.
    multimodal  --url URL --uncached-url URL0 --model NAME [--log FILE] [--uncached-log FILE0] --chunks C
                --uncached-chunks KU --cached-chunks KC --by-id-chunks KI
        DeepMind's chunked decoding loop (transformers' PerceiverForMultimodalAutoencoding docstring): one clip
        of 16 x 224 x 224 video, 30,720 x 1 audio and a 700-label vector, decoded in C chunks, chunk i asking
        for image points [i*S, (i+1)*S) (S = 16*224*224 / C), audio patches [i*A, (i+1)*A) (A = 1920 / C) and
        the label, every call sending the full inputs. URL0 serves the model with latent_cache_mib 0, URL
        with the cache. After one unmeasured warm-up call on each, the loop runs on both daemons alternately
        (chunk i on URL0, then chunk i on URL; one request at a time), KU chunks on URL0 and KC on URL, so
        that the chunks both loops time see the same load. Then KI chunks of another clip on URL by latents_id
        (chunk 1 sends the clip; the others name its latents_id). A loop with fewer than C timed chunks has
        its total extrapolated: without the cache C x the mean chunk; with it chunk 1 (the encode) plus
        C - 1 times the mean of the others. Three JSON lines: uncached, cached, by-id.
    memory      --url URL --model NAME --pid PID --clients N --duration S --tokens T --cache-mib M
                --weights-mib W --budget-mib B
        N concurrent clients, each sending language requests with distinct random texts (T tokens, 3 output
        positions) for S seconds, while the daemon's VmRSS (/proc/PID/status) is sampled every 0.1 s and
        perceiverd_latent_cache_bytes every 0.5 s. At S seconds the clients shut their connections, abandoning
        the requests still queued (the daemon drops them; a pass already running finishes, and sampling goes
        on until perceiverd_inference_in_flight is 0). Reports the peak RSS and VmHWM against M + W + B MiB
        and the cache's bytes against M MiB.
    weights-mib MODEL_DIR
        Parameters x 4 bytes, in MiB, from model.safetensors' header (the f32 weights the daemon holds).
    report      FILE.jsonl [--host-line TEXT]
        The report: one table per scenario (and the in-process records of `PerceiverBench latents`, which
        bound what a cached request can gain), then each target with PASS or FAIL.

Needs numpy (the .venv of `make venv`); the rest is the standard library.
"""
from __future__ import annotations

import argparse
import http.client
import json
import re
import socket
import statistics
import struct
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench_common import positive

# The issue's targets: uncached over cached, medians or loop totals.
TARGET_FLOW = 20.0
TARGET_LANGUAGE = 10.0
TARGET_MULTIMODAL = 8.0

CLS, SEP, BYTE_OFFSET = 4, 5, 6          # PerceiverTokenizer: [CLS], [SEP], byte b -> id b + 6
DATATYPES = {np.dtype(np.float32): "FP32", np.dtype(np.int64): "INT64"}
NUMPY_TYPES = {"FP32": np.float32, "INT64": np.int64}


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- HTTP ----

@dataclass
class Reply:
    """One inference response: its JSON header, outputs by name, and the client's wall time."""
    header: dict
    outputs: dict[str, np.ndarray]
    seconds: float
    request_id: str
    bytes_sent: int

    @property
    def latents_id(self) -> str | None:
        return (self.header.get("parameters") or {}).get("latents_id")


class Client:
    """One keep-alive connection to perceiverd; requests carry binary tensor data and ask for binary outputs."""

    def __init__(self, url: str, timeout: float = 600.0, tag: str = "bench"):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self.tag = tag
        self.count = 0
        self.connection: http.client.HTTPConnection | None = None
        self.idle_since = 0.0

    def _connect(self) -> http.client.HTTPConnection:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.connection.connect()
            self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.connection

    def _exchange(self, method: str, path: str, body: bytes | None = None,
                  headers: dict[str, str] | None = None) -> tuple[http.client.HTTPResponse, bytes]:
        """One request and its answer. A kept-alive connection the daemon closed while it sat idle (its
        keep-alive timeout passes while this client waits on another daemon, as the multimodal loops do) fails
        before any answer: it is opened again and the request sent once more."""
        for attempt in (0, 1):
            reused = self.connection is not None
            connection = self._connect()
            try:
                connection.request(method, path, body=body, headers=headers or {})
                response = connection.getresponse()
                return response, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if not reused or attempt == 1:
                    raise
            except (OSError, http.client.HTTPException):
                self.close()
                raise
        raise AssertionError("unreachable")

    def get(self, path: str) -> bytes:
        response, body = self._exchange("GET", path)
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        return body

    def infer(self, model: str, inputs: dict[str, np.ndarray], parameters: dict | None = None) -> Reply:
        """POST /v2/models/MODEL/infer with every input as binary tensor data; raises on a non-200 answer."""
        self.count += 1
        request_id = f"{self.tag}-{self.count}"
        header = {"id": request_id,
                  "parameters": {"binary_data_output": True, **(parameters or {})},
                  "inputs": [{"name": name, "shape": list(array.shape), "datatype": DATATYPES[array.dtype],
                              "parameters": {"binary_data_size": array.nbytes}}
                             for name, array in inputs.items()]}
        head = json.dumps(header, separators=(",", ":")).encode()
        body = b"".join([head] + [np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
                                  for array in inputs.values()])
        headers = {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(head)),
                   "X-Request-ID": request_id}
        if self.connection is not None and self.idle_since and time.monotonic() - self.idle_since > 1:
            # Kept alive but idle for a while: the daemon may have closed it, and a reconnect must not be timed.
            self.close()
        start = time.perf_counter()
        response, data = self._exchange("POST", f"/v2/models/{model}/infer", body, headers)
        seconds = time.perf_counter() - start
        self.idle_since = time.monotonic()
        if response.status != 200:
            raise RuntimeError(f"{model} infer ({request_id}): {response.status} {data[:500]!r}")
        return Reply(*parse_response(data, response.getheader("Inference-Header-Content-Length")),
                     seconds=seconds, request_id=request_id, bytes_sent=len(body))

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def abort(self) -> None:
        """From another thread: shuts the connection down, so that a request waiting for its answer ends at
        once (the daemon drops a request whose client has left while it is queued)."""
        connection = self.connection
        try:
            if connection is not None and connection.sock is not None:
                connection.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def parse_response(data: bytes, header_length: str | None) -> tuple[dict, dict[str, np.ndarray]]:
    """A V2 response body: the JSON header and each output as an array (binary or JSON data)."""
    length = int(header_length) if header_length is not None else len(data)
    header = json.loads(data[:length])
    outputs, offset = {}, length
    for output in header.get("outputs", []):
        dtype = np.dtype(NUMPY_TYPES[output["datatype"]]).newbyteorder("<")
        size = (output.get("parameters") or {}).get("binary_data_size")
        if size is None:
            values = np.asarray(output["data"], dtype=dtype)
        else:
            values = np.frombuffer(data, dtype=dtype, count=size // dtype.itemsize, offset=offset)
            offset += size
        outputs[output["name"]] = values.reshape(output["shape"])
    return header, outputs


def input_shape(client: Client, model: str, name: str) -> list[int]:
    """The shape GET /v2/models/MODEL gives input NAME (dies naming the inputs there are when it has none)."""
    metadata = json.loads(client.get(f"/v2/models/{model}"))
    shapes = {spec["name"]: spec["shape"] for spec in metadata["inputs"]}
    if name not in shapes:
        raise SystemExit(f"{model} has no input {name!r} (its inputs: {', '.join(shapes)})")
    return shapes[name]


# ---- The daemon's log ----

LOG_FIELD = re.compile(r"(\S+)=(\S+)")


def server_records(log: Path | None, request_ids: list[str], wait: float = 5.0) -> dict[str, dict]:
    """The daemon's log line of each request id: {"ms": duration.ms, "latents": hit|miss|explicit|"", ...}."""
    if log is None:
        return {}
    wanted, found = set(request_ids), {}
    deadline = time.monotonic() + wait
    while True:
        for line in log.read_text(errors="replace").splitlines():
            if "request.id=" not in line or "duration.ms=" not in line:
                continue
            fields = dict(LOG_FIELD.findall(line))
            if fields.get("request.id") in wanted:
                found[fields["request.id"]] = {"ms": float(fields["duration.ms"]),
                                               "latents": fields.get("latents", ""),
                                               "bytes_in": int(fields.get("bytes.in", 0))}
        if len(found) == len(wanted) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def cache_counters(client: Client, model: str) -> dict[str, float]:
    """The daemon's latent-cache counters for MODEL: lookups by encoder inputs (miss, hit) and requests answered
    without an encoder pass (saved: hits, latents_id, a latents input); 0 where absent (the cache off)."""
    text = client.get("/metrics").decode()
    lookups = "perceiverd_latent_cache_lookups_total"
    return {"miss": metric_with(text, lookups, model, 'result="miss"') or 0.0,
            "hit": metric_with(text, lookups, model, 'result="hit"') or 0.0,
            "saved": metric(text, "perceiverd_encoder_passes_saved_total", model) or 0.0}


@dataclass
class Series:
    """Timed requests of one kind, with what the daemon said about each: its log line's latents label, and how
    its latent-cache counters moved over the series (`counted`) against what they should."""
    mode: str
    expected: str                      # the latents label each should have: miss, hit or explicit
    replies: list[Reply] = field(default_factory=list)
    counters: dict[str, float] | None = None
    expected_counters: dict[str, float] | None = None

    def counted(self, client: Client, model: str, expected: dict[str, float], run) -> None:
        """Runs RUN() (the series' requests), recording the counters' change on CLIENT's daemon."""
        before = cache_counters(client, model)
        run()
        after = cache_counters(client, model)
        self.counters = {name: after[name] - before[name] for name in after}
        self.expected_counters = expected

    def record(self, server: dict[str, dict]) -> dict:
        client_ms = [reply.seconds * 1000 for reply in self.replies]
        logged = [server.get(reply.request_id) for reply in self.replies]
        server_ms = [entry["ms"] for entry in logged if entry]
        labels = [entry["latents"] if entry else "?" for entry in logged]
        return {"mode": self.mode, "expected": self.expected, "runs": len(client_ms),
                "client_ms": [round(ms, 2) for ms in client_ms], "server_ms": [round(ms, 2) for ms in server_ms],
                "median_client_ms": statistics.median(client_ms) if client_ms else None,
                "median_server_ms": statistics.median(server_ms) if server_ms else None,
                "latents": labels, "labels_as_expected": all(label == self.expected for label in labels),
                "counters": self.counters, "expected_counters": self.expected_counters,
                "counters_as_expected": self.counters is not None and self.counters == self.expected_counters,
                "bytes_sent": self.replies[0].bytes_sent if self.replies else 0}


def timed(series: Series, what: str, call) -> Reply:
    reply = call()
    series.replies.append(reply)
    progress(f"  {series.mode} {len(series.replies)} ({what}): {reply.seconds * 1000:.1f} ms")
    return reply


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


# ---- Optical flow and language: uncached, cached, by id ----

def query_scenario(args: argparse.Namespace, scenario: str, encoder_inputs, selection) -> None:
    """The flow and language runs: ENCODER_INPUTS(seed) -> dict, SELECTION(rng) -> dict of output inputs."""
    client = Client(args.url, tag=f"{scenario}")
    rng = np.random.default_rng(args.seed)
    seen = encoder_inputs(0)
    progress(f"{scenario}: warm-up on the inputs the cached runs reuse")
    warm = client.infer(args.model, {**seen, **selection(rng)})
    if not warm.latents_id:
        raise SystemExit(f"{scenario}: the response has no parameters.latents_id: is the latent cache off?")
    uncached = Series("uncached", "miss")
    cached = Series("cached", "hit")
    by_id = Series("by latents_id", "explicit")
    # Each series is bracketed by the daemon's cache counters: every uncached request a miss, every cached one
    # a hit, every one by id a request without an encoder pass and no lookup.
    uncached.counted(client, args.model, {"miss": args.runs, "hit": 0, "saved": 0}, lambda: [
        timed(uncached, "new inputs", lambda: client.infer(args.model, {**encoder_inputs(run + 1), **selection(rng)}))
        for run in range(args.runs)])
    cached.counted(client, args.model, {"miss": 0, "hit": args.cached_runs, "saved": args.cached_runs}, lambda: [
        timed(cached, "same inputs, new outputs", lambda: client.infer(args.model, {**seen, **selection(rng)}))
        for _ in range(args.cached_runs)])
    by_id.counted(client, args.model, {"miss": 0, "hit": 0, "saved": args.cached_runs}, lambda: [
        timed(by_id, "latents_id only", lambda: client.infer(args.model, selection(rng),
                                                             {"latents_id": warm.latents_id}))
        for _ in range(args.cached_runs)])
    client.close()
    server = server_records(args.log, [r.request_id for s in (uncached, cached, by_id) for r in s.replies])
    rows = [series.record(server) for series in (uncached, cached, by_id)]
    outputs = {name: list(array.shape) for name, array in warm.outputs.items()}
    emit({"scenario": scenario, "model": args.model, "outputs": outputs, "rows": rows, **args.describe})


def flow(args: argparse.Namespace) -> None:
    client = Client(args.url)
    # The model's train_size is its flow output's (frames of any larger size are tiled, so their metadata shape
    # is [-1, 2, 3, -1, -1]).
    metadata = json.loads(client.get(f"/v2/models/{args.model}"))
    client.close()
    height, width = metadata["outputs"][0]["shape"][1:3]
    if args.pixels > height * width:
        raise SystemExit(f"--pixels {args.pixels}: the frames have {height * width}")

    def frames(seed: int) -> dict[str, np.ndarray]:
        generator = np.random.default_rng([args.seed, seed])
        return {"frames": generator.uniform(-1, 1, (1, 2, 3, height, width)).astype(np.float32)}

    def pixels(rng: np.random.Generator) -> dict[str, np.ndarray]:
        chosen = np.sort(rng.choice(height * width, args.pixels, replace=False)).astype(np.int64)
        return {"output_positions": chosen.reshape(1, -1)}

    args.describe = {"geometry": [height, width], "pixels": args.pixels}
    query_scenario(args, "flow", frames, pixels)


def language(args: argparse.Namespace) -> None:
    if args.positions > args.tokens - 2:
        raise SystemExit(f"--positions {args.positions}: at most --tokens - 2")

    def text(seed: int) -> dict[str, np.ndarray]:
        return {"input_ids": random_text(np.random.default_rng([args.seed, seed]), args.tokens)}

    def positions(rng: np.random.Generator) -> dict[str, np.ndarray]:
        chosen = 1 + np.sort(rng.choice(args.tokens - 2, args.positions, replace=False)).astype(np.int64)
        return {"output_positions": chosen.reshape(1, -1)}

    args.describe = {"tokens": args.tokens, "positions": args.positions}
    query_scenario(args, "language", text, positions)


def random_text(rng: np.random.Generator, tokens: int) -> np.ndarray:
    """input_ids (1, TOKENS): [CLS], random bytes, [SEP]."""
    ids = rng.integers(BYTE_OFFSET, BYTE_OFFSET + 256, size=tokens, dtype=np.int64)
    ids[0], ids[-1] = CLS, SEP
    return ids.reshape(1, -1)


# ---- Multimodal: DeepMind's chunked decoding loop ----

def multimodal(args: argparse.Namespace) -> None:
    cached = Client(args.url, tag="multimodal-cached")
    uncached = Client(args.uncached_url, tag="multimodal-uncached")
    for client in (cached, uncached):
        for name in ("image", "audio", "label", "output_positions_image", "output_positions_audio",
                     "output_positions_label"):
            input_shape(client, args.model, name)
    frames, size, samples, patch, labels = 16, 224, 30720, 16, 700

    def clip(seed: int) -> dict[str, np.ndarray]:
        generator = np.random.default_rng([args.seed, seed])
        return {"image": generator.standard_normal((1, frames, 3, size, size), dtype=np.float32),
                "audio": generator.standard_normal((1, samples, 1), dtype=np.float32),
                "label": np.zeros((1, labels), dtype=np.float32)}

    image_chunk = frames * size * size // args.chunks
    audio_chunk = samples // patch // args.chunks

    def chunk(index: int) -> dict[str, np.ndarray]:
        return {"output_positions_image": np.arange(index * image_chunk, (index + 1) * image_chunk,
                                                    dtype=np.int64).reshape(1, -1),
                "output_positions_audio": np.arange(index * audio_chunk, (index + 1) * audio_chunk,
                                                    dtype=np.int64).reshape(1, -1),
                "output_positions_label": np.zeros((1, 1), dtype=np.int64)}

    progress("multimodal: one warm-up call on each daemon, each on a clip of its own")
    uncached.infer(args.model, {**clip(100), **chunk(0)})
    cached.infer(args.model, {**clip(101), **chunk(0)})
    # The two loops alternate, one request at a time, for as long as both run: chunks 1..window of each see
    # the same load from the rest of the machine.
    inputs = clip(0)
    without, with_cache = Series("uncached", ""), Series("cached", "hit")
    uncached_chunks, cached_chunks = min(args.uncached_chunks, args.chunks), min(args.cached_chunks, args.chunks)
    def interleave() -> None:
        for index in range(max(uncached_chunks, cached_chunks)):
            what = f"chunk {index + 1} of {args.chunks}"
            if index < uncached_chunks:
                timed(without, what, lambda i=index: uncached.infer(args.model, {**inputs, **chunk(i)}))
            if index < cached_chunks:
                timed(with_cache, what, lambda i=index: cached.infer(args.model, {**inputs, **chunk(i)}))

    # The cache counters bracket each loop: the daemon without the cache counts nothing; with it, chunk 1 is
    # a miss and every other chunk a hit (by id: chunk 1 a miss, the others no lookup), each without an
    # encoder pass.
    before = cache_counters(uncached, args.model)
    with_cache.counted(cached, args.model, {"miss": 1, "hit": cached_chunks - 1, "saved": cached_chunks - 1},
                       interleave)
    after = cache_counters(uncached, args.model)
    without.counters = {name: after[name] - before[name] for name in after}
    without.expected_counters = {"miss": 0, "hit": 0, "saved": 0}
    # By latents_id: another clip, sent once; the other chunks name its latents.
    by_id = Series("by-id", "explicit")
    other = clip(2)
    by_id_chunks = min(args.by_id_chunks, args.chunks)
    first: list[Reply] = []

    def by_id_loop() -> None:
        first.append(timed(by_id, "chunk 1, full inputs", lambda: cached.infer(args.model, {**other, **chunk(0)})))
        for index in range(1, by_id_chunks):
            timed(by_id, f"chunk {index + 1} of {args.chunks}",
                  lambda i=index: cached.infer(args.model, chunk(i), {"latents_id": first[0].latents_id}))
    by_id.counted(cached, args.model, {"miss": 1, "hit": 0, "saved": by_id_chunks - 1}, by_id_loop)
    cached.close()
    uncached.close()

    window = min(uncached_chunks, cached_chunks)
    shared = {"scenario": "multimodal", "model": args.model, "chunks": args.chunks, "window_chunks": window,
              "image_points_per_chunk": image_chunk, "audio_patches_per_chunk": audio_chunk,
              "outputs": {name: list(array.shape) for name, array in first[0].outputs.items()}}
    for series, log in ((without, args.uncached_log), (with_cache, args.log), (by_id, args.log)):
        emit({**shared, **loop_record(series, server_records(log, [r.request_id for r in series.replies]),
                                      args.chunks, window)})


def loop_record(series: Series, server: dict[str, dict], chunks: int, window: int) -> dict:
    """One chunked loop's record: its total (extrapolated when fewer than CHUNKS chunks were timed) and its
    per-chunk means over the interleaved window."""
    record = series.record(server)
    uncached = series.mode == "uncached"
    # With the cache on, chunk 1 encodes the clip (a miss) and the others find its latents.
    labels = record["latents"]
    record["labels_as_expected"] = (labels[0] == ("" if uncached else "miss")
                                    and all(label == series.expected for label in labels[1:]))
    seconds = [reply.seconds for reply in series.replies]
    rest = seconds[1:] or seconds
    if len(seconds) == chunks:
        total = sum(seconds)
    elif uncached:
        total = statistics.mean(seconds) * chunks            # every chunk is a full pass
    else:
        total = seconds[0] + statistics.mean(rest) * (chunks - 1)
    # Window means: every chunk of the uncached loop; the hits (chunks 2..window) of the cached one.
    in_window = seconds[:window] if uncached else seconds[1:window]
    return {"mode": series.mode, "timed_chunks": len(seconds), "total_s": total,
            "extrapolated": len(seconds) < chunks, "first_chunk_s": seconds[0],
            "other_chunks_mean_s": statistics.mean(seconds[1:]) if len(seconds) > 1 else None,
            "window_mean_s": statistics.mean(in_window) if in_window else None, "rows": [record]}


# ---- Memory under 32 clients with distinct inputs ----

def vm_field(pid: int, name: str) -> int:
    """A /proc/PID/status field in kB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def metric(text: str, name: str, model: str) -> float | None:
    """A sample's value on /metrics: NAME{model="MODEL"...}."""
    return metric_with(text, name, model, "")


def metric_with(text: str, name: str, model: str, label: str) -> float | None:
    """The value of NAME's sample for MODEL whose labels also contain LABEL (e.g. 'result="hit"')."""
    for line in text.splitlines():
        if line.startswith(name + "{") and f'model="{model}"' in line and label in line:
            return float(line.rsplit(" ", 1)[1])
    return None


def memory(args: argparse.Namespace) -> None:
    stop = threading.Event()
    start = time.monotonic()
    deadline = start + args.duration
    rss: list[int] = []                                  # VmRSS samples, kB
    cache: list[tuple[float, float]] = []                # (bytes, entries) samples
    outcomes = {"ok": 0, "failed": 0, "abandoned": 0, "latencies": [], "errors": []}
    lock = threading.Lock()
    rss_idle = vm_field(args.pid, "VmRSS")

    def sample_rss() -> None:
        while not stop.is_set():
            rss.append(vm_field(args.pid, "VmRSS"))
            time.sleep(0.1)

    def sample_cache() -> None:
        client = Client(args.url, timeout=30)
        while not stop.is_set():
            try:
                text = client.get("/metrics").decode()
                cache.append((metric(text, "perceiverd_latent_cache_bytes", args.model) or 0.0,
                              metric(text, "perceiverd_latent_cache_entries", args.model) or 0.0))
            except (OSError, RuntimeError, http.client.HTTPException):
                client.close()
            stop.wait(0.5)
        client.close()

    clients = [Client(args.url, tag=f"memory-{index}") for index in range(args.clients)]

    def run_client(index: int) -> None:
        client, rng = clients[index], np.random.default_rng([args.seed, 1000 + index])
        positions = np.array([[1, args.tokens // 2, args.tokens - 2]], dtype=np.int64)
        while time.monotonic() < deadline:
            try:
                reply = client.infer(args.model, {"input_ids": random_text(rng, args.tokens),
                                                  "output_positions": positions})
                with lock:
                    outcomes["ok"] += 1
                    outcomes["latencies"].append(reply.seconds)
            except (OSError, RuntimeError, http.client.HTTPException) as error:
                with lock:
                    if time.monotonic() >= deadline:
                        outcomes["abandoned"] += 1
                        break
                    outcomes["failed"] += 1
                    outcomes["errors"].append(str(error)[:200])
                time.sleep(0.5)
        client.close()

    samplers = [threading.Thread(target=sample_rss, daemon=True), threading.Thread(target=sample_cache, daemon=True)]
    for thread in samplers:
        thread.start()
    progress(f"memory: {args.clients} clients with distinct texts of {args.tokens} tokens for {args.duration} s")
    threads = [threading.Thread(target=run_client, args=(index,)) for index in range(args.clients)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, deadline - time.monotonic()))
    progress("memory: time is up; abandoning the requests still waiting")
    for client in clients:
        client.abort()
    for thread in threads:
        thread.join()
    # Keep sampling until the daemon has finished the pass it was running (at most 120 s more).
    monitor = Client(args.url, timeout=30)
    settle = time.monotonic() + 120
    while time.monotonic() < settle and (metric(monitor.get("/metrics").decode(), "perceiverd_inference_in_flight",
                                                 args.model) or 0) > 0:
        time.sleep(0.5)
    stop.set()
    for thread in samplers:
        thread.join()
    text = monitor.get("/metrics").decode()
    monitor.close()
    lookups = {result: metric_with(text, "perceiverd_latent_cache_lookups_total", args.model, f'result="{result}"')
               for result in ("hit", "miss")}
    emit({"scenario": "memory", "model": args.model, "clients": args.clients, "duration_s": args.duration,
          "wall_s": round(time.monotonic() - start, 1), "tokens": args.tokens,
          "requests_ok": outcomes["ok"], "requests_failed": outcomes["failed"],
          "requests_abandoned": outcomes["abandoned"], "errors": outcomes["errors"][:5],
          "median_latency_s": statistics.median(outcomes["latencies"]) if outcomes["latencies"] else None,
          "rss_idle_mib": rss_idle / 1024, "rss_peak_sampled_mib": max(rss, default=0) / 1024,
          "vm_hwm_mib": vm_field(args.pid, "VmHWM") / 1024, "rss_samples": len(rss),
          "cache_mib": args.cache_mib, "weights_mib": args.weights_mib, "budget_mib": args.budget_mib,
          "limit_mib": args.cache_mib + args.weights_mib + args.budget_mib,
          "cache_bytes_max": max((b for b, _ in cache), default=0.0), "cache_bytes_samples": len(cache),
          "cache_entries_max": max((e for _, e in cache), default=0.0),
          "cache_bytes_end": metric(text, "perceiverd_latent_cache_bytes", args.model) or 0.0,
          "evictions": metric(text, "perceiverd_latent_cache_evictions_total", args.model) or 0.0,
          "hits": lookups["hit"] or 0.0, "misses": lookups["miss"] or 0.0})


# ---- Weights ----

def weights_mib(args: argparse.Namespace) -> None:
    """Parameters x 4 bytes in MiB, counted from the safetensors header's shapes."""
    total = 0
    for path in sorted(Path(args.model_dir).glob("*.safetensors")):
        with path.open("rb") as file:
            (length,) = struct.unpack("<Q", file.read(8))
            header = json.loads(file.read(length))
        total += sum(int(np.prod(entry["shape"])) for key, entry in header.items() if key != "__metadata__")
    print(f"{total} {total * 4 / 2**20:.1f}")


# ---- The report ----

def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def ratio_of(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator and denominator else None


def counters_text(row: dict) -> str:
    """The latent-cache counters' change over a series, "miss / hit / saved", with what was expected when it
    differs."""
    got = row.get("counters")
    if got is None:
        return "-"
    text = " / ".join(f"{got[name]:.0f}" for name in ("miss", "hit", "saved"))
    if not row.get("counters_as_expected"):
        want = row.get("expected_counters") or {}
        text += " (expected " + " / ".join(f"{want.get(name, 0):.0f}" for name in ("miss", "hit", "saved")) + ")"
    return text


def other_cpu(records: list[dict]) -> str:
    shares = [r["other_cpu_pct"] for r in records if "other_cpu_pct" in r]
    if not shares:
        return ""
    return (f"Other processes used {max(shares):.0f} % of a CPU meanwhile (2 cores = 200 %)"
            + (": the machine was not quiet, times are inflated." if max(shares) > 10 else "."))


def query_section(record: dict, title: str, target: float, say) -> str:
    """The flow or language table; returns its target line."""
    say(f"## {title}")
    say("")
    say("| request | expected latents | runs | median ms (client) | median ms (daemon log) | min ms | max ms "
        "| latents in the log | cache counters: miss / hit / saved | bytes sent |")
    say("|---|---|---|---|---|---|---|---|---|---|")
    for row in record["rows"]:
        say(f"| {row['mode']} | {row['expected']} | {row['runs']} | {fmt(row['median_client_ms'])} "
            f"| {fmt(row['median_server_ms'])} | {fmt(min(row['client_ms'], default=None))} "
            f"| {fmt(max(row['client_ms'], default=None))} | {','.join(sorted(set(row['latents'])))} "
            f"| {counters_text(row)} | {row['bytes_sent']:,} |")
    rows = {row["mode"]: row for row in record["rows"]}
    ratio = ratio_of(rows["uncached"]["median_client_ms"], rows["cached"]["median_client_ms"])
    by_id = ratio_of(rows["uncached"]["median_client_ms"], rows["by latents_id"]["median_client_ms"])
    labels_ok = all(row["labels_as_expected"] and row.get("counters_as_expected", False)
                    for row in record["rows"])
    say("")
    say(f"uncached / cached (medians, client time): **{fmt(ratio)}x**; uncached / by latents_id: {fmt(by_id)}x. "
        "The daemon logged the expected latents label on every request, and its cache counters "
        "(perceiverd_latent_cache_lookups_total, perceiverd_encoder_passes_saved_total) moved as expected: "
        f"{'yes' if labels_ok else 'NO'}. " + other_cpu([record]))
    say("")
    return (f"{title}: uncached / cached {fmt(ratio)}x, target >= {target:g}x: "
            f"{verdict(ratio is not None and ratio >= target and labels_ok)}"
            + ("" if labels_ok else " (requests not the misses and hits they should be)"))


def multimodal_section(loops: dict[str, dict], in_process: dict | None, say) -> str:
    """The chunked-loop table and what dominates a cached chunk; returns the target line."""
    sample = next(iter(loops.values()))
    chunks = sample["chunks"]
    say("## multimodal-perceiver geometry, DeepMind's chunked decoding loop")
    say("")
    say(f"One clip: video (1, 16, 3, 224, 224), audio (1, 30720, 1), label (1, 700); {chunks} chunks of "
        f"{sample['image_points_per_chunk']} image points + {sample['audio_patches_per_chunk']} audio patches + the "
        "label, each call with the full inputs (by latents_id: only chunk 1).")
    say("")
    say("| loop | chunks timed | loop total s | extrapolated | chunk 1 s | chunks 2+ mean s | median daemon ms "
        "| latents in the log | cache counters: miss / hit / saved | bytes sent (chunk 1) |")
    say("|---|---|---|---|---|---|---|---|---|---|")
    names = {"uncached": "without the cache (latent_cache_mib 0)", "cached": "with the cache",
             "by-id": "with the cache, latents_id after chunk 1"}
    for mode in ("uncached", "cached", "by-id"):
        if mode not in loops:
            continue
        loop, row = loops[mode], loops[mode]["rows"][0]
        say(f"| {names[mode]} | {loop['timed_chunks']} of {chunks} | {loop['total_s']:.1f} "
            f"| {'yes' if loop['extrapolated'] else 'no'} | {loop['first_chunk_s']:.2f} "
            f"| {fmt(loop['other_chunks_mean_s'], '.2f')} | {fmt(row['median_server_ms'])} "
            f"| {','.join(sorted(set(row['latents']) - {''})) or 'none (cache off)'} | {counters_text(row)} "
            f"| {row['bytes_sent']:,} |")
    say("")
    for mode, loop in loops.items():
        if loop["extrapolated"]:
            how = (f"its first {loop['timed_chunks']} chunks x {chunks}/{loop['timed_chunks']}" if mode == "uncached"
                   else f"chunk 1 + {chunks - 1} x the mean of chunks 2-{loop['timed_chunks']}")
            say(f"- Loop {names[mode]}: the total is extrapolated from {how}.")
    uncached, cached = loops.get("uncached", {}).get("total_s"), loops.get("cached", {}).get("total_s")
    ratio = ratio_of(uncached, cached)
    labels_ok = all(loop["rows"][0]["labels_as_expected"] and loop["rows"][0].get("counters_as_expected", False)
                    for loop in loops.values())
    say("- The daemons logged the expected latents label on every chunk (with the cache: chunk 1 a miss, the "
        "others hits or by id), and their cache counters moved as expected: " + ("yes." if labels_ok else "NO."))
    say(f"- Loop total without / with the cache: **{fmt(ratio)}x**"
        + (f"; without / with the cache by latents_id: {fmt(ratio_of(uncached, loops['by-id']['total_s']))}x"
           if "by-id" in loops else "") + ".")
    if "cached" in loops and "uncached" in loops and loops["cached"]["window_mean_s"]:
        miss, hit = loops["uncached"]["window_mean_s"], loops["cached"]["window_mean_s"]
        first = loops["cached"]["first_chunk_s"]
        say(f"- Chunks 1-{sample['window_chunks']} of the two loops ran interleaved (one request at a time, "
            f"alternating daemons), under the same load: a chunk without the cache {miss:.2f} s, a hit "
            f"{hit:.2f} s ({miss / hit:.1f}x). From these alone the loop would be {chunks} x {miss:.2f} / "
            f"({first:.2f} + {chunks - 1} x {hit:.2f}) = {chunks * miss / (first + (chunks - 1) * hit):.1f}x "
            f"faster with the cache; it cannot beat {miss / hit:.1f}x however cheap chunk 1 is.")
    if in_process:
        encode, decode = in_process["encode_ms"], in_process["decode_ms_median"]
        ceiling = chunks * (encode + decode) / (encode + chunks * decode)
        say(f"- In process (no HTTP, PerceiverBench latents): encode {encode / 1000:.2f} s "
            f"({in_process['encode_gflop']:.0f} GFLOP), one chunk's decode {decode / 1000:.2f} s "
            f"({in_process['decode_gflop']:.0f} GFLOP). Even with free HTTP, hashing and scheduling, a {chunks}-chunk "
            f"loop with the cache is at most {ceiling:.1f}x faster than without it "
            f"({chunks} x (encode + decode) / (encode + {chunks} x decode)); by FLOPs, "
            f"{(in_process['encode_gflop'] + in_process['decode_gflop']) / in_process['decode_gflop']:.1f}x per chunk.")
    say("- " + other_cpu(list(loops.values())))
    say("")
    return (f"multimodal {chunks}-chunk loop: without / with the cache {fmt(ratio)}x, target >= "
            f"{TARGET_MULTIMODAL:g}x: {verdict(ratio is not None and ratio >= TARGET_MULTIMODAL and labels_ok)}"
            + ("" if labels_ok else " (chunks not the misses and hits they should be)"))


def memory_section(record: dict, say) -> list[str]:
    """The memory table; returns its target lines."""
    say(f"## Memory: {record['clients']} clients with distinct texts ({record['tokens']} tokens), "
        f"{record['duration_s']} s, latent_cache_mib {record['cache_mib']}, memory_budget_mib {record['budget_mib']}")
    say("")
    budget_bytes = record["cache_mib"] * 2**20
    say("| what | value |")
    say("|---|---|")
    for name, value in (
            ("requests answered / failed / abandoned at the end",
             f"{record['requests_ok']} / {record['requests_failed']} / {record['requests_abandoned']}"),
            ("median latency s", fmt(record["median_latency_s"], ".2f")),
            ("cache lookups: misses / hits; evictions",
             f"{record['misses']:.0f} / {record['hits']:.0f}; {record['evictions']:.0f}"),
            ("VmRSS before the load MiB", f"{record['rss_idle_mib']:.0f}"),
            (f"VmRSS peak MiB ({record['rss_samples']} samples, every 0.1 s)", f"{record['rss_peak_sampled_mib']:.0f}"),
            ("VmHWM at the end MiB (since the daemon started)", f"{record['vm_hwm_mib']:.0f}"),
            ("limit MiB: cache + weights (parameters x 4 B) + memory_budget_mib",
             f"{record['limit_mib']:.0f} = {record['cache_mib']} + {record['weights_mib']:.0f} + {record['budget_mib']}"),
            (f"perceiverd_latent_cache_bytes max ({record['cache_bytes_samples']} samples, every 0.5 s)",
             f"{record['cache_bytes_max']:,.0f} of {budget_bytes:,} ({record['cache_bytes_max'] / budget_bytes:.1%})"),
            ("perceiverd_latent_cache_bytes at the end", f"{record['cache_bytes_end']:,.0f}"),
            ("perceiverd_latent_cache_entries max", f"{record['cache_entries_max']:.0f}")):
        say(f"| {name} | {value} |")
    say("")
    if record["errors"]:
        say("First errors: " + "; ".join(record["errors"]))
        say("")
    say(other_cpu([record]))
    say("")
    peak = max(record["rss_peak_sampled_mib"], record["vm_hwm_mib"])
    cache_max = max(record["cache_bytes_max"], record["cache_bytes_end"])
    cache_ok = cache_max <= budget_bytes and record["cache_bytes_samples"] > 0
    served = record["requests_ok"] > 0 and record["requests_failed"] == 0
    return [f"memory: peak RSS {peak:.0f} MiB within {record['limit_mib']:.0f} MiB: "
            f"{verdict(peak <= record['limit_mib'])}",
            f"memory: perceiverd_latent_cache_bytes max {cache_max / 2**20:.2f} MiB within {record['cache_mib']} MiB: "
            f"{verdict(cache_ok)}" + ("" if record["evictions"] > 0 else " (no eviction: the cache never filled)"),
            f"memory: no request failed ({record['requests_ok']} answered, {record['requests_failed']} failed): "
            f"{verdict(served)}" + ("" if record["requests_ok"] else
                                    f" (none answered within {record['duration_s']} s: too short a run for the "
                                    "passes on this machine; raise MEM_DURATION)")]


def in_process_section(records: list[dict], say) -> None:
    say("## In process: the encode and one decode apart (PerceiverBench latents, no HTTP)")
    say("")
    say("| model | encode ms | encode GFLOP | decode ms (median) | decode GFLOP | best hit speed-up: "
        "(encode + decode) / decode, by time | by GFLOP |")
    say("|---|---|---|---|---|---|---|")
    for r in records:
        say(f"| {r['architecture']} | {r['encode_ms']:.0f} | {r['encode_gflop']:.1f} | {r['decode_ms_median']:.1f} "
            f"| {r['decode_gflop']:.1f} | {(r['encode_ms'] + r['decode_ms_median']) / r['decode_ms_median']:.1f}x "
            f"| {(r['encode_gflop'] + r['decode_gflop']) / r['decode_gflop']:.1f}x |")
    say("")
    say(other_cpu(records))
    say("")


def report(args: argparse.Namespace) -> None:
    records = [json.loads(line) for line in Path(args.file).read_text().splitlines() if line.strip()]
    lines: list[str] = []
    say = lines.append
    if args.host_line:
        say(args.host_line)
        say("")
    targets: list[str] = []
    for scenario, target, title in (
            ("flow", TARGET_FLOW, "optical flow 368x496, {pixels} pixels"),
            ("language", TARGET_LANGUAGE, "language-perceiver, {tokens} bytes, {positions} positions")):
        record = next((r for r in records if r.get("scenario") == scenario), None)
        if record is not None:
            targets.append(query_section(record, title.format(**record), target, say))
        else:
            targets.append(f"{scenario}: not measured")
    in_process = [r for r in records if r.get("scenario") == "in-process"]
    loops = {r["mode"]: r for r in records if r.get("scenario") == "multimodal"}
    if loops:
        multimodal_in_process = next((r for r in in_process
                                      if r["architecture"] == "PerceiverForMultimodalAutoencoding"), None)
        targets.append(multimodal_section(loops, multimodal_in_process, say))
    else:
        targets.append("multimodal: not measured")
    record = next((r for r in records if r.get("scenario") == "memory"), None)
    if record is not None:
        targets.extend(memory_section(record, say))
    else:
        targets.append("memory: not measured")
    if in_process:
        in_process_section(in_process, say)
    say("## Targets")
    say("")
    lines.extend(targets)
    print("\n".join(lines))


# ---- Command line ----

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def measured(name: str, handler, help_text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--url", required=True, help="the daemon, e.g. http://127.0.0.1:8000")
        command.add_argument("--model", required=True, help="the model's name in the daemon")
        command.add_argument("--log", type=Path, help="the daemon's log, for its duration.ms and latents label")
        command.add_argument("--seed", type=int, default=20)
        command.set_defaults(handler=handler)
        return command

    command = measured("flow", flow, "optical flow: uncached, cached and by-id medians")
    command.add_argument("--runs", type=positive, default=3, help="uncached runs")
    command.add_argument("--cached-runs", type=positive, default=5)
    command.add_argument("--pixels", type=positive, default=4096)

    command = measured("language", language, "language model: uncached, cached and by-id medians")
    command.add_argument("--runs", type=positive, default=5, help="uncached runs")
    command.add_argument("--cached-runs", type=positive, default=10)
    command.add_argument("--tokens", type=positive, default=2048)
    command.add_argument("--positions", type=positive, default=16)

    command = measured("multimodal", multimodal, "multimodal: DeepMind's chunked decoding loop, two daemons")
    command.add_argument("--uncached-url", required=True, help="a daemon serving the model with latent_cache_mib 0")
    command.add_argument("--uncached-log", type=Path, help="that daemon's log")
    command.add_argument("--chunks", type=positive, default=128)
    command.add_argument("--uncached-chunks", type=positive, default=16, help="chunks timed without the cache")
    command.add_argument("--cached-chunks", type=positive, default=128, help="chunks timed with the cache")
    command.add_argument("--by-id-chunks", type=positive, default=16, help="chunks timed by latents_id")

    command = measured("memory", memory, "resident memory under concurrent clients with distinct inputs")
    command.add_argument("--pid", type=int, required=True, help="the daemon's process id")
    command.add_argument("--clients", type=positive, default=32)
    command.add_argument("--duration", type=positive, default=60, help="seconds of sending")
    command.add_argument("--tokens", type=positive, default=2048)
    command.add_argument("--cache-mib", type=int, required=True)
    command.add_argument("--weights-mib", type=float, required=True)
    command.add_argument("--budget-mib", type=int, required=True)

    command = commands.add_parser("weights-mib", help="parameters and parameters x 4 bytes in MiB")
    command.add_argument("model_dir")
    command.set_defaults(handler=weights_mib)

    command = commands.add_parser("report", help="the report from the JSON lines")
    command.add_argument("file")
    command.add_argument("--host-line", default="")
    command.set_defaults(handler=report)

    args = parser.parse_args()
    args.handler(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
