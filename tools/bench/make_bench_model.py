#!/usr/bin/env python3
"""Writes a byte-level PerceiverForMaskedLM with seeded random weights for the batching benchmark.

Two shapes (tools/bench/bench_batching.sh writes each when missing; neither is committed):

- deep (the default): the language perceiver's depth (26 self-attention layers) at a tiny width (d_latents 32,
  8 latents): one request's forward pass is then mostly the fixed cost of each layer's kernels, which is what
  batching amortizes, while a row costs little. About 0.2 M parameters; .build/models/small-deep-mlm.
- mid: a mid-size model where compute dominates a request (issue 23 part 4): 64 latents x 256 channels, 4
  self-attention layers (8 heads), d_model 256, the language perceiver's widening factor 1 and 8 cross-attention
  heads. 2,590,470 parameters (10 MB); .build/models/mid-mlm.

    .venv/bin/python tools/bench/make_bench_model.py [--shape deep|mid] [OUTDIR]

OUTDIR defaults to the shape's directory above. When it already holds model.safetensors the script does nothing.
"""
import argparse
from pathlib import Path

import torch
from transformers import PerceiverConfig, PerceiverForMaskedLM

ROOT = Path(__file__).resolve().parents[2]

# Per shape: its default directory, seed and the PerceiverConfig keys that differ between shapes.
SHAPES = {
    "deep": (
        "small-deep-mlm", 20261122,
        dict(d_model=32, d_latents=32, num_latents=8, num_self_attends_per_block=26, num_self_attention_heads=2,
             num_cross_attention_heads=1, qk_channels=16, v_channels=32),
    ),
    "mid": (
        "mid-mlm", 20261206,
        dict(d_model=256, d_latents=256, num_latents=64, num_self_attends_per_block=4, num_self_attention_heads=8,
             num_cross_attention_heads=8, self_attention_widening_factor=1, cross_attention_widening_factor=1),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="deep")
    parser.add_argument("out", nargs="?", type=Path, help="output directory (default: the shape's, under .build/models)")
    args = parser.parse_args()
    directory, seed, keys = SHAPES[args.shape]
    out = args.out or ROOT / ".build" / "models" / directory
    if (out / "model.safetensors").exists():
        print("exists:", out)
        return
    torch.manual_seed(seed)
    config = PerceiverConfig(vocab_size=262, max_position_embeddings=256, num_blocks=1,
                             architectures=["PerceiverForMaskedLM"], **keys)
    model = PerceiverForMaskedLM(config).eval()
    model.save_pretrained(out, safe_serialization=True)
    print(sum(p.numel() for p in model.parameters()), "parameters, saved to", out)


if __name__ == "__main__":
    main()
