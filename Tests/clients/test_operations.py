"""Triton's statistics, model configuration and logging extensions through NVIDIA's tritonclient.http against
the real binary (issue #21).

Starts perceiverd with access control on (an inference token and an admin token), admin.logging on and a text
classifier with chosen batching settings, then: known requests (five of one row, one of two, one refused) and
the statistics that count them, equal to /metrics; the model configuration, equal to the configuration file;
the log settings read, changed (an info line is no longer written, then is again) and refused (a bad value, an
inference token, no token). A second daemon with admin.repository on and admin.logging off refuses the log
settings and lists model_repository but not logging among its extensions.
Run by Tests/clients/run.sh (`make test`) after test_repository.py.

Environment: PERCEIVERD is the binary (default .build/debug/perceiverd), relative to the repository root.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from test_tritonclient import Checks, Daemon

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "Tests", "PerceiverEngineTests", "Fixtures", "models")
USER, ADMIN = "user-token-operations", "admin-token-operations"
AS_USER = {"Authorization": f"Bearer {USER}"}
AS_ADMIN = {"Authorization": f"Bearer {ADMIN}"}
# The classifier's settings in the configuration file; its configuration must answer them.
SEQCLS = {"name": "seqcls", "path": os.path.join(MODELS, "seqcls"), "max_batch_size": 4, "max_queue_delay_us": 100,
          "preferred_batch_sizes": [2, 4], "max_queue_size": 16, "instances": 2, "priority_levels": 2,
          "default_priority_level": 2, "default_timeout_us": 5000000}
DEFAULT_LOG_SETTINGS = {"log_file": "", "log_info": True, "log_warning": True, "log_error": True,
                        "log_verbose_level": 0, "log_format": "default"}


class ConfiguredDaemon(Daemon):
    """test_tritonclient's daemon (its log reader, readiness and SIGTERM), started as `perceiverd serve --config
    FILE` with `environment` added instead of with `--model` flags."""

    def __init__(self, binary, config, environment=None):
        self.lines, self.port = [], None
        self._ready = threading.Event()
        self.process = subprocess.Popen([binary, "serve", "--config", config], cwd=ROOT, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                        env={**os.environ, **(environment or {})})
        threading.Thread(target=self._read_log, daemon=True).start()

    def client(self):
        return httpclient.InferenceServerClient(url=self.wait_ready(), network_timeout=120)

    def logged(self, text, seconds=10):
        """Whether a log line holding `text` arrives within `seconds`."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.05)
        return False

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=30) as response:
            return response.read().decode()


def write_config(directory, name, config):
    path = os.path.join(directory, name)
    with open(path, "w") as file:
        json.dump(config, file)
    return path


def ids_input(rows, datatype="INT64"):
    """Distinct token ids per request (no two share latents), `rows` rows of four."""
    ids = np.array(rows, dtype=np.int64 if datatype == "INT64" else np.float32)
    tensor = httpclient.InferInput("input_ids", list(ids.shape), datatype)
    tensor.set_data_from_numpy(ids)
    return [tensor]


def metric(text, series):
    """The value of `series` (name and labels exactly as printed) in Prometheus text, or None."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


def refusal(check, name, call, status, words):
    """`call` raises InferenceServerException with `status` and a message holding `words`."""
    try:
        call()
        check.expect(name, False, "accepted")
    except InferenceServerException as error:
        message = error.message() or ""
        check.expect(name, error.status() == str(status) and all(word in message for word in words),
                     (error.status(), message))


def statistics(check, daemon, client):
    """Five one-row requests, one of two rows, one refused (FP32 ids): the counts and /metrics agree."""
    before = time.time() * 1000
    for i in range(5):
        client.infer("seqcls", ids_input([[4, 10 + i, 20 + i, 5]]), headers=AS_USER)
    client.infer("seqcls", ids_input([[4, 40, 41, 5], [4, 42, 43, 5]]), headers=AS_USER)
    refusal(check, "an FP32 input_ids is refused", lambda: client.infer(
        "seqcls", ids_input([[4, 50, 51, 5]], "FP32"), headers=AS_USER), 400, ["input_ids"])
    after = time.time() * 1000

    answer = client.get_inference_statistics("seqcls", headers=AS_USER)
    check.expect("one model_stat for seqcls", [s["name"] for s in answer["model_stats"]] == ["seqcls"], answer)
    stat = answer["model_stats"][0]
    check.expect("version", stat["version"] == "1", stat)
    check.expect("last_inference within the requests", before - 1 <= stat["last_inference"] <= after + 1,
                 (before, stat["last_inference"], after))
    check.expect("inference_count: 5 rows + 2 rows", stat["inference_count"] == 7, stat)
    check.expect("execution_count: one pass per request sent one at a time", stat["execution_count"] == 6, stat)
    inference = stat["inference_stats"]
    check.expect("success 6, fail 1", (inference["success"]["count"], inference["fail"]["count"]) == (6, 1), inference)
    check.expect("durations are nanoseconds > 0", inference["success"]["ns"] > 0 and inference["compute_infer"]["ns"] > 0,
                 inference)
    for phase in ("queue", "compute_input", "compute_infer", "compute_output"):
        check.expect(f"{phase} counts the 6 successes", inference[phase]["count"] == 6, inference[phase])
    batches = {b["batch_size"]: b["compute_infer"]["count"] for b in stat["batch_stats"]}
    check.expect("batch_stats: five passes of 1, one of 2", batches == {1: 5, 2: 1}, stat["batch_stats"])
    every = client.get_inference_statistics(headers=AS_USER)
    check.expect("all models' statistics hold the same", every["model_stats"] == [stat], every)
    check.expect("the versioned path too",
                 client.get_inference_statistics("seqcls", "1", headers=AS_USER)["model_stats"] == [stat])

    text = daemon.metrics()
    model = 'model="seqcls"'
    pairs = [
        ("inference_count", stat["inference_count"], f"perceiverd_inference_rows_total{{{model}}}"),
        ("execution_count", stat["execution_count"], f"perceiverd_inference_executions_total{{{model}}}"),
        ("success", inference["success"]["count"], f'perceiverd_inference_requests_total{{{model},status="200"}}'),
        ("fail", inference["fail"]["count"], f'perceiverd_inference_requests_total{{{model},status="400"}}'),
        ("queue", inference["queue"]["count"], f"perceiverd_inference_queue_duration_seconds_count{{{model}}}"),
        ("rows in batch_stats", sum(size * count for size, count in batches.items()),
         f"perceiverd_inference_batch_size_sum{{{model}}}"),
    ]
    for name, value, series in pairs:
        check.expect(f"{name} equals {series}", metric(text, series) == value, (value, metric(text, series)))
    queue_seconds = metric(text, f"perceiverd_inference_queue_duration_seconds_sum{{{model}}}") or -1
    check.expect("queue ns equals the queue histogram's sum", abs(inference["queue"]["ns"] - queue_seconds * 1e9) < 10,
                 (inference["queue"]["ns"], queue_seconds))


def configuration(check, client):
    """The configuration answers the file's settings in Triton's names."""
    config = client.get_model_config("seqcls", headers=AS_USER)
    check.expect("name, platform", (config["name"], config["platform"]) == ("seqcls", "perceiverd_safetensors"), config)
    check.expect("max_batch_size", config["max_batch_size"] == SEQCLS["max_batch_size"], config)
    batching = config["dynamic_batching"]
    expected = {"preferred_batch_size": [2, 4], "max_queue_delay_microseconds": 100, "priority_levels": 2,
                "default_priority_level": 2}
    check.expect("dynamic_batching", {key: batching.get(key) for key in expected} == expected, batching)
    policy = batching["default_queue_policy"]
    check.expect("default_queue_policy", (policy["max_queue_size"], policy["default_timeout_microseconds"],
                                          policy["timeout_action"]) == (16, 5000000, "REJECT"), policy)
    check.expect("instance_group", [(g["count"], g["kind"]) for g in config["instance_group"]] == [(2, "KIND_CPU")],
                 config["instance_group"])
    check.expect("input_ids INT64 without the batch dimension",
                 {"name": "input_ids", "data_type": "TYPE_INT64", "dims": [-1], "optional": False} in config["input"],
                 config["input"])
    check.expect("the versioned path too", client.get_model_config("seqcls", "1", headers=AS_USER) == config)


def log_settings(check, daemon, client):
    """Read, change (an info line disappears, then returns), and refuse."""
    check.expect("settings start at the configured level",
                 client.get_log_settings(headers=AS_ADMIN) == DEFAULT_LOG_SETTINGS,
                 client.get_log_settings(headers=AS_ADMIN))
    quiet = client.update_log_settings({"log_info": False}, headers=AS_ADMIN)
    check.expect("log_info false, the rest unchanged", quiet == {**DEFAULT_LOG_SETTINGS, "log_info": False}, quiet)
    check.expect("the change is logged", daemon.logged("log settings changed"))
    client.infer("seqcls", ids_input([[4, 60, 61, 5]]), headers={**AS_USER, "X-Request-ID": "operations-quiet"})
    loud = client.update_log_settings({"log_info": True, "log_verbose_level": 1}, headers=AS_ADMIN)
    check.expect("log_info true again, verbose 1", loud == {**DEFAULT_LOG_SETTINGS, "log_verbose_level": 1}, loud)
    client.infer("seqcls", ids_input([[4, 62, 63, 5]]), headers={**AS_USER, "X-Request-ID": "operations-loud"})
    check.expect("the request line is logged with log_info true", daemon.logged("request.id=operations-loud"))
    # The log is one stream in order: the later line arrived, so the earlier one would have too.
    check.expect("no request line while log_info was false",
                 not any("request.id=operations-quiet" in line for line in daemon.lines))
    check.expect("GET answers the change", client.get_log_settings(headers=AS_ADMIN)["log_verbose_level"] == 1)

    refusal(check, "log_file cannot be changed", lambda: client.update_log_settings(
        {"log_file": "/tmp/perceiverd.log"}, headers=AS_ADMIN), 400, ["log_file"])
    refusal(check, "log_format ISO8601 is refused", lambda: client.update_log_settings(
        {"log_format": "ISO8601"}, headers=AS_ADMIN), 400, ["log_format"])
    refusal(check, "a string flag is refused", lambda: client.update_log_settings(
        {"log_info": "false"}, headers=AS_ADMIN), 400, ["log_info", "boolean"])
    refusal(check, "a negative verbose level is refused", lambda: client.update_log_settings(
        {"log_verbose_level": -1}, headers=AS_ADMIN), 400, ["log_verbose_level"])
    refusal(check, "an unknown setting is refused", lambda: client.update_log_settings(
        {"log_warnings": False}, headers=AS_ADMIN), 400, ["log_warnings"])
    refusal(check, "an inference token may not change them", lambda: client.update_log_settings(
        {"log_verbose_level": 0}, headers=AS_USER), 403, ["admin token"])
    refusal(check, "no token may not read them", lambda: client.get_log_settings(), 401, [])
    check.expect("refusals changed nothing", client.get_log_settings(headers=AS_ADMIN)["log_verbose_level"] == 1)
    client.update_log_settings({"log_verbose_level": 0}, headers=AS_ADMIN)


def extensions(client, headers=None):
    return client.get_server_metadata(headers=headers)["extensions"]


def main():
    binary = os.environ.get("PERCEIVERD", ".build/debug/perceiverd")
    binary = binary if os.path.isabs(binary) else os.path.join(ROOT, binary)
    check = Checks()
    scratch = tempfile.mkdtemp(prefix="perceiverd-operations-")
    operated = write_config(scratch, "operated.json", {"port": 0, "threads": 1, "admin": {"logging": True},
                                                       "models": [SEQCLS]})
    plain = write_config(scratch, "plain.json", {"port": 0, "threads": 1, "admin": {"repository": True},
                                                 "models": [{"name": "seqcls", "path": SEQCLS["path"]}]})
    daemons = [ConfiguredDaemon(binary, operated, {"PERCEIVERD_TOKENS": USER, "PERCEIVERD_ADMIN_TOKENS": ADMIN}),
               ConfiguredDaemon(binary, plain)]
    try:
        client = daemons[0].client()
        listed = extensions(client, AS_USER)
        check.expect("extensions: statistics, model_configuration, logging; no model_repository",
                     {"statistics", "model_configuration", "logging"} <= set(listed) and "model_repository" not in listed,
                     listed)
        check.run("statistics", lambda: statistics(check, daemons[0], client))
        check.run("configuration", lambda: configuration(check, client))
        check.run("log settings", lambda: log_settings(check, daemons[0], client))
        client.close()

        other = daemons[1].client()
        listed = extensions(other)
        check.expect("without admin.logging: model_repository listed, logging not",
                     "model_repository" in listed and "logging" not in listed, listed)
        refusal(check, "without admin.logging the settings are refused", lambda: other.get_log_settings(), 403,
                ["admin.logging"])
        refusal(check, "and cannot be changed", lambda: other.update_log_settings({"log_info": False}), 403,
                ["admin.logging"])
        other.close()
    except Exception as error:  # noqa: BLE001
        check.expect("no exception", False, repr(error))
    finally:
        statuses = [daemon.terminate() for daemon in daemons]
        shutil.rmtree(scratch, ignore_errors=True)
    check.expect("exit status 0 after SIGTERM", statuses == [0, 0], statuses)
    if check.failed:
        for daemon in daemons:
            print("\n".join(daemon.lines[-20:]), file=sys.stderr)
    return check.summary("operations")


if __name__ == "__main__":
    sys.exit(main())
