#!/usr/bin/env python3
"""The PyTorch side of the reference benchmark: checkpoints, timed forward passes, and the comparison table.

tools/bench/bench_reference.sh runs the whole benchmark; the subcommands are its parts:

    checkpoint --config language|vision-learned|optical-flow|multimodal --out DIR
        A seeded random-weight save_pretrained directory (safetensors) with deepmind/language-perceiver's,
        deepmind/vision-perceiver-learned's, deepmind/optical-flow-perceiver's or deepmind/multimodal-perceiver's
        configuration (docs/reference/perceiver.md D.1), unless DIR already holds one. tools/bench/bench_latents.sh
        uses the last two.
    run --checkpoint DIR --batch B --mode f32|bf16-weights|bf16-autocast --threads T --runs N [--sequence S]
        Loads DIR with transformers (the class named by config.json's architectures[0]), runs one warm-up and
        N timed forward passes, and prints one JSON line to stdout (everything else goes to stderr).
    report FILE.jsonl
        The markdown table of PyTorch against perceiverd from both engines' JSON lines, then the targets.

The inputs are deterministic and the same as perceiverd's `PerceiverBench reference` builds:
    masked LM:        input_ids[b, i] = 6 + ((b*S + i) * 7919) % 256 (int64, (B, S)), attention_mask all ones
    image classifier: pixel_values[b, c, y, x] = sin(0.01 * (((b*3 + c)*H + y)*W + x)), computed in double and
                      rounded to float32, (B, 3, H, W) with H = W = image_size (224)
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

from bench_common import positive

# Imported before transformers: it also switches the Hugging Face hub offline.
import make_language_model
import torch
import transformers
from transformers import (
    PerceiverConfig,
    PerceiverForImageClassificationLearned,
    PerceiverForMaskedLM,
    PerceiverForMultimodalAutoencoding,
    PerceiverForOpticalFlow,
)

TARGET_F32_SPEEDUP = 1.4
TARGET_BF16_SPEEDUP = 2.0
TARGET_START_TO_READY_S = 3.0
# The (config, batch) rows tools/bench/bench_reference.sh measures; the report lists them even when records are missing.
EXPECTED_ROWS = [("language-perceiver", 1), ("language-perceiver", 8), ("vision-perceiver-learned", 1)]


def vision_learned_config() -> PerceiverConfig:
    """deepmind/vision-perceiver-learned's configuration (HF conversion script values), minus the trained weights."""
    return PerceiverConfig(
        d_model=512, d_latents=1024, num_latents=512, num_blocks=8, num_self_attends_per_block=6,
        num_self_attention_heads=8, num_cross_attention_heads=1, qk_channels=None, v_channels=None,
        image_size=224, num_labels=1000, architectures=["PerceiverForImageClassificationLearned"],
    )


def optical_flow_config() -> PerceiverConfig:
    """deepmind/optical-flow-perceiver's config.json (the one PerceiverBench's `opticalFlowPerceiver` mirrors)."""
    return PerceiverConfig(
        d_model=322, d_latents=512, num_latents=2048, num_blocks=1, num_self_attends_per_block=24,
        num_self_attention_heads=16, num_cross_attention_heads=1, qk_channels=None, v_channels=None,
        train_size=[368, 496], architectures=["PerceiverForOpticalFlow"],
    )


def multimodal_config() -> PerceiverConfig:
    """deepmind/multimodal-perceiver's configuration (HF conversion script values): 16 frames of 224 x 224
    video (image_size 56 after 4x space-to-depth), 30,720 audio samples in patches of 16, 700 labels."""
    return PerceiverConfig(
        d_model=704, d_latents=512, num_latents=784, num_blocks=1, num_self_attends_per_block=8,
        num_self_attention_heads=8, num_cross_attention_heads=1, qk_channels=None, v_channels=None,
        num_labels=700, image_size=56, num_frames=16, audio_samples_per_frame=1920, samples_per_patch=16,
        output_shape=[1, 16, 224, 224], output_num_channels=512,
        architectures=["PerceiverForMultimodalAutoencoding"],
    )


# --config name -> (model class, configuration, expected parameter count)
CHECKPOINTS = {
    "language": (PerceiverForMaskedLM, make_language_model.language_perceiver_config,
                 make_language_model.EXPECTED_PARAMETERS),
    "vision-learned": (PerceiverForImageClassificationLearned, vision_learned_config, 62_255_848),
    "optical-flow": (PerceiverForOpticalFlow, optical_flow_config, 41_057_134),
    "multimodal": (PerceiverForMultimodalAutoencoding, multimodal_config, 19_858_855),
}


def checkpoint(args: argparse.Namespace) -> int:
    """Writes the --config checkpoint into --out (seed make_language_model.SEED) unless it is there already."""
    out = Path(args.out)
    if make_language_model.is_present(out):
        print("exists")
        return 0
    model_class, config, expected = CHECKPOINTS[args.config]
    torch.manual_seed(make_language_model.SEED)
    model = model_class(config()).eval()
    parameters = sum(p.numel() for p in model.parameters())
    if parameters != expected:
        print(f"error: {parameters:,} parameters, expected {expected:,}", file=sys.stderr)
        return 1
    make_language_model.save_model(model, out)
    print(f"{out}: {model_class.__name__}, {parameters:,} parameters")
    return 0


def make_inputs(architecture: str, config: PerceiverConfig, batch: int, sequence: int) -> dict[str, torch.Tensor]:
    """The forward pass's keyword arguments (see the module docstring for the formulas)."""
    if architecture == "PerceiverForMaskedLM":
        index = torch.arange(batch * sequence, dtype=torch.int64).reshape(batch, sequence)
        return {"input_ids": 6 + (index * 7919) % 256, "attention_mask": torch.ones_like(index)}
    if architecture.startswith("PerceiverForImageClassification"):
        size = config.image_size
        index = torch.arange(batch * 3 * size * size, dtype=torch.float64).reshape(batch, 3, size, size)
        return {"pixel_values": torch.sin(0.01 * index).to(torch.float32)}
    raise SystemExit(f"error: no benchmark inputs for {architecture}")


def top1(architecture: str, logits: torch.Tensor) -> list[int]:
    """The argmax ids to compare with perceiverd: the first row's positions 0..63 (masked LM), else per row."""
    if architecture == "PerceiverForMaskedLM":
        return logits[0, :64].argmax(-1).tolist()
    return logits.argmax(-1).tolist()


def run(args: argparse.Namespace) -> int:
    """Times the forward pass of --checkpoint and prints the result as one JSON line."""
    torch.set_num_threads(args.threads)
    directory = Path(args.checkpoint)
    architecture = json.loads((directory / "config.json").read_text())["architectures"][0]
    start = time.perf_counter()
    model = getattr(transformers, architecture).from_pretrained(directory, dtype=torch.float32)
    load_s = time.perf_counter() - start
    model.eval()
    inputs = make_inputs(architecture, model.config, args.batch, args.sequence)
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


def cell(value: float | None, spec: str) -> str:
    """VALUE formatted with SPEC, or "missing"."""
    return "missing" if value is None else format(value, spec)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """NUMERATOR / DENOMINATOR, or None when either is missing."""
    return None if numerator is None or denominator is None else numerator / denominator


def target_line(name: str, shown: str | None, met: bool) -> str:
    """One target's verdict, met or NOT met, with the measured SHOWN; None means a record it needs is missing."""
    if shown is None:
        return f"- {name}: missing"
    return f"- {name}: {shown} — {'met' if met else 'NOT met'}"


def speedup_target(name: str, value: float | None, minimum: float) -> str:
    """The target line for a speed-up of at least MINIMUM."""
    shown = None if value is None else f"{value:.2f}x"
    return target_line(f"{name} speed-up >= {minimum}", shown, value is not None and value >= minimum)


def report(args: argparse.Namespace) -> int:
    """Prints the comparison table and the targets from the JSON lines of both engines."""
    pytorch: dict[tuple, dict] = {}      # (config, batch, mode) -> record
    perceiverd: dict[tuple, dict] = {}   # (config, batch, precision) -> record
    peak = start = None
    for number, line in enumerate(Path(args.file).read_text().splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        kind = record.get("kind")
        if kind == "matmul-peak":
            peak = record
        elif kind == "start-to-ready":
            start = record
        elif record.get("engine") == "pytorch":
            pytorch[record["config"], record["batch"], record["mode"]] = record
        elif record.get("engine") == "perceiverd":
            perceiverd[record["config"], record["batch"], record["mode"]] = record
        else:
            print(f"{args.file}:{number}: unknown record, ignored", file=sys.stderr)

    measured = {key[:2] for key in (*pytorch, *perceiverd)}
    configs = EXPECTED_ROWS + sorted(measured - set(EXPECTED_ROWS))
    print("| config | batch | precision | PyTorch mode | PyTorch ms | perceiverd ms | speed-up "
          "| perceiverd GFLOP/s | % of peak | PyTorch GFLOP/s | % of peak | PyTorch RSS MiB | perceiverd RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    speedups, rss, ceilings = {}, {}, {}
    for config, batch in configs:
        gflop = next((r["gflop"] for (c, b, _), r in perceiverd.items() if (c, b) == (config, batch) and "gflop" in r),
                     None)
        for precision, modes in (("f32", ["f32"]), ("bf16", ["bf16-weights", "bf16-autocast"])):
            candidates = [pytorch[config, batch, m] for m in modes if (config, batch, m) in pytorch]
            theirs = min(candidates, key=lambda r: r["median_ms"], default={})
            ours = perceiverd.get((config, batch, precision), {})
            peak_gflops = peak.get(f"{precision}_gflops") if peak else None
            their_rate = ratio(gflop, ratio(theirs.get("median_ms"), 1e3))
            our_rate = ratio(gflop, ratio(ours.get("median_ms"), 1e3))
            speedups[config, batch, precision] = ratio(theirs.get("median_ms"), ours.get("median_ms"))
            # The most any engine could reach: every matmul FLOP at oneDNN's measured matmul peak.
            bound_ms = None if gflop is None or not peak_gflops else gflop / peak_gflops * 1e3
            ceilings[config, batch, precision] = ratio(theirs.get("median_ms"), bound_ms)
            rss[config, batch, precision] = (theirs.get("peak_rss_mib"), ours.get("peak_rss_mib"))
            print(f"| {config} | {batch} | {precision} | {theirs.get('mode', 'missing')} "
                  f"| {cell(theirs.get('median_ms'), '.1f')} | {cell(ours.get('median_ms'), '.1f')} "
                  f"| {cell(speedups[config, batch, precision], '.2f')} "
                  f"| {cell(our_rate, '.1f')} | {cell(ratio(our_rate, peak_gflops), '.0%')} "
                  f"| {cell(their_rate, '.1f')} | {cell(ratio(their_rate, peak_gflops), '.0%')} "
                  f"| {cell(theirs.get('peak_rss_mib'), '.0f')} | {cell(ours.get('peak_rss_mib'), '.0f')} |")

    print()
    bf16_native = bool(peak and peak.get("bf16_native"))
    if peak:
        print(f"CPU {peak.get('cpu', 'unknown')}, oneDNN isa {peak.get('isa', 'unknown')}, bf16 {peak.get('bf16', 'unknown')}")
        print(f"oneDNN matmul peak, {peak.get('threads')} threads: f32 {cell(peak.get('f32_gflops'), '.1f')} GFLOP/s, "
              + (f"bf16 {cell(peak.get('bf16_gflops'), '.1f')} GFLOP/s" if bf16_native else "bf16 not native here"))
    else:
        print("oneDNN matmul peak: missing")
    versions = sorted({r["torch"] for r in pytorch.values() if "torch" in r})
    print(f"PyTorch {', '.join(versions) or 'missing'}; speed-up = PyTorch median / perceiverd median")
    print()
    print("Targets:")
    for batch in (1, 8):
        print(speedup_target(f"language-perceiver, batch {batch}: f32", speedups["language-perceiver", batch, "f32"],
                             TARGET_F32_SPEEDUP))
    for config, batch in configs:
        if not bf16_native:
            print(f"- {config}, batch {batch}: bf16 — not measured (this CPU has no native bf16)")
            continue
        print(speedup_target(f"{config}, batch {batch}: bf16 (vs the faster PyTorch bf16)",
                             speedups[config, batch, "bf16"], TARGET_BF16_SPEEDUP)
              + f" (ceiling at 100% of the bf16 matmul peak: {cell(ceilings[config, batch, 'bf16'], '.2f')}x)")
    for (config, batch, precision), (theirs, ours) in rss.items():
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
    command.add_argument("--config", required=True, choices=sorted(CHECKPOINTS))
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

    command = commands.add_parser("report", help="markdown table and targets from both engines' JSON lines")
    command.add_argument("file", help="JSON lines, e.g. .build/bench-reference/results.jsonl")
    command.set_defaults(handler=report)

    args = parser.parse_args()
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
