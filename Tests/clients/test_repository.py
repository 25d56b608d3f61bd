"""The model repository extension through NVIDIA's tritonclient.http against the real binary (issue #21).

Starts perceiverd with admin.repository on and the fixture masked LM, then: the repository index; a load with a
configuration override; ten reloads with new weights while four clients keep sending (no answer but 200); a
200 MB model loaded and unloaded with the daemon's resident memory rising and falling by its size; unload.
Run by Tests/clients/run.sh (`make test`) after test_tritonclient.py.

Environment: PERCEIVERD is the binary (default .build/debug/perceiverd), relative to the repository root.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import tritonclient.http as httpclient
from safetensors.numpy import load_file, save_file
from tritonclient.utils import InferenceServerException

from test_tritonclient import Checks

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "Tests", "PerceiverEngineTests", "Fixtures", "models")
# Rows of each of the masked LM's two position tables in the large model: 2 x 786432 x 32 float32 = 201 MB.
LARGE_POSITIONS = 786432


def resident_anonymous_bytes(pid):
    """RssAnon of `pid`: the weights the daemon reads into its own memory, and its heap."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return 0


def write_large_model(directory):
    """The fixture masked LM with 786432-row position tables: about 201 MB of weights, same architecture."""
    os.makedirs(directory)
    with open(os.path.join(MODELS, "mlm", "config.json")) as file:
        config = json.load(file)
    config["max_position_embeddings"] = LARGE_POSITIONS
    with open(os.path.join(directory, "config.json"), "w") as file:
        json.dump(config, file)
    tensors = load_file(os.path.join(MODELS, "mlm", "model.safetensors"))
    generator = np.random.default_rng(21)
    for name, array in list(tensors.items()):
        if "position" in name and array.shape[0] == 24:
            tensors[name] = generator.standard_normal((LARGE_POSITIONS, array.shape[1]), dtype=np.float32) * 0.02
    save_file(tensors, os.path.join(directory, "model.safetensors"))
    return os.path.getsize(os.path.join(directory, "model.safetensors"))


def text_input():
    ids = np.array([[4, 70, 71, 72, 5]], dtype=np.int64)
    tensor = httpclient.InferInput("input_ids", list(ids.shape), "INT64")
    tensor.set_data_from_numpy(ids)
    return [tensor]


def main():
    binary = os.environ.get("PERCEIVERD", ".build/debug/perceiverd")
    binary = binary if os.path.isabs(binary) else os.path.join(ROOT, binary)
    check = Checks()
    scratch = tempfile.mkdtemp(prefix="perceiverd-repository-")
    weights = os.path.join(scratch, "mlm")
    shutil.copytree(os.path.join(MODELS, "mlm"), weights)
    config = os.path.join(scratch, "config.json")
    with open(config, "w") as file:
        json.dump({"port": 0, "threads": 1, "admin": {"repository": True},
                   "models": [{"name": "mlm", "path": weights}]}, file)
    process = subprocess.Popen([binary, "serve", "--config", config], cwd=ROOT, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines, ready = [], threading.Event()

    def read_log():
        for line in process.stderr:
            lines.append(line.rstrip("\n"))
            if line.rstrip().endswith(" ready"):
                ready.set()
        ready.set()

    threading.Thread(target=read_log, daemon=True).start()
    try:
        ready.wait(120)
        port = next(int(m.group(1)) for line in lines if (m := re.search(r"http\.port=(\d+)", line)))
        client = httpclient.InferenceServerClient(url=f"127.0.0.1:{port}", network_timeout=300)

        index = client.get_model_repository_index()
        check.expect("index lists mlm READY", index == [{"name": "mlm", "version": "1", "state": "READY", "reason": ""}],
                     index)

        # A load with a configuration override: a second name, another version, a smaller batch.
        client.load_model("seqcls", config=json.dumps({"path": os.path.join(MODELS, "seqcls"), "version": "3",
                                                       "max_batch_size": 2}))
        check.expect("seqcls ready after load", client.is_model_ready("seqcls", "3"))
        metadata = client.get_model_metadata("seqcls")
        check.expect("seqcls metadata version", metadata["versions"] == ["3"], metadata)
        ids = np.full((3, 4), 7, dtype=np.int64)
        tensor = httpclient.InferInput("input_ids", list(ids.shape), "INT64")
        tensor.set_data_from_numpy(ids)
        try:
            client.infer("seqcls", [tensor])
            check.expect("override's max_batch_size applies", False, "3 rows accepted")
        except InferenceServerException as error:
            check.expect("override's max_batch_size applies", "max_batch_size 2" in (error.message() or ""),
                         error.message())
        try:
            client.load_model("seqcls", config=json.dumps({"path": os.path.join(MODELS, "seqcls"),
                                                           "max_batch_size": 0}))
            check.expect("a bad configuration is refused", False, "accepted")
        except InferenceServerException as error:
            check.expect("a bad configuration is refused", "max_batch_size" in (error.message() or ""),
                         error.message())

        # Ten reloads with new weights while four clients keep sending: every answer 200.
        statuses, stop = [], threading.Event()

        def send():
            own = httpclient.InferenceServerClient(url=f"127.0.0.1:{port}", network_timeout=300)
            while not stop.is_set():
                try:
                    own.infer("mlm", text_input())
                    statuses.append(200)
                except InferenceServerException as error:
                    statuses.append(error.status() or "error")
            own.close()

        senders = [threading.Thread(target=send) for _ in range(4)]
        for sender in senders:
            sender.start()
        started = time.time()
        outputs = []
        for round_ in range(10):
            source = "mlm_f16" if round_ % 2 == 0 else "mlm"
            shutil.copyfile(os.path.join(MODELS, source, "model.safetensors"), os.path.join(weights, "model.safetensors"))
            client.load_model("mlm")
            outputs.append(client.infer("mlm", text_input()).as_numpy("logits"))
        stop.set()
        for sender in senders:
            sender.join()
        elapsed = time.time() - started
        codes = {code: statuses.count(code) for code in set(statuses)}
        print(f"repository: 10 reloads in {elapsed:.1f} s under 4 clients: {len(statuses)} requests, "
              f"{len(statuses) / elapsed:.0f}/s, statuses {codes}")
        check.expect("reloads under load: every answer 200", set(statuses) == {200} and len(statuses) >= 10, codes)
        differences = [float(np.max(np.abs(outputs[i] - outputs[i + 1]))) for i in range(9)]
        check.expect("each reload serves the new weights", all(d > 1e-4 for d in differences), differences)

        # A 201 MB model: resident memory rises by its size on load and falls by it on unload.
        size = write_large_model(os.path.join(scratch, "large"))
        before = resident_anonymous_bytes(process.pid)
        client.load_model("large", config=json.dumps({"path": os.path.join(scratch, "large")}))
        loaded = resident_anonymous_bytes(process.pid)
        check.expect("large ready", client.is_model_ready("large"))
        client.infer("large", text_input())
        client.unload_model("large")
        # The unload answers once the model has retired (its workers answered what they had and exited); the
        # last reference to its weights, and with it their munmap, may go a moment later on a worker's thread,
        # so the memory is read until it falls, for at most 10 s.
        deadline = time.monotonic() + 10
        after = resident_anonymous_bytes(process.pid)
        while loaded - after < 0.9 * size and time.monotonic() < deadline:
            time.sleep(0.1)
            after = resident_anonymous_bytes(process.pid)
        print(f"repository: {size / 2**20:.0f} MiB model: RssAnon {before / 2**20:.0f} -> {loaded / 2**20:.0f} "
              f"(loaded) -> {after / 2**20:.0f} MiB (unloaded)")
        check.expect("load adds the weights to resident memory", loaded - before >= 0.9 * size, (before, loaded))
        check.expect("unload gives them back", loaded - after >= 0.9 * size, (loaded, after))
        check.expect("large unloaded", not client.is_model_ready("large"))
        states = {entry["name"]: entry["state"] for entry in client.get_model_repository_index()}
        check.expect("index after unload", states == {"mlm": "READY", "seqcls": "READY", "large": "UNAVAILABLE"},
                     states)
        client.unload_model("seqcls")
        check.expect("seqcls unloaded", not client.is_model_ready("seqcls"))
        client.close()
    except Exception as error:  # noqa: BLE001
        check.expect("no exception", False, repr(error))
    finally:
        process.send_signal(signal.SIGTERM)
        status = process.wait(60)
        shutil.rmtree(scratch, ignore_errors=True)
    check.expect("exit status 0 after SIGTERM", status == 0, status)
    if check.failed:
        print("\n".join(lines[-20:]), file=sys.stderr)
    return check.summary("repository")


if __name__ == "__main__":
    sys.exit(main())
