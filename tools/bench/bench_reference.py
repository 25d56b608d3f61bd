#!/usr/bin/env python3
"""The PyTorch and ONNX Runtime sides of the reference benchmark: checkpoints, ONNX exports, timed runs, the table.

tools/bench/bench_reference.sh runs the whole benchmark; the subcommands are its parts:

    checkpoint --config language|vision-learned|optical-flow|multimodal --out DIR
        A seeded random-weight save_pretrained directory (safetensors) with deepmind/language-perceiver's,
        deepmind/vision-perceiver-learned's, deepmind/optical-flow-perceiver's or deepmind/multimodal-perceiver's
        configuration (docs/reference/perceiver.md D.1), unless DIR already holds one. tools/bench/bench_latents.sh
        uses the last two.
    run --checkpoint DIR --batch B --mode f32|bf16-weights|bf16-autocast --threads T --runs N [--sequence S]
        Loads DIR with transformers (the class named by config.json's architectures[0]), runs one warm-up and
        N timed forward passes, and prints one JSON line to stdout (everything else goes to stderr).
    export-onnx --checkpoint DIR --batch B --threads T [--sequence S]
        Exports DIR's logits to ONNX with torch.onnx.export (the dynamo exporter; the TorchScript one, saying so,
        if dynamo fails), the batch and sequence fixed, into .build/onnx/NAME-batchB[-seqS]/model.onnx (weights
        in model.onnx.data beside it), then runs the benchmark inputs through ONNX Runtime and PyTorch and fails
        unless every logit agrees within ONNX_TOLERANCE times the largest. export.json there records what it was
        exported from (the checkpoint's path, config.json's hash, the weights' size and mtime, B, S, the torch and
        onnxscript versions) and the check; an export whose record matches is reused, anything else is exported
        again.
    run-onnx --checkpoint DIR --batch B --threads T --runs N [--sequence S]
        Times that export in ONNX Runtime's CPU execution provider (intra_op_num_threads T, inter_op 1,
        ORT_ENABLE_ALL, sequential execution): one warm-up and N timed runs, one JSON line on stdout with engine
        "onnxruntime", mode "f32". It imports neither torch nor transformers, so its peak RSS is ONNX Runtime's.
        f32 only: ONNX Runtime 1.32's CPU execution provider has no bf16 MatMul kernel (a bf16 MatMul model fails
        to load with NOT_IMPLEMENTED; its bf16 fast-math GEMM is an Arm64 session option), and int8 is left out
        because quantizing changes the model's numerics, so it would not be the same computation as the others.
    report FILE.jsonl
        The markdown table of PyTorch, ONNX Runtime and perceiverd from the engines' JSON lines, with the CPU,
        oneDNN's ISA and matmul peak first, then the targets, each PASS or FAIL.

The inputs are deterministic and the same as perceiverd's `PerceiverBench reference` builds (made with numpy;
PyTorch gets the same arrays through torch.from_numpy):
    masked LM:        input_ids[b, i] = 6 + ((b*S + i) * 7919) % 256 (int64, (B, S)), attention_mask all ones
    image classifier: pixel_values[b, c, y, x] = sin(0.01 * (((b*3 + c)*H + y)*W + x)), computed in double and
                      rounded to float32, (B, 3, H, W) with H = W = image_size (224)

torch and transformers are imported inside the subcommands that use them (run-onnx and report do not), because
importing them costs about 340 MiB of resident memory that would count in ONNX Runtime's peak RSS.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

from bench_common import positive

ROOT = Path(__file__).resolve().parents[2]
ONNX_ROOT = ROOT / ".build" / "onnx"
# Bump when export-onnx writes a different graph for the same checkpoint, so older exports are made again.
EXPORT_FORMAT = 1
# ONNX Runtime's logits against PyTorch's on the same inputs: max abs difference over the largest |logit|. Both
# compute in f32 with f32 accumulation and differ only in summation order and in the nodes ORT_ENABLE_ALL fuses
# (LayerNorm, GELU, MatMul + Add): a few units of f32 rounding (6e-8 relative) per dot product of at most 2,048
# terms, carried through 28 (language) or 50 (vision) attention layers. Seen: 7.6e-7 on language logits up to
# 0.76 (1.0e-6 relative; batch 1 and 8), 7.7e-7 on vision logits up to 1.17 (6.6e-7). 1e-4 of the scale leaves
# about 100x headroom over that, and is far below what an export that changes the computation leaves (a dropped
# attention mask, a wrong softmax axis or a missing layer moves such logits by a large part of their size).
# Relative, because a checkpoint's logits can be of any scale (models/demo-mlm's are below 0.02).
ONNX_TOLERANCE = 1e-4

TARGET_F32_SPEEDUP = 1.4
TARGET_BF16_SPEEDUP = 2.0
TARGET_ORT_SPEEDUP = 1.05
TARGET_HTTP_ORT_SPEEDUP = 1.0
TARGET_F32_PEAK_FRACTION = 0.90
TARGET_START_TO_READY_S = 3.0
# The (config, batch) rows tools/bench/bench_reference.sh measures; the report lists them even when records are missing.
EXPECTED_ROWS = [("language-perceiver", 1), ("language-perceiver", 8), ("vision-perceiver-learned", 1)]
CHECKPOINT_NAMES = ["language", "multimodal", "optical-flow", "vision-learned"]
ENGINE_NAMES = ["pytorch", "onnxruntime", "perceiverd", "perceiverd-http", "perceiverd-matmul", "perceiverd-unfolded"]
# perceiverd's extra rows by record engine, with their labels in the table.
VARIANT_ROWS = {"perceiverd-http": "perceiverd over HTTP", "perceiverd-matmul": "perceiverd, linear as matmul",
                "perceiverd-unfolded": "perceiverd, cross-attention unfolded"}
VARIANT_LABELS = {label: engine for engine, label in VARIANT_ROWS.items()}


def vision_learned_config():
    """deepmind/vision-perceiver-learned's configuration (HF conversion script values), minus the trained weights."""
    from transformers import PerceiverConfig
    return PerceiverConfig(
        d_model=512, d_latents=1024, num_latents=512, num_blocks=8, num_self_attends_per_block=6,
        num_self_attention_heads=8, num_cross_attention_heads=1, qk_channels=None, v_channels=None,
        image_size=224, num_labels=1000, architectures=["PerceiverForImageClassificationLearned"],
    )


def optical_flow_config():
    """deepmind/optical-flow-perceiver's config.json (the one PerceiverBench's `opticalFlowPerceiver` mirrors)."""
    from transformers import PerceiverConfig
    return PerceiverConfig(
        d_model=322, d_latents=512, num_latents=2048, num_blocks=1, num_self_attends_per_block=24,
        num_self_attention_heads=16, num_cross_attention_heads=1, qk_channels=None, v_channels=None,
        train_size=[368, 496], architectures=["PerceiverForOpticalFlow"],
    )


def multimodal_config():
    """deepmind/multimodal-perceiver's configuration (HF conversion script values): 16 frames of 224 x 224
    video (image_size 56 after 4x space-to-depth), 30,720 audio samples in patches of 16, 700 labels."""
    from transformers import PerceiverConfig
    return PerceiverConfig(
        d_model=704, d_latents=512, num_latents=784, num_blocks=1, num_self_attends_per_block=8,
        num_self_attention_heads=8, num_cross_attention_heads=1, qk_channels=None, v_channels=None,
        num_labels=700, image_size=56, num_frames=16, audio_samples_per_frame=1920, samples_per_patch=16,
        output_shape=[1, 16, 224, 224], output_num_channels=512,
        architectures=["PerceiverForMultimodalAutoencoding"],
    )


def checkpoint_specs() -> dict:
    """--config name -> (model class, configuration, expected parameter count)."""
    # Imported before transformers: it also switches the Hugging Face hub offline.
    import make_language_model
    from transformers import (
        PerceiverForImageClassificationLearned,
        PerceiverForMaskedLM,
        PerceiverForMultimodalAutoencoding,
        PerceiverForOpticalFlow,
    )
    return {
        "language": (PerceiverForMaskedLM, make_language_model.language_perceiver_config,
                     make_language_model.EXPECTED_PARAMETERS),
        "vision-learned": (PerceiverForImageClassificationLearned, vision_learned_config, 62_255_848),
        "optical-flow": (PerceiverForOpticalFlow, optical_flow_config, 41_057_134),
        "multimodal": (PerceiverForMultimodalAutoencoding, multimodal_config, 19_858_855),
    }


def checkpoint(args: argparse.Namespace) -> int:
    """Writes the --config checkpoint into --out (seed make_language_model.SEED) unless it is there already."""
    import make_language_model
    import torch
    out = Path(args.out)
    if make_language_model.is_present(out):
        print("exists")
        return 0
    model_class, config, expected = checkpoint_specs()[args.config]
    torch.manual_seed(make_language_model.SEED)
    model = model_class(config()).eval()
    parameters = sum(p.numel() for p in model.parameters())
    if parameters != expected:
        print(f"error: {parameters:,} parameters, expected {expected:,}", file=sys.stderr)
        return 1
    make_language_model.save_model(model, out)
    print(f"{out}: {model_class.__name__}, {parameters:,} parameters")
    return 0


def load_pytorch(directory: Path):
    """DIR's model in f32, eval mode, with transformers' class named by config.json's architectures[0]."""
    import make_language_model  # noqa: F401 (switches the hub offline before transformers is imported)
    import torch
    import transformers
    architecture = json.loads((directory / "config.json").read_text())["architectures"][0]
    return getattr(transformers, architecture).from_pretrained(directory, dtype=torch.float32).eval()


def make_inputs(config: dict, batch: int, sequence: int) -> dict:
    """The forward pass's inputs as numpy arrays (see the module docstring for the formulas); CONFIG is
    config.json's contents. PyTorch gets the same arrays through torch.from_numpy."""
    import numpy as np
    architecture = config["architectures"][0]
    if architecture == "PerceiverForMaskedLM":
        index = np.arange(batch * sequence, dtype=np.int64).reshape(batch, sequence)
        return {"input_ids": 6 + (index * 7919) % 256, "attention_mask": np.ones_like(index)}
    if architecture.startswith("PerceiverForImageClassification"):
        size = config["image_size"]
        index = np.arange(batch * 3 * size * size, dtype=np.float64).reshape(batch, 3, size, size)
        return {"pixel_values": np.sin(0.01 * index).astype(np.float32)}
    raise SystemExit(f"error: no benchmark inputs for {architecture}")


def make_torch_inputs(config: dict, batch: int, sequence: int) -> dict:
    """make_inputs as torch tensors (sharing the arrays' memory), the forward pass's keyword arguments."""
    import torch
    return {name: torch.from_numpy(array) for name, array in make_inputs(config, batch, sequence).items()}


def top1(architecture: str, logits) -> list[int]:
    """The argmax ids to compare with perceiverd: the first row's positions 0..63 (masked LM), else per row.
    LOGITS is a torch tensor or a numpy array."""
    if architecture == "PerceiverForMaskedLM":
        return logits[0, :64].argmax(-1).tolist()
    return logits.argmax(-1).tolist()


def run(args: argparse.Namespace) -> int:
    """Times the forward pass of --checkpoint and prints the result as one JSON line."""
    import torch
    torch.set_num_threads(args.threads)
    directory = Path(args.checkpoint)
    start = time.perf_counter()
    model = load_pytorch(directory)
    load_s = time.perf_counter() - start
    config = json.loads((directory / "config.json").read_text())
    architecture = config["architectures"][0]
    inputs = make_torch_inputs(config, args.batch, args.sequence)
    if args.mode == "bf16-weights":
        model.to(torch.bfloat16)
        inputs = {name: t.to(torch.bfloat16) if t.is_floating_point() else t for name, t in inputs.items()}

    times_ms = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.mode == "bf16-autocast"):
        logits = model(**inputs).logits  # warm-up
        for _ in range(args.runs):
            start = time.perf_counter()
            logits = model(**inputs).logits
            times_ms.append((time.perf_counter() - start) * 1e3)

    print(json.dumps({
        "engine": "pytorch", "config": directory.absolute().name, "batch": args.batch, "mode": args.mode,
        "threads": args.threads, "runs": args.runs, "median_ms": round(statistics.median(times_ms), 2),
        "min_ms": round(min(times_ms), 2), "max_ms": round(max(times_ms), 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_s": round(load_s, 3), "torch": torch.__version__, "top1": top1(architecture, logits),
    }))
    return 0


def export_source(checkpoint: Path, config_text: str, batch: int, sequence: int | None) -> dict:
    """What an export is made from; export.json records it and an export is reused only while it is unchanged.
    SEQUENCE is None for a model without one."""
    weights = (checkpoint / "model.safetensors").stat()
    return {
        "format": EXPORT_FORMAT, "checkpoint": str(checkpoint.resolve()),
        "config_sha256": hashlib.sha256(config_text.encode()).hexdigest(),
        "weights_bytes": weights.st_size, "weights_mtime_ns": weights.st_mtime_ns, "batch": batch,
        "sequence": sequence, "torch": importlib.metadata.version("torch"),
        "onnxscript": importlib.metadata.version("onnxscript"),
    }


def current_export(checkpoint: Path, batch: int, sequence: int) -> tuple[Path, dict, dict, dict | None]:
    """(export directory .build/onnx/NAME-batchB[-seqS], config.json, what an export would be made from now,
    export.json's record if it was made from that, else None). The sequence counts for a masked LM only."""
    config_text = (checkpoint / "config.json").read_text()
    config = json.loads(config_text)
    directory = ONNX_ROOT / f"{checkpoint.absolute().name}-batch{batch}"
    if config["architectures"][0] == "PerceiverForMaskedLM":
        directory = directory.with_name(directory.name + f"-seq{sequence}")
    else:
        sequence = None
    source = export_source(checkpoint, config_text, batch, sequence)
    try:
        record = json.loads((directory / "export.json").read_text())
    except (OSError, ValueError):
        record = None
    if record is None or record.get("source") != source or not (directory / "model.onnx").is_file():
        return directory, config, source, None
    return directory, config, source, record


def onnx_session(path: Path, threads: int):
    """An ONNX Runtime CPU session the way the benchmark runs it: THREADS intra-op threads, one inter-op,
    every graph optimization, nodes run one at a time."""
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def export_to_onnx(model, names: list[str], inputs: tuple, path: Path) -> str:
    """Writes MODEL's logits as PATH (the dynamo exporter puts the weights in PATH.data) for exactly these input
    shapes; returns the exporter that worked: "dynamo" (torch.export + onnxscript), else "torchscript"."""
    import torch

    class Logits(torch.nn.Module):
        """The model with its inputs by position and its logits as the only output (ONNX has no ModelOutput)."""

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *tensors):
            return self.model(**dict(zip(names, tensors))).logits

    try:
        torch.onnx.export(Logits().eval(), inputs, str(path), dynamo=True, input_names=names, output_names=["logits"],
                          external_data=True)
        return "dynamo"
    except Exception as error:  # noqa: BLE001 (any failure of the dynamo exporter falls back)
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        print(f"warning: the dynamo exporter failed ({type(error).__name__}: {first}); falling back to the "
              "TorchScript exporter (dynamo=False), whose graph ONNX Runtime may run differently", file=sys.stderr)
    for stale in path.parent.iterdir():
        stale.unlink()
    torch.onnx.export(Logits().eval(), inputs, str(path), dynamo=False, input_names=names, output_names=["logits"],
                      opset_version=17)
    return "torchscript"


def export_onnx(args: argparse.Namespace) -> int:
    """Exports --checkpoint at --batch (and --sequence) unless a matching export exists, then checks ONNX
    Runtime's logits against PyTorch's on the benchmark inputs."""
    checkpoint = Path(args.checkpoint)
    directory, config, source, record = current_export(checkpoint, args.batch, args.sequence)
    if record is not None:
        print(f"{directory}: up to date ({record['exporter']} export, max abs diff {record['max_abs_diff']:.2e})")
        return 0
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    model = load_pytorch(checkpoint)
    feeds = make_inputs(config, args.batch, args.sequence)
    inputs = {name: torch.from_numpy(array) for name, array in feeds.items()}

    partial = directory.with_name(directory.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    start = time.perf_counter()
    exporter = export_to_onnx(model, list(inputs), tuple(inputs.values()), partial / "model.onnx")
    export_s = time.perf_counter() - start
    with torch.inference_mode():
        expected = model(**inputs).logits.numpy()
    del model
    actual = onnx_session(partial / "model.onnx", args.threads).run(["logits"], feeds)[0]
    if actual.shape != expected.shape:
        print(f"error: ONNX Runtime's logits are {actual.shape}, PyTorch's {expected.shape} ({partial})",
              file=sys.stderr)
        return 1
    diff = float(np.abs(actual.astype(np.float64) - expected).max())
    scale = float(np.abs(expected).max())
    agree = float((actual.argmax(-1) == expected.argmax(-1)).mean())
    print(f"{checkpoint.absolute().name} batch {args.batch}: {exporter} export in {export_s:.1f} s; ONNX Runtime "
          f"against PyTorch, max abs diff {diff:.2e} (logits up to {scale:.2f} in magnitude, tolerance "
          f"{ONNX_TOLERANCE:g} x {scale:.2f}), argmax equal at {agree:.2%} of positions", file=sys.stderr)
    if not diff <= ONNX_TOLERANCE * scale:  # also catches NaN
        print(f"error: ONNX Runtime's logits differ from PyTorch's by {diff:.3e} > {ONNX_TOLERANCE:g} x {scale:.3g}; "
              f"the export is kept in {partial} for inspection and not used", file=sys.stderr)
        return 1
    (partial / "export.json").write_text(json.dumps({
        "source": source,
        "exporter": exporter, "export_s": round(export_s, 1), "max_abs_diff": diff, "max_abs_logit": scale,
        "argmax_agreement": agree, "relative_tolerance": ONNX_TOLERANCE, "onnx": importlib.metadata.version("onnx"),
        "onnxruntime": importlib.metadata.version("onnxruntime"),
    }, indent=2) + "\n")
    shutil.rmtree(directory, ignore_errors=True)
    partial.rename(directory)
    print(directory)
    return 0


def run_onnx(args: argparse.Namespace) -> int:
    """Times export-onnx's export of --checkpoint in ONNX Runtime and prints the result as one JSON line."""
    import numpy as np
    import onnxruntime
    checkpoint = Path(args.checkpoint)
    directory, config, _, record = current_export(checkpoint, args.batch, args.sequence)
    if record is None:
        print(f"error: no current ONNX export in {directory}; run export-onnx with the same --checkpoint, --batch "
              "and --sequence first", file=sys.stderr)
        return 1
    feeds = make_inputs(config, args.batch, args.sequence)
    start = time.perf_counter()
    session = onnx_session(directory / "model.onnx", args.threads)
    load_s = time.perf_counter() - start

    times_ms = []
    logits = session.run(["logits"], feeds)[0]  # warm-up
    for _ in range(args.runs):
        start = time.perf_counter()
        logits = session.run(["logits"], feeds)[0]
        times_ms.append((time.perf_counter() - start) * 1e3)

    print(json.dumps({
        "engine": "onnxruntime", "config": checkpoint.absolute().name, "batch": args.batch, "mode": "f32",
        "threads": args.threads, "runs": args.runs, "median_ms": round(statistics.median(times_ms), 2),
        "min_ms": round(min(times_ms), 2), "max_ms": round(max(times_ms), 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_s": round(load_s, 3), "onnxruntime": onnxruntime.__version__, "exporter": record["exporter"],
        "max_abs_diff_vs_pytorch": record["max_abs_diff"], "top1": top1(config["architectures"][0], np.asarray(logits)),
    }))
    return 0


def cell(value: float | None, spec: str) -> str:
    """VALUE formatted with SPEC, or "missing"."""
    return "missing" if value is None else format(value, spec)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """NUMERATOR / DENOMINATOR, or None when either is missing."""
    return None if numerator is None or denominator is None else numerator / denominator


def target_line(name: str, shown: str | None, met: bool) -> str:
    """One target's verdict, PASS or FAIL, with the measured SHOWN; None means a record it needs is missing."""
    if shown is None:
        return f"- {name}: missing"
    return f"- {name}: {shown} — {'PASS' if met else 'FAIL'}"


def speedup_target(name: str, value: float | None, minimum: float) -> str:
    """The target line for a speed-up (their median / perceiverd's) of at least MINIMUM."""
    shown = None if value is None else f"{value:.2f}x"
    return target_line(f"{name} >= {minimum:g}x", shown, value is not None and value >= minimum)


def read_records(path: str) -> tuple[dict, dict | None, dict | None]:
    """({(engine, config, batch, mode): record}, the matmul-peak record, the start-to-ready record)."""
    runs, peak, start = {}, None, None
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        kind = record.get("kind")
        if kind == "matmul-peak":
            peak = record
        elif kind == "start-to-ready":
            start = record
        elif record.get("engine") in ENGINE_NAMES:
            runs[record["engine"], record["config"], record["batch"], record["mode"]] = record
        else:
            print(f"{path}:{number}: unknown record, ignored", file=sys.stderr)
    return runs, peak, start


def print_machine(runs: dict, peak: dict | None) -> None:
    """The lines above the table: the CPU, oneDNN's ISA and matmul peak, the versions, what the ratios mean."""
    if peak:
        print(f"CPU {peak.get('cpu', 'unknown')}, oneDNN isa {peak.get('isa', 'unknown')}, "
              f"bf16 {peak.get('bf16', 'unknown')}")
        print(f"oneDNN matmul peak, {peak.get('threads')} threads: f32 {cell(peak.get('f32_gflops'), '.1f')} GFLOP/s, "
              + (f"bf16 {cell(peak.get('bf16_gflops'), '.1f')} GFLOP/s" if peak.get("bf16_native")
                 else "bf16 not native here"))
        if "f32_matmul_gflops" in peak:
            print(f"f32 peak = the faster of oneDNN's matmul ({cell(peak.get('f32_matmul_gflops'), '.1f')} GFLOP/s) and "
                  f"its 1x1 convolution ({cell(peak.get('f32_convolution_gflops'), '.1f')} GFLOP/s); perceiverd's f32 "
                  f"linear layers here: {peak.get('f32_linear', 'unknown')}")
    else:
        print("oneDNN matmul peak: missing")
    torch_versions = sorted({r["torch"] for r in runs.values() if "torch" in r})
    ort = [r for r in runs.values() if r["engine"] == "onnxruntime"]
    ort_versions = sorted({f"{r['onnxruntime']} ({r['exporter']} export)" for r in ort})
    worst = max((r["max_abs_diff_vs_pytorch"] for r in ort), default=None)
    print(f"PyTorch {', '.join(torch_versions) or 'missing'}; ONNX Runtime {', '.join(ort_versions) or 'missing'}"
          + ("" if worst is None else f", logits within {worst:.1e} of PyTorch's"))
    print("ONNX Runtime runs f32 only: its CPU execution provider has no bf16 MatMul, and int8 quantization would "
          "change the numerics")
    print("GFLOP/s = the matmul FLOPs the row's engine runs / median: the model's as transformers computes them "
          "(perceiverd's count), less what perceiverd folded away at load; perceiverd vs X = X's median / perceiverd's median")
    for (engine, config, batch, mode), record in sorted(runs.items()):
        if engine == "perceiverd" and record.get("folded_gflop", 0) > 0.05:
            print(f"perceiverd folds {config}'s cross-attention at load (into its constant queries, or a text "
                  f"model's keys and values into tables): batch {batch} {mode} runs "
                  f"{record['executed_gflop']:.1f} of the model's {record['gflop']:.1f} GFLOP")
    print()


def executed_gflop(record: dict, ours: dict, model_gflop: float | None) -> float | None:
    """The matmul GFLOP a row's engine runs in one pass: its own count where it reports one (perceiverd's runs
    report what ran after folds), perceiverd's for the HTTP row (the same engine), else the model's."""
    if "executed_gflop" in record:
        return record["executed_gflop"]
    if record.get("engine") == "perceiverd-http":
        return ours.get("executed_gflop", model_gflop)
    return model_gflop


def print_table(runs: dict, peak: dict | None, configs: list, precisions: list) -> dict:
    """The markdown table, one row per (config, batch, engine, mode); returns {(config, batch, precision, key):
    value} for the targets, key "pytorch" / "onnxruntime" (speed-ups), "rate" (perceiverd's GFLOP/s),
    "ceiling" (the PyTorch speed-up at 100% of the peak), "rss" ((PyTorch MiB, perceiverd MiB)); and
    "above_peak" when some row is faster than the matmul peak."""
    print("| config | batch | engine | mode | median ms | GFLOP/s | % of peak | peak RSS MiB "
          "| perceiverd vs PyTorch (x) | perceiverd vs ONNX Runtime (x) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    results = {}
    for config, batch in configs:
        gflop = next((r["gflop"] for (e, c, b, _), r in runs.items()
                      if (e, c, b) == ("perceiverd", config, batch) and "gflop" in r), None)
        for precision in precisions:
            peak_gflops = peak.get(f"{precision}_gflops") if peak else None
            modes = ["f32"] if precision == "f32" else ["bf16-weights", "bf16-autocast"]
            theirs = [runs.get(("pytorch", config, batch, mode), {"mode": mode}) for mode in modes]
            ort = runs.get(("onnxruntime", config, batch, precision), {"mode": precision})
            ours = runs.get(("perceiverd", config, batch, precision), {"mode": precision})
            fastest = min((r for r in theirs if "median_ms" in r), key=lambda r: r["median_ms"], default={})
            speedups = {"pytorch": ratio(fastest.get("median_ms"), ours.get("median_ms")),
                        "onnxruntime": ratio(ort.get("median_ms"), ours.get("median_ms"))}
            results.update({(config, batch, precision, key): value for key, value in speedups.items()})
            results[config, batch, precision, "rate"] = ratio(executed_gflop(ours, ours, gflop),
                                                               ratio(ours.get("median_ms"), 1e3))
            # The model's FLOPs (as transformers computes them) over perceiverd's time: the rate the f32 peak
            # target counts (issue 23: "121 GFLOP at batch 1"), whatever perceiverd folded away.
            results[config, batch, precision, "model_rate"] = ratio(gflop, ratio(ours.get("median_ms"), 1e3))
            # The most any engine could reach: every matmul FLOP at oneDNN's measured matmul peak.
            bound_ms = None if gflop is None or not peak_gflops else gflop / peak_gflops * 1e3
            results[config, batch, precision, "ceiling"] = ratio(fastest.get("median_ms"), bound_ms)
            results[config, batch, precision, "rss"] = (fastest.get("peak_rss_mib"), ours.get("peak_rss_mib"))
            rows = [("PyTorch", r) for r in theirs] + [("ONNX Runtime", ort), ("perceiverd", ours)]
            # perceiverd's other rows, each against ONNX Runtime: over HTTP, and (where its f32 linear layers
            # are convolutions) the same pass with them as matmuls.
            for engine, label in VARIANT_ROWS.items():
                record = runs.get((engine, config, batch, precision))
                results[config, batch, precision, engine] = ratio(ort.get("median_ms"), (record or {}).get("median_ms"))
                rows += [(label, record)] if record else []
            for engine, record in rows:
                rate = ratio(executed_gflop(record, ours, gflop), ratio(record.get("median_ms"), 1e3))
                if (ratio(rate, peak_gflops) or 0) > 1:
                    results["above_peak"] = True
                if engine == "ONNX Runtime" and precision != "f32":
                    cells = ["n/a (no bf16 MatMul)"] + [""] * 5
                else:
                    cells = [cell(record.get("median_ms"), ".1f"), cell(rate, ".1f"),
                             cell(ratio(rate, peak_gflops), ".0%"), cell(record.get("peak_rss_mib"), ".0f")]
                    if engine == "perceiverd":
                        cells += [cell(speedups["pytorch"], ".2f"),
                                  "n/a" if precision != "f32" else cell(speedups["onnxruntime"], ".2f")]
                    elif engine in VARIANT_LABELS:
                        cells += ["", cell(results[config, batch, precision, VARIANT_LABELS[engine]], ".2f")]
                    else:
                        cells += ["", ""]
                print(f"| {config} | {batch} | {engine} | {record['mode']} | " + " | ".join(cells) + " |")
    print()
    if results.get("above_peak"):
        # No engine multiplies faster than oneDNN's best matmul; a row above it means the CPU was shared.
        print("warning: a row runs above 100% of the matmul peak, so the peak was measured while other work shared "
              "the CPU; no figure here is reliable (run again on a quiet machine)")
        print()
    return results


def report(args: argparse.Namespace) -> int:
    """Prints the machine, the comparison table and the targets from the engines' JSON lines."""
    runs, peak, start = read_records(args.file)
    bf16_native = bool(peak and peak.get("bf16_native"))
    measured = {(config, batch) for _, config, batch, _ in runs}
    configs = EXPECTED_ROWS + sorted(measured - set(EXPECTED_ROWS))
    precisions = ["f32", "bf16"] if bf16_native or any(m != "f32" for *_, m in runs) else ["f32"]
    print_machine(runs, peak)
    results = print_table(runs, peak, configs, precisions)

    print("Targets:")
    for batch in (1, 8):
        print(speedup_target(f"language-perceiver, batch {batch}: f32 perceiverd vs PyTorch",
                             results["language-perceiver", batch, "f32", "pytorch"], TARGET_F32_SPEEDUP))
    for config, batch in EXPECTED_ROWS:
        print(speedup_target(f"{config}, batch {batch}: f32 perceiverd vs ONNX Runtime",
                             results[config, batch, "f32", "onnxruntime"], TARGET_ORT_SPEEDUP))
    for batch in (1, 8):
        print(speedup_target(f"language-perceiver, batch {batch}: f32 perceiverd end to end over HTTP vs ONNX Runtime "
                             "in-process", results["language-perceiver", batch, "f32", "perceiverd-http"], TARGET_HTTP_ORT_SPEEDUP))
    f32_peak = peak.get("f32_gflops") if peak else None
    for batch in (1, 8):
        # Both rates against the peak: the model's FLOPs per second (the issue's 121 GFLOP a sequence, which
        # counts work the folds removed, so it can pass 100%) and the FLOPs perceiverd runs after its folds
        # (the table's GFLOP/s, the kernels' efficiency). The target asks both to reach it.
        rate = results["language-perceiver", batch, "f32", "model_rate"]
        executed = results["language-perceiver", batch, "f32", "rate"]
        fraction, executed_fraction = ratio(rate, f32_peak), ratio(executed, f32_peak)
        shown = None if fraction is None or executed_fraction is None else (
            f"{fraction:.1%} on the model's FLOPs ({rate:.1f} of {f32_peak:.1f} GFLOP/s), {executed_fraction:.1%} "
            f"on the FLOPs it runs ({executed:.1f})")
        print(target_line(f"language-perceiver, batch {batch}: f32 perceiverd >= {TARGET_F32_PEAK_FRACTION:.0%} of "
                          "the f32 matmul peak", shown,
                          shown is not None and min(fraction, executed_fraction) >= TARGET_F32_PEAK_FRACTION))
    for config, batch in configs:
        if not bf16_native:
            print(f"- {config}, batch {batch}: bf16 — not measured (this CPU has no native bf16)")
            continue
        ceiling = results[config, batch, "bf16", "ceiling"]
        print(speedup_target(f"{config}, batch {batch}: bf16 perceiverd vs the faster PyTorch bf16",
                             results[config, batch, "bf16", "pytorch"], TARGET_BF16_SPEEDUP)
              + f" (ceiling at 100% of the bf16 matmul peak: {cell(ceiling, '.2f')}{'' if ceiling is None else 'x'})")
    for config, batch in configs:
        for precision in precisions:
            theirs, ours = results[config, batch, precision, "rss"]
            if precision == "bf16" and not bf16_native:
                continue
            shown = None if theirs is None or ours is None else f"{ours:.0f} MiB vs PyTorch {theirs:.0f} MiB"
            print(target_line(f"{config}, batch {batch}: {precision} peak RSS perceiverd <= PyTorch", shown,
                              shown is not None and ours <= theirs))
    seconds = start.get("median_s") if start else None
    print(target_line(f"start-to-ready <= {TARGET_START_TO_READY_S:g} s (median)",
                      None if seconds is None else f"{seconds:.3f} s",
                      seconds is not None and seconds <= TARGET_START_TO_READY_S))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    command = commands.add_parser("checkpoint", help="write a random-weight checkpoint unless present")
    command.add_argument("--config", required=True, choices=CHECKPOINT_NAMES)
    command.add_argument("--out", required=True, help="model directory")
    command.set_defaults(handler=checkpoint)

    command = commands.add_parser("run", help="time the forward pass; one JSON line on stdout")
    command.add_argument("--checkpoint", required=True, help="save_pretrained directory")
    command.add_argument("--batch", type=positive, required=True)
    command.add_argument("--mode", required=True, choices=["f32", "bf16-weights", "bf16-autocast"])
    command.add_argument("--threads", type=positive, required=True, help="torch.set_num_threads")
    command.add_argument("--runs", type=positive, required=True, help="timed runs after one warm-up")
    command.add_argument("--sequence", type=positive, default=2048, help="masked LM tokens per row (default 2048)")
    command.set_defaults(handler=run)

    for name, handler, summary in (
            ("export-onnx", export_onnx, "export to ONNX unless current; check against PyTorch"),
            ("run-onnx", run_onnx, "time the ONNX export in ONNX Runtime; one JSON line on stdout")):
        command = commands.add_parser(name, help=summary)
        command.add_argument("--checkpoint", required=True, help="save_pretrained directory")
        command.add_argument("--batch", type=positive, required=True)
        command.add_argument("--threads", type=positive, required=True, help="intra-op threads (and torch's)")
        if handler is run_onnx:
            command.add_argument("--runs", type=positive, required=True, help="timed runs after one warm-up")
        command.add_argument("--sequence", type=positive, default=2048,
                             help="masked LM tokens per row (default 2048)")
        command.set_defaults(handler=handler)

    command = commands.add_parser("report", help="markdown table and targets from the engines' JSON lines")
    command.add_argument("file", help="JSON lines, e.g. .build/bench-reference/results.jsonl")
    command.set_defaults(handler=report)

    args = parser.parse_args()
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
