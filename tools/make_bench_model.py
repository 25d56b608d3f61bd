#!/usr/bin/env python3
"""Writes a small but deep byte-level PerceiverForMaskedLM with seeded random weights, for the batching benchmark.

Its matrices are small (d_latents 64, 16 latents) and it has 8 self-attention layers, like the small
models people train for one task. One request's forward pass is then mostly per-layer fixed cost, which
is what batching amortizes. About 0.3 M parameters; not committed (the benchmark writes it when missing).

    .venv/bin/python tools/make_bench_model.py [OUTDIR]     (default .build/models/small-deep-mlm)
"""
import sys
from pathlib import Path

import torch
from transformers import PerceiverConfig, PerceiverForMaskedLM

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".build" / "models" / "small-deep-mlm"
    if (out / "model.safetensors").exists():
        print("exists:", out)
        return
    torch.manual_seed(20261122)
    config = PerceiverConfig(
        vocab_size=262, max_position_embeddings=256, d_model=64, d_latents=64, num_latents=16,
        num_blocks=1, num_self_attends_per_block=8, num_self_attention_heads=4, num_cross_attention_heads=1,
        qk_channels=32, v_channels=64, architectures=["PerceiverForMaskedLM"],
    )
    model = PerceiverForMaskedLM(config).eval()
    model.save_pretrained(out, safe_serialization=True)
    print(sum(p.numel() for p in model.parameters()), "parameters, saved to", out)


if __name__ == "__main__":
    main()
