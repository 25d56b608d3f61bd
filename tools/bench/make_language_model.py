#!/usr/bin/env python3
"""Writes a deepmind/language-perceiver-sized PerceiverForMaskedLM with seeded random weights.

The configuration is deepmind/language-perceiver's (d_model 768, d_latents 1280, 256 latents, 1 block of 26
self-attention layers, 8 heads each way, qk_channels 256, v_channels 1280, vocab 262, 2048 positions):
201,108,230 parameters, about 800 MB as f32 safetensors. The weights are transformers' random initialisation
under a fixed seed, not the trained ones (no download); it is for load and latency measurements, e.g.
tools/bench/bench_batching.sh. Its predictions are noise.

Usage:
    make venv && .venv/bin/python tools/bench/make_language_model.py [OUTDIR] [--force]

OUTDIR defaults to .build/models/language-perceiver (under the repository root; not committed). When OUTDIR
already holds config.json and model.safetensors the script does nothing, unless --force is given.
"""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import argparse
import shutil
import sys
from pathlib import Path

import torch
from transformers import PerceiverConfig, PerceiverForMaskedLM

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / ".build" / "models" / "language-perceiver"
SEED = 20261121
EXPECTED_PARAMETERS = 201_108_230


def language_perceiver_config() -> PerceiverConfig:
    """deepmind/language-perceiver's config.json, minus the trained weights."""
    return PerceiverConfig(
        d_model=768, d_latents=1280, num_latents=256, num_blocks=1, num_self_attends_per_block=26,
        num_self_attention_heads=8, num_cross_attention_heads=8, qk_channels=256, v_channels=1280,
        cross_attention_shape_for_attention="kv", self_attention_widening_factor=1,
        cross_attention_widening_factor=1, hidden_act="gelu", attention_probs_dropout_prob=0.1,
        initializer_range=0.02, layer_norm_eps=1e-12, use_query_residual=True,
        vocab_size=262, max_position_embeddings=2048, architectures=["PerceiverForMaskedLM"],
    )


def is_present(out: Path) -> bool:
    """Whether OUT already holds a saved model (config.json and model.safetensors)."""
    return (out / "config.json").is_file() and (out / "model.safetensors").is_file()


def save_model(model: torch.nn.Module, out: Path) -> None:
    """save_pretrained (safetensors) into OUT, replacing it. The model is written into a sibling directory and
    renamed, so an interrupted run never leaves a half-written model that `is_present` would accept."""
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial, safe_serialization=True)
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", nargs="?", default=str(DEFAULT_OUT), help=f"default {DEFAULT_OUT}")
    parser.add_argument("--force", action="store_true", help="rewrite the model even if it is there")
    args = parser.parse_args()
    out = Path(args.outdir)

    if not args.force and is_present(out):
        print(f"{out}: already present, nothing to do (--force rewrites it)")
        return 0

    torch.manual_seed(SEED)
    model = PerceiverForMaskedLM(language_perceiver_config()).eval()
    parameters = sum(p.numel() for p in model.parameters())
    if parameters != EXPECTED_PARAMETERS:
        print(f"error: {parameters:,} parameters, expected {EXPECTED_PARAMETERS:,}", file=sys.stderr)
        return 1

    save_model(model, out)
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"{out}: PerceiverForMaskedLM, {parameters:,} parameters, {size / 1e6:.0f} MB, seed {SEED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
