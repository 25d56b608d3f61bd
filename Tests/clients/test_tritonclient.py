"""perceiverd against a real third-party KServe V2 client: NVIDIA's tritonclient.http.

Starts the daemon on a free port with three fixture models, then checks health, metadata and inference
(JSON tensors, binary tensors, gzip both ways, explicit version, output selection) against the golden
logits that transformers wrote (Tests/PerceiverEngineTests/Fixtures), the 404 and 400 error paths, the
classification extension (`class_count`, ranked here from the same inputs' raw logits) and a BYTES `text` input
(the same logits as its token ids).
Stops the daemon with SIGTERM and expects exit status 0. Run by Tests/clients/run.sh (`make test`).

Environment: PERCEIVERD is the binary (default .build/debug/perceiverd), relative to the repository root.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import traceback

import numpy as np
import tritonclient.http as httpclient
from safetensors.numpy import load_file
from tritonclient.utils import InferenceServerException

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "Tests", "PerceiverEngineTests", "Fixtures")
MODELS = ["mlm", "seqcls", "learned"]
# The fixtures' stated tolerance (manifest.json "tolerance.max_abs").
MAX_ABS_ERROR = 1e-4
# Cases served by MODELS, each with the inputs its golden logits were made from.
CASES = ["mlm_single", "mlm_padded_batch", "mlm_positions", "mlm_queries", "seqcls_batch", "seqcls_queries",
         "learned_batch", "learned_positions"]
STARTUP_SECONDS = 120


class Daemon:
    """`perceiverd serve --port 0` as a child process; stderr is read on a thread (the log must not block)."""

    def __init__(self, binary):
        args = [binary, "serve", "--port", "0", "--threads", "1"]
        for name in MODELS:
            args += ["--model", f"{name}={os.path.join(FIXTURES, 'models', name)}"]
        self.lines = []
        self.port = None
        self._ready = threading.Event()
        self.process = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read_log, daemon=True).start()

    def _read_log(self):
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))
            match = re.search(r"http\.port=(\d+)", line)
            if match and "listening" in line:
                self.port = int(match.group(1))
            if line.rstrip().endswith(" ready"):
                self._ready.set()
        self._ready.set()  # the process ended: stop waiting

    def wait_ready(self):
        if not self._ready.wait(STARTUP_SECONDS) or self.port is None or self.process.poll() is not None:
            raise RuntimeError("perceiverd did not become ready:\n" + "\n".join(self.lines[-20:]))
        return f"127.0.0.1:{self.port}"

    def terminate(self):
        """SIGTERM, then the exit status (killed after 30 s)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


class Checks:
    """Counts passed checks; a failed one is reported and counted, and the run goes on."""

    def __init__(self):
        self.passed = 0
        self.failed = []

    def expect(self, name, condition, detail=""):
        if condition:
            self.passed += 1
        else:
            self.failed.append(name)
            print(f"FAIL {name}: {detail}", file=sys.stderr)

    def summary(self, label):
        """Prints the counts (to stderr when any failed); the exit status."""
        if self.failed:
            print(f"{label}: {self.passed} checks passed, {len(self.failed)} failed", file=sys.stderr)
            return 1
        print(f"{label}: {self.passed} checks passed")
        return 0

    def run(self, name, function):
        """Runs a group of checks; an exception fails the group."""
        try:
            function()
        except Exception:  # noqa: BLE001 - report every failure, whatever raised it
            self.failed.append(name)
            print(f"FAIL {name}: exception\n{traceback.format_exc()}", file=sys.stderr)


def case(name):
    """(model, inputs {name: array}, expected logits) of a golden case."""
    tensors = load_file(os.path.join(FIXTURES, "cases", f"{name}.safetensors"))
    expected = tensors.pop("logits")
    return name.split("_")[0], tensors, expected


def infer_inputs(tensors, binary):
    inputs = []
    for name, array in tensors.items():
        datatype = {np.dtype("int64"): "INT64", np.dtype("float32"): "FP32"}[array.dtype]
        tensor = httpclient.InferInput(name, list(array.shape), datatype)
        tensor.set_data_from_numpy(array, binary_data=binary)
        inputs.append(tensor)
    return inputs


def compare(checks, label, result, expected, expect_binary):
    logits = result.as_numpy("logits")
    checks.expect(f"{label}: logits present", logits is not None, "no 'logits' in the response")
    if logits is None:
        return
    checks.expect(f"{label}: shape", logits.shape == expected.shape, f"{logits.shape} != {expected.shape}")
    if logits.shape == expected.shape:
        error = float(np.max(np.abs(logits.astype(np.float32) - expected)))
        checks.expect(f"{label}: max abs error {error:.2e}", error <= MAX_ABS_ERROR, f"{error} > {MAX_ABS_ERROR}")
    output = result.get_output("logits") or {}
    is_binary = "binary_data_size" in output.get("parameters", {})
    checks.expect(f"{label}: binary={expect_binary}", is_binary == expect_binary, f"response output {output}")


def check_health_and_metadata(checks, client):
    checks.expect("is_server_live", client.is_server_live() is True)
    checks.expect("is_server_ready", client.is_server_ready() is True)
    for name in MODELS:
        checks.expect(f"is_model_ready {name}", client.is_model_ready(name) is True)
        checks.expect(f"is_model_ready {name} v1", client.is_model_ready(name, "1") is True)
    checks.expect("is_model_ready unknown model", client.is_model_ready("no-such-model") is False)
    checks.expect("is_model_ready unknown version", client.is_model_ready("mlm", "2") is False)

    server = client.get_server_metadata()
    checks.expect("server metadata name", server.get("name") == "perceiverd", server)
    checks.expect("server metadata version", bool(server.get("version")), server)
    checks.expect("server metadata extensions", {"binary_tensor_data", "classification"}
                  <= set(server.get("extensions", [])), server)

    mlm = client.get_model_metadata("mlm")
    inputs = {t["name"]: t for t in mlm["inputs"]}
    outputs = {t["name"]: t for t in mlm["outputs"]}
    checks.expect("mlm metadata name", mlm["name"] == "mlm", mlm)
    checks.expect("mlm metadata versions", mlm.get("versions") == ["1"], mlm)
    checks.expect("mlm metadata inputs", list(inputs) == ["input_ids", "attention_mask", "output_positions",
                                                          "queries", "latents", "text"], mlm)
    checks.expect("mlm text", inputs["text"] == {"name": "text", "datatype": "BYTES", "shape": [-1]}, inputs["text"])
    checks.expect("mlm input_ids", inputs["input_ids"]["datatype"] == "INT64"
                  and inputs["input_ids"]["shape"] == [-1, -1], inputs["input_ids"])
    checks.expect("mlm queries", inputs["queries"]["datatype"] == "FP32"
                  and inputs["queries"]["shape"] == [-1, -1, 32], inputs["queries"])
    checks.expect("mlm outputs", list(outputs) == ["logits", "latents"] and outputs["logits"]["datatype"] == "FP32"
                  and outputs["logits"]["shape"] == [-1, -1, 262], outputs)
    checks.expect("mlm latents", outputs["latents"] == inputs["latents"] == {
        "name": "latents", "datatype": "FP32", "shape": [-1, 8, 64]}, outputs["latents"])

    learned = client.get_model_metadata("learned", model_version="1")
    pixels = next(t for t in learned["inputs"] if t["name"] == "pixel_values")
    checks.expect("learned pixel_values", pixels["datatype"] == "FP32" and pixels["shape"] == [-1, 3, 8, 8],
                  pixels)
    checks.expect("learned outputs", learned["outputs"][0] == {"name": "logits", "datatype": "FP32",
                                                                "shape": [-1, 5]}, learned["outputs"])
    seqcls = client.get_model_metadata("seqcls")
    checks.expect("seqcls outputs", seqcls["outputs"][0]["shape"] == [-1, 3], seqcls["outputs"])


def check_inference(checks, client):
    for name in CASES:
        model, tensors, expected = case(name)
        # JSON both ways.
        result = client.infer(model, infer_inputs(tensors, binary=False),
                              outputs=[httpclient.InferRequestedOutput("logits", binary_data=False)],
                              request_id=f"{name}-json")
        compare(checks, f"{name} json", result, expected, expect_binary=False)
        checks.expect(f"{name} json: id echoed", result.get_response().get("id") == f"{name}-json",
                      result.get_response())
        # Binary both ways (tritonclient's default).
        result = client.infer(model, infer_inputs(tensors, binary=True),
                              outputs=[httpclient.InferRequestedOutput("logits")])
        compare(checks, f"{name} binary", result, expected, expect_binary=True)
        # No outputs list: the client asks for binary_data_output.
        result = client.infer(model, infer_inputs(tensors, binary=True), outputs=None)
        compare(checks, f"{name} outputs=None", result, expected, expect_binary=True)
        # gzip request and response.
        result = client.infer(model, infer_inputs(tensors, binary=True), request_compression_algorithm="gzip",
                              response_compression_algorithm="gzip")
        compare(checks, f"{name} gzip", result, expected, expect_binary=True)
        # Explicit version: /v2/models/{m}/versions/1/infer.
        result = client.infer(model, infer_inputs(tensors, binary=True), model_version="1")
        compare(checks, f"{name} version 1", result, expected, expect_binary=True)
        checks.expect(f"{name} version 1: model_version", result.get_response().get("model_version") == "1",
                      result.get_response())
    # Mixed: JSON inputs with a binary output, gzip JSON request with a JSON response.
    model, tensors, expected = case("mlm_positions")
    result = client.infer(model, infer_inputs(tensors, binary=False),
                          outputs=[httpclient.InferRequestedOutput("logits", binary_data=True)])
    compare(checks, "mlm_positions json in, binary out", result, expected, expect_binary=True)
    result = client.infer(model, infer_inputs(tensors, binary=False),
                          outputs=[httpclient.InferRequestedOutput("logits", binary_data=False)],
                          request_compression_algorithm="gzip", response_compression_algorithm="gzip")
    compare(checks, "mlm_positions gzip json", result, expected, expect_binary=False)


def expect_error(checks, label, status, fragments, call):
    try:
        call()
    except InferenceServerException as error:
        checks.expect(f"{label}: status {status}", error.status() == status,
                      f"status {error.status()!r}, message {error.message()!r}")
        for fragment in fragments:
            checks.expect(f"{label}: message has {fragment!r}", fragment in (error.message() or ""),
                          repr(error.message()))
        return
    checks.expect(f"{label}: raises", False, "no InferenceServerException")


def check_errors(checks, client):
    _, tensors, _ = case("mlm_single")
    expect_error(checks, "unknown model infer", "404", ["no-such-model"],
                 lambda: client.infer("no-such-model", infer_inputs(tensors, binary=True)))
    expect_error(checks, "unknown model metadata", "404", ["no-such-model"],
                 lambda: client.get_model_metadata("no-such-model"))
    expect_error(checks, "unknown version", "404", ["version"],
                 lambda: client.infer("mlm", infer_inputs(tensors, binary=True), model_version="2"))
    wrong = httpclient.InferInput("input_ids", list(tensors["input_ids"].shape), "FP32")
    wrong.set_data_from_numpy(tensors["input_ids"].astype(np.float32))
    expect_error(checks, "wrong datatype", "400", ["input_ids", "FP32", "INT64"],
                 lambda: client.infer("mlm", [wrong]))
    expect_error(checks, "unknown output", "400", ["nope"],
                 lambda: client.infer("mlm", infer_inputs(tensors, binary=True),
                                      outputs=[httpclient.InferRequestedOutput("nope")]))
    _, images, _ = case("learned_batch")
    small = httpclient.InferInput("pixel_values", [1, 3, 4, 4], "FP32")
    small.set_data_from_numpy(images["pixel_values"][:1, :, :4, :4].copy())
    expect_error(checks, "wrong shape", "400", ["pixel_values"], lambda: client.infer("learned", [small]))


def check_latents(checks, client):
    """Encode once, query many: the response's latents_id decodes new positions with no inputs; the latents
    output (binary) sent back as the latents input decodes the same numbers; an unknown id is a 404."""
    _, tensors, _ = case("mlm_positions")
    text = {"input_ids": tensors["input_ids"]}
    first = client.infer("mlm", infer_inputs(text, binary=True), outputs=[
        httpclient.InferRequestedOutput("logits"), httpclient.InferRequestedOutput("latents")])
    latents_id = first.get_response().get("parameters", {}).get("latents_id")
    checks.expect("latents_id in the response parameters", isinstance(latents_id, str) and len(latents_id) == 32,
                  first.get_response())
    latents = first.as_numpy("latents")
    checks.expect("latents output (B, 8, 64)", latents is not None and latents.shape == (2, 8, 64),
                  None if latents is None else latents.shape)
    logits = first.as_numpy("logits")
    positions = np.array([[3, 1], [0, 2]], dtype=np.int64)
    expected = np.stack([logits[b, positions[b]] for b in range(2)])

    by_id = client.infer("mlm", infer_inputs({"output_positions": positions}, binary=True),
                         parameters={"latents_id": latents_id})
    error = float(np.max(np.abs(by_id.as_numpy("logits") - expected)))
    checks.expect(f"decode by latents_id: max abs error {error:.2e}", error <= MAX_ABS_ERROR, error)
    held = client.infer("mlm", infer_inputs({"latents": latents, "output_positions": positions}, binary=True))
    error = float(np.max(np.abs(held.as_numpy("logits") - expected)))
    checks.expect(f"decode of held latents: max abs error {error:.2e}", error <= MAX_ABS_ERROR, error)
    expect_error(checks, "unknown latents_id", "404", ["resend the inputs"], lambda: client.infer(
        "mlm", infer_inputs({"output_positions": positions}, binary=True),
        parameters={"latents_id": "0" * 32}))


def strings(array):
    """A BYTES output as a nested list of str: binary data arrives as bytes, JSON data as str."""
    if array.ndim > 1:
        return [strings(row) for row in array]
    return [e.decode("utf-8") if isinstance(e, bytes) else e for e in array]


def byte_label(index):
    """The byte tokenizer's token `index` as perceiverd labels it: a special token's text, a printable ASCII byte as
    itself, any other byte as \\xNN."""
    if index < 6:
        return ["[PAD]", "[BOS]", "[EOS]", "[MASK]", "[CLS]", "[SEP]"][index]
    byte = index - 6
    return chr(byte) if 0x20 <= byte < 0x7F else f"\\x{byte:02x}"


def id2label(model):
    """A fixture model's labels by index, from its config.json."""
    with open(os.path.join(FIXTURES, "models", model, "config.json")) as file:
        return {int(index): name for index, name in json.load(file)["id2label"].items()}


def top_classes(logits, count, label):
    """Triton's "value:index:label" strings of the `count` largest values of each row of the last dimension
    (highest first, ties to the lower index), as nested lists; the value as C's %f (std::to_string)."""
    if logits.ndim > 1:
        return [top_classes(row, count, label) for row in logits]
    order = sorted(range(len(logits)), key=lambda i: (-float(logits[i]), i))[:count]
    return [f"{float(logits[i]):f}:{i}" + (f":{label(i)}" if label(i) is not None else "") for i in order]


def check_classification(checks, client):
    """class_count on the classifiers (labels from their config's id2label) and per position on the masked LM
    (byte labels), in binary and JSON, equal to rankings of the raw logits of the same request; a count beyond
    the classes returns them all, as Triton does; a negative count is a 400."""
    for name, count in [("seqcls_batch", 2), ("learned_batch", 3), ("mlm_positions", 3), ("learned_batch", 10)]:
        model, tensors, _ = case(name)
        raw = client.infer(model, infer_inputs(tensors, binary=True)).as_numpy("logits")
        expected = top_classes(raw, count, byte_label if model == "mlm" else id2label(model).get)
        kept = min(count, raw.shape[-1])
        for binary in (True, False):
            label_text = f"{name} class_count={count} binary={binary}"
            result = client.infer(model, infer_inputs(tensors, binary=binary), outputs=[
                httpclient.InferRequestedOutput("logits", binary_data=binary, class_count=count)])
            output = result.get_output("logits") or {}
            checks.expect(f"{label_text}: BYTES {list(raw.shape[:-1]) + [kept]}", output.get("datatype") == "BYTES"
                          and output.get("shape") == list(raw.shape[:-1]) + [kept], output)
            got = strings(result.as_numpy("logits"))
            checks.expect(f"{label_text}: strings", got == expected, f"{got} != {expected}")
    model, tensors, _ = case("seqcls_batch")
    expect_error(checks, "class_count=-1", "400", ["output 'logits'", "'classification'", "got -1"],
                 lambda: client.infer(model, infer_inputs(tensors, binary=True), outputs=[
                     httpclient.InferRequestedOutput("logits", class_count=-1)]))


def text_inputs(texts, binary):
    tensor = httpclient.InferInput("text", [len(texts)], "BYTES")
    tensor.set_data_from_numpy(np.array([t.encode("utf-8") for t in texts], dtype=np.object_), binary_data=binary)
    return [tensor]


def check_text_bytes(checks, client):
    """A BYTES `text` input gives the logits of the ids the byte tokenizer makes of it, worked out here: [CLS],
    each UTF-8 byte + 6 ([MASK] as 3), [SEP], padded with [PAD] under an attention mask."""
    texts = ["Paris, [MASK]!", "caf\u00e9"]
    rows = []
    for text in texts:
        ids = []
        for part in re.split(r"(\[MASK\])", text):
            ids += [3] if part == "[MASK]" else [byte + 6 for byte in part.encode("utf-8")]
        rows.append([4] + ids + [5])
    width = max(len(row) for row in rows)
    ids = np.array([row + [0] * (width - len(row)) for row in rows], dtype=np.int64)
    mask = np.array([[1] * len(row) + [0] * (width - len(row)) for row in rows], dtype=np.int64)
    for model in ["mlm", "seqcls"]:
        expected = client.infer(model, infer_inputs({"input_ids": ids, "attention_mask": mask}, binary=True))
        expected = expected.as_numpy("logits")
        for binary in (True, False):
            result = client.infer(model, text_inputs(texts, binary), outputs=[
                httpclient.InferRequestedOutput("logits", binary_data=binary)])
            logits = result.as_numpy("logits")
            same = logits is not None and logits.shape == expected.shape and np.array_equal(logits, expected)
            detail = "no logits" if logits is None else f"shape {logits.shape}, expected {expected.shape}"
            if logits is not None and logits.shape == expected.shape:
                detail = f"max abs difference {float(np.max(np.abs(logits - expected)))}"
            checks.expect(f"{model} text BYTES binary={binary}: the logits of its ids", same, detail)


def main():
    binary = os.environ.get("PERCEIVERD", ".build/debug/perceiverd")
    binary = binary if os.path.isabs(binary) else os.path.join(ROOT, binary)
    if not os.access(binary, os.X_OK):
        print(f"tritonclient: {binary} is not built (swift build)", file=sys.stderr)
        return 1
    checks = Checks()
    daemon = Daemon(binary)
    try:
        url = daemon.wait_ready()
        client = httpclient.InferenceServerClient(url=url, network_timeout=120)
        try:
            checks.run("health and metadata", lambda: check_health_and_metadata(checks, client))
            checks.run("inference", lambda: check_inference(checks, client))
            checks.run("errors", lambda: check_errors(checks, client))
            checks.run("latents", lambda: check_latents(checks, client))
            checks.run("classification", lambda: check_classification(checks, client))
            checks.run("text as BYTES", lambda: check_text_bytes(checks, client))
        finally:
            client.close()
    except Exception:  # noqa: BLE001
        checks.failed.append("startup")
        print(f"FAIL startup:\n{traceback.format_exc()}", file=sys.stderr)
    finally:
        status = daemon.terminate()
    checks.expect("exit status 0 after SIGTERM", status == 0, f"exit status {status}")
    time.sleep(0.1)  # let the reader thread take the last lines
    checks.expect("log says stopped", any(line.endswith(" stopped") for line in daemon.lines),
                  "\n".join(daemon.lines[-5:]))
    return checks.summary("tritonclient")


if __name__ == "__main__":
    sys.exit(main())
