#!/usr/bin/env python3
"""Checks the shipped models/digits and models/words through perceiverd against PyTorch.

    make models-check
    .venv/bin/python tools/training/eval_shipped_models.py --perceiverd .build/release/perceiverd   # the same

digits: every held-out image (the training script's seeded split) and every file in models/digits/samples/ goes
through the saved preprocessor_config.json into pixel_values; one KServe V2 request per set goes through
`perceiverd predict --input`; the logits must match transformers' within --tolerance, and the held-out accuracy
through the daemon is printed. words: each example of models/words/metrics.json goes through
`perceiverd predict --text`; the filled text must equal the one transformers gives, and the engine's logits for a
V2 request with the same ids must match transformers' within --tolerance. Exits non-zero on any mismatch.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from transformers import PerceiverForImageClassificationLearned, PerceiverForMaskedLM, PerceiverImageProcessorPil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "training"))
import train_digits  # noqa: E402
import train_words  # noqa: E402


def v2(perceiverd: str, model: Path, inputs: list[dict]) -> np.ndarray:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"id": "check", "inputs": inputs}, f)
    out = subprocess.run([perceiverd, "predict", "--model", str(model), "--input", f.name, "--threads", "2"],
                         check=True, capture_output=True, text=True).stdout
    Path(f.name).unlink()
    logits = next(o for o in json.loads(out)["outputs"] if o["name"] == "logits")
    return np.asarray(logits["data"], dtype=np.float32).reshape(logits["shape"])


def check_digits(perceiverd: str, tol: float) -> bool:
    model_dir = ROOT / "models" / "digits"
    processor = PerceiverImageProcessorPil.from_pretrained(model_dir)
    model = PerceiverForImageClassificationLearned.from_pretrained(model_dir).eval()
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    digits = load_digits()
    _, test_idx = train_test_split(np.arange(len(digits.target)), test_size=0.2, stratify=digits.target,
                                   random_state=train_digits.SEED)
    sets = {"held-out": ([train_digits.to_image(digits.data[i]) for i in test_idx], digits.target[test_idx])}
    files = sorted((model_dir / "samples").iterdir())
    sets["samples"] = ([Image.open(f).convert("RGB") for f in files], [int(f.name.split("-")[0][0]) for f in files])
    ok = True
    for name, (images, truth) in sets.items():
        x = processor(images=images, return_tensors="pt")["pixel_values"]
        with torch.no_grad():
            expected = model(inputs=x).logits.numpy()
        got = v2(perceiverd, model_dir, [{"name": "pixel_values", "shape": list(x.shape), "datatype": "FP32",
                                          "data": x.flatten().tolist()}])
        diff = float(np.abs(got - expected).max())
        acc = float((got.argmax(-1) == np.asarray(truth)).mean())
        same = bool((got.argmax(-1) == expected.argmax(-1)).all())
        print(f"digits {name}: {len(images)} images, perceiverd accuracy {acc:.4f}, max |logit diff| {diff:.2e}, "
              f"argmax identical: {same}")
        if name == "samples":
            for f, row, t in zip(files, got, truth):
                p = np.exp(row - row.max())
                p /= p.sum()
                print(f"  {f.name}: true {t}, perceiverd {labels[int(p.argmax())]} ({p.max():.4f})")
        ok &= diff <= tol and same
    return ok


def check_words(perceiverd: str, tol: float) -> bool:
    model_dir = ROOT / "models" / "words"
    model = PerceiverForMaskedLM.from_pretrained(model_dir).eval()
    examples = json.loads((model_dir / "metrics.json").read_text())["examples"]
    ok = True
    for e in examples:
        expected = train_words.fill(model, e["text"])
        out = subprocess.run([perceiverd, "predict", "--model", str(model_dir), "--text", e["text"], "--top-k", "3",
                              "--threads", "2"], check=True, capture_output=True, text=True).stdout
        filled = out.splitlines()[0]
        ids = train_words.encode(e["text"])
        with torch.no_grad():
            ref = model(inputs=torch.tensor([ids])).logits[0, :len(ids)].numpy()
        got = v2(perceiverd, model_dir, [{"name": "input_ids", "shape": [1, len(ids)], "datatype": "INT64",
                                          "data": ids}])[0]
        diff = float(np.abs(got - ref).max())
        print(f"words {e['text']!r}: perceiverd {filled!r}, transformers {expected['filled']!r}, "
              f"max |logit diff| {diff:.2e}")
        print("  " + "  ".join(line.strip() for line in out.splitlines()[1:]))
        ok &= filled == expected["filled"] and diff <= tol
    return ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--perceiverd", default=str(ROOT / ".build" / "release" / "perceiverd"))
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    torch.set_num_threads(1)
    ok = check_digits(args.perceiverd, args.tolerance)
    ok &= check_words(args.perceiverd, args.tolerance)
    print("OK" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
