#!/usr/bin/env python3
"""Writes a small but deep byte-level PerceiverForMaskedLM with seeded random weights, for the batching benchmark.

It has the language perceiver's depth (26 self-attention layers) at a tiny width (d_latents 32, 8 latents):
one request's forward pass is then mostly the fixed cost of each layer's kernels, which is what batching
amortizes, while a row costs little. About 0.2 M parameters; not committed (the benchmark writes it when
missing).

    .venv/bin/python tools/bench/make_bench_model.py [OUTDIR]     (default .build/models/small-deep-mlm)
"""
import sys
from pathlib import Path

import torch
from transformers import PerceiverConfig, PerceiverForMaskedLM

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".build" / "models" / "small-deep-mlm"
    if (out / "model.safetensors").exists():
        print("exists:", out)
        return
    torch.manual_seed(20261122)
    config = PerceiverConfig(
        vocab_size=262, max_position_embeddings=256, d_model=32, d_latents=32, num_latents=8,
        num_blocks=1, num_self_attends_per_block=26, num_self_attention_heads=2, num_cross_attention_heads=1,
        qk_channels=16, v_channels=32, architectures=["PerceiverForMaskedLM"],
    )
    model = PerceiverForMaskedLM(config).eval()
    model.save_pretrained(out, safe_serialization=True)
    print(sum(p.numel() for p in model.parameters()), "parameters, saved to", out)


if __name__ == "__main__":
    main()
