"""Writes the held-out split of tools/train_digits.py (same seed, same stratified split) as
Tests/ModelServerTests/Fixtures/digits-heldout.json: {"images": [[64 uint8 grey values]], "labels": [...]}, each
image the uint8 8x8 picture the model was trained on (round(v*255/16), row by row). ShippedModelsTests sends
all of them through the daemon and expects the report's held_out_correct.

Run: .venv/bin/python tools/export_digits_heldout.py   (make models does it after training)
"""
import json
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from train_digits import SEED

OUT = Path(__file__).resolve().parent.parent / "Tests" / "ModelServerTests" / "Fixtures" / "digits-heldout.json"


def main() -> None:
    digits = load_digits()
    idx = np.arange(len(digits.target))
    _, test_idx = train_test_split(idx, test_size=0.2, stratify=digits.target, random_state=SEED)
    images = [np.rint(digits.data[i] * 255.0 / 16.0).astype(np.uint8).tolist() for i in test_idx]
    labels = [int(digits.target[i]) for i in test_idx]
    OUT.write_text(json.dumps({"source": "tools/export_digits_heldout.py", "seed": SEED,
                               "images": images, "labels": labels}, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({len(labels)} images)")


if __name__ == "__main__":
    main()
