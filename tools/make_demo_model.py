#!/usr/bin/env python3
"""Writes models/demo-mlm: a small byte-level PerceiverForMaskedLM with seeded random weights.

It is the model config.json serves until the trained default models land (issue 8). Its fills are
random, but every code path of the server (fill-mask, V2 infer, output_positions) runs on it.

    make venv && .venv/bin/python tools/make_demo_model.py
"""
from pathlib import Path

import torch
from transformers import PerceiverConfig, PerceiverForMaskedLM

OUT = Path(__file__).resolve().parent.parent / "models" / "demo-mlm"


def main() -> None:
    torch.manual_seed(20261121)
    config = PerceiverConfig(
        vocab_size=262, max_position_embeddings=256, d_model=64, d_latents=128, num_latents=32,
        num_blocks=1, num_self_attends_per_block=2, num_self_attention_heads=4, num_cross_attention_heads=1,
        qk_channels=64, v_channels=128, architectures=["PerceiverForMaskedLM"],
    )
    model = PerceiverForMaskedLM(config).eval()
    model.save_pretrained(OUT, safe_serialization=True)
    with torch.no_grad():
        ids = torch.tensor([[4, 109, 3, 3, 106, 5]])
        print("logits", tuple(model(inputs=ids).logits.shape), "saved to", OUT)


if __name__ == "__main__":
    main()
