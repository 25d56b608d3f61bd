#!/usr/bin/env python3
"""Trains models/words: a tiny byte-level PerceiverForMaskedLM that fills masked letters in English words.

    make models            # or: .venv/bin/python tools/training/train_words.py

Data: Debian's wamerican word list (/usr/share/dict/american-english; `apt-get install wamerican`), the
lowercase a-z entries only (no proper nouns, possessives or accented words). A seeded 8% of the words is held
out and never trained on; so are the showcase words of the examples in README.md and docs/ (SHOWCASE) and every
word containing one of them (elephants, bicycled, ...), so their examples are fills of unseen words.

Inputs are exactly what the daemon feeds the model for `predict --text "ele[MASK]hant"`: the Perceiver byte
tokenizer's ids ([CLS]=4, UTF-8 byte + 6, [SEP]=5, a literal [MASK] = 3), no attention mask. Training batches
are padded with [PAD]=0 and an attention mask, which only removes the padding keys from the encoder's
cross-attention, so a padded row computes what the unpadded sequence does. Each word gets 1 to 3 letters masked
at random positions (at least one letter stays visible); the loss is on the masked positions only.

Seeded and deterministic (CPU, 1 thread). Writes config.json, model.safetensors (float32), TRAINING.md and
metrics.json.
"""
import json
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import PerceiverConfig, PerceiverForMaskedLM

from training_common import lecun_linears, seed_everything

SEED = 20261121
WORDLIST = Path("/usr/share/dict/american-english")
OUT = Path(__file__).resolve().parents[2] / "models" / "words"
MAX_POSITIONS = 24                 # [CLS] + up to 22 bytes (the longest a-z word) + [SEP]
HOLD_OUT = 0.08
EPOCHS = 6
BATCH = 256
LR = 1e-3
WEIGHT_DECAY = 0.01
MASK_COUNTS, MASK_PROBS = [1, 2, 3], [0.5, 0.3, 0.2]
PAD, MASK, CLS, SEP, OFFSET = 0, 3, 4, 5, 6
SHOWCASE = ["elephant", "computer", "bicycle", "giraffe", "umbrella", "chocolate", "keyboard", "mountain",
            "language", "question", "kitchen", "science"]
EXAMPLES = ["ele[MASK]hant", "comp[MASK]ter", "bic[MASK]cle", "gira[MASK]fe", "umb[MASK]ella", "choc[MASK]late",
            "keyb[MASK]ard", "moun[MASK]ain", "lang[MASK]age", "q[MASK]estion", "kitc[MASK]en", "sci[MASK]nce",
            "ele[MASK][MASK]ant", "c[MASK]mp[MASK]ter"]


def encode(text: str) -> list[int]:
    """The daemon's ByteTokenizer.encode: [CLS] bytes+6 [SEP], a literal [MASK] -> 3."""
    ids = [CLS]
    for i, part in enumerate(text.split("[MASK]")):
        if i:
            ids.append(MASK)
        ids += [b + OFFSET for b in part.encode("utf-8")]
    return ids + [SEP]


def load_words() -> list[str]:
    if not WORDLIST.exists():
        sys.exit(f"{WORDLIST} is missing: install Debian's word list first (apt-get install -y wamerican)")
    words = {w.strip() for w in WORDLIST.read_text(encoding="utf-8").splitlines()}
    words = sorted(w for w in words if w.isascii() and w.isalpha() and w.islower() and len(w) >= 2)
    return [w for w in words if len(w) + 2 <= MAX_POSITIONS]


def mask_word(word: str, k: int, rng: random.Random) -> tuple[list[int], list[int], list[int]]:
    """ids with k letters masked, the masked positions (in the encoded sequence) and their true ids."""
    ids = encode(word)
    positions = sorted(rng.sample(range(1, len(word) + 1), k))
    labels = [ids[p] for p in positions]
    for p in positions:
        ids[p] = MASK
    return ids, positions, labels


def make_batch(rows):
    """Pads (ids, positions, labels) rows; returns inputs, attention mask, flat (row, position) and labels."""
    width = max(len(ids) for ids, _, _ in rows)
    x = torch.full((len(rows), width), PAD, dtype=torch.long)
    m = torch.zeros((len(rows), width), dtype=torch.long)
    rr, pp, ll = [], [], []
    for r, (ids, positions, labels) in enumerate(rows):
        x[r, :len(ids)] = torch.tensor(ids)
        m[r, :len(ids)] = 1
        rr += [r] * len(positions)
        pp += positions
        ll += labels
    return x, m, torch.tensor(rr), torch.tensor(pp), torch.tensor(ll)


def build_model() -> PerceiverForMaskedLM:
    config = PerceiverConfig(
        vocab_size=262, max_position_embeddings=MAX_POSITIONS, d_model=128, d_latents=128, num_latents=16,
        num_blocks=1, num_self_attends_per_block=2, num_self_attention_heads=4, num_cross_attention_heads=4,
        architectures=["PerceiverForMaskedLM"],
    )
    model = PerceiverForMaskedLM(config)
    # transformers' default init (std 0.02 for every weight) leaves both cross-attentions uniform: the latents see a
    # bag of letters, every decoder query reads the same thing, and after 2 epochs the model still predicted only
    # the letter frequencies (11% top-1, loss 2.94). Starting every Linear at LeCun scale (std 1/sqrt(fan_in)), and
    # the latents and the decoder's position queries at std 1, gives position-dependent attention from the first
    # step. Only the starting point changes.
    with torch.no_grad():
        lecun_linears(model)
        model.perceiver.embeddings.latents.normal_(0.0, 1.0)
        model.perceiver.decoder.output_position_encodings.position_embeddings.normal_(0.0, 1.0)
    return model


@torch.no_grad()
def evaluate(model, words: list[str], seed: int) -> dict:
    """Top-1/top-5 per masked letter and all-letters-right per word, for 1, 2 and 3 masked letters."""
    model.eval()
    result = {}
    for k in MASK_COUNTS:
        rng = random.Random(seed * 10 + k)
        rows = [mask_word(w, k, rng) for w in words if len(w) > k]
        top1 = top5 = letters = whole = 0
        for s in range(0, len(rows), 1024):
            x, m, r, p, labels = make_batch(rows[s:s + 1024])
            logits = model(inputs=x, attention_mask=m).logits[r, p]
            top = logits.topk(5, dim=-1).indices
            hit1 = top[:, 0] == labels
            top1 += int(hit1.sum())
            top5 += int((top == labels[:, None]).any(-1).sum())
            letters += len(labels)
            whole += int(torch.zeros(len(x)).index_add_(0, r, (~hit1).float()).eq(0).sum())
        result[str(k)] = {"words": len(rows), "masked_letters": letters, "top1": round(top1 / letters, 4),
                          "top5": round(top5 / letters, 4), "word_all_correct": round(whole / len(rows), 4)}
    return result


@torch.no_grad()
def fill(model, text: str, top_k: int = 3) -> dict:
    """What `perceiverd predict --text` computes: no attention mask, softmax over the masked rows."""
    model.eval()
    ids = encode(text)
    positions = [i for i, t in enumerate(ids) if t == MASK]
    probs = model(inputs=torch.tensor([ids])).logits[0, positions].softmax(-1)
    filled = list(ids)
    candidates = []
    for row, pos in enumerate(positions):
        scores, top = probs[row].topk(top_k)
        filled[pos] = int(top[0])
        candidates.append([(chr(int(t) - OFFSET) if int(t) >= OFFSET else f"<{int(t)}>", round(float(s), 4))
                           for s, t in zip(scores, top)])
    text_out = bytes(t - OFFSET for t in filled if t >= OFFSET).decode("utf-8", "replace")
    return {"text": text, "filled": text_out, "candidates": candidates}


def main() -> None:
    started = time.time()
    seed_everything(SEED)
    words = load_words()
    rng = random.Random(SEED)
    shuffled = words[:]
    rng.shuffle(shuffled)
    n_hold = int(len(words) * HOLD_OUT)
    showcase_family = {w for w in words if any(s in w for s in SHOWCASE)}
    held_out = sorted(set(shuffled[:n_hold]) - showcase_family)
    train = sorted(set(shuffled[n_hold:]) - showcase_family)
    print(f"{len(words)} words: {len(train)} train, {len(held_out)} held out, "
          f"{len(showcase_family)} showcase-family words excluded", flush=True)

    model = build_model()
    params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    steps_per_epoch = (len(train) + BATCH - 1) // BATCH
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LR, total_steps=EPOCHS * steps_per_epoch,
                                                   pct_start=0.1)
    mask_rng = random.Random(SEED + 1)
    train_started = time.time()
    history = []
    for epoch in range(1, EPOCHS + 1):
        model.train()
        order = train[:]
        mask_rng.shuffle(order)
        total, count = 0.0, 0
        for s in range(0, len(order), BATCH):
            rows = []
            for w in order[s:s + BATCH]:
                k = min(mask_rng.choices(MASK_COUNTS, MASK_PROBS)[0], len(w) - 1)
                rows.append(mask_word(w, k, mask_rng))
            x, m, r, p, labels = make_batch(rows)
            logits = model(inputs=x, attention_mask=m).logits[r, p]
            loss = torch.nn.functional.cross_entropy(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(labels)
            count += len(labels)
            if (s // BATCH) % 50 == 49:
                print(f"  step {s // BATCH + 1}  loss {total / count:.4f}", flush=True)
        ev = evaluate(model, held_out[:2000], SEED)
        history.append({"epoch": epoch, "train_loss": round(total / count, 4), "held_out_top1_k1": ev["1"]["top1"],
                         "seconds": round(time.time() - train_started, 1)})
        print(f"epoch {epoch:2d}  loss {total / count:.4f}  held-out(2000) top1 k=1 {ev['1']['top1']:.4f}  "
              f"{time.time() - train_started:.0f}s", flush=True)
    train_seconds = time.time() - train_started

    model.eval()
    OUT.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(OUT, safe_serialization=True)
    reloaded = PerceiverForMaskedLM.from_pretrained(OUT).eval()
    held = evaluate(reloaded, held_out, SEED)
    train_eval = evaluate(reloaded, sorted(random.Random(SEED).sample(train, 5000)), SEED)
    examples = [fill(reloaded, t) for t in EXAMPLES]
    total_seconds = time.time() - started

    versions = {"python": platform.python_version(), "torch": torch.__version__,
                "transformers": transformers.__version__, "numpy": np.__version__}
    size = (OUT / "model.safetensors").stat().st_size
    command = ".venv/bin/python tools/training/train_words.py  (make models)"
    metrics = {
        "model": "words", "architecture": "PerceiverForMaskedLM", "seed": SEED,
        "dataset": f"{WORDLIST} (Debian wamerican), lowercase a-z words of 2..{MAX_POSITIONS - 2} letters",
        "words": len(words), "train_words": len(train), "held_out_words": len(held_out),
        "showcase_excluded": sorted(showcase_family), "epochs": EPOCHS, "batch_size": BATCH,
        "held_out": held, "train": train_eval, "history": history, "examples": examples,
        "parameters": params, "model_safetensors_bytes": size, "train_seconds": round(train_seconds, 1),
        "total_seconds": round(total_seconds, 1), "threads": torch.get_num_threads(), "versions": versions,
        "command": command,
    }
    (OUT / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    def rows(ev):
        return "\n".join(f"| {k} | {v['words']} | {v['masked_letters']} | {v['top1']:.4f} | {v['top5']:.4f} | "
                         f"{v['word_all_correct']:.4f} |" for k, v in ev.items())

    def cands(c):
        return "; ".join(", ".join(f"`{t}` {s:.3f}" for t, s in row) for row in c)

    example_rows = "\n".join(f"| `{e['text']}` | `{e['filled']}` | {cands(e['candidates'])} |" for e in examples)
    hist_rows = "\n".join(f"| {h['epoch']} | {h['train_loss']:.4f} | {h['held_out_top1_k1']:.4f} | {h['seconds']} |"
                          for h in history)
    cfg = reloaded.config
    (OUT / "TRAINING.md").write_text(f"""# words: training report

Generated by `tools/training/train_words.py`; do not edit by hand.

Command: `{command}`

Byte-level `PerceiverForMaskedLM` trained from scratch to fill masked letters in English words, seed {SEED}, on
{torch.get_num_threads()} CPU thread(s).

| | |
|---|---|
| data | `{WORDLIST}` (Debian `wamerican`): {len(words)} lowercase a-z words of 2..{MAX_POSITIONS - 2} letters |
| split | {len(train)} train; {len(held_out)} held out (seeded {HOLD_OUT:.0%} draw, never trained on); {len(showcase_family)} words containing a showcase word excluded from training |
| masking | 1, 2 or 3 letters per word (p = {MASK_PROBS}), random positions, at least one letter visible; loss on masked positions |
| epochs | {EPOCHS} (batch {BATCH} words, AdamW lr {LR} one-cycle, weight decay {WEIGHT_DECAY}; masks redrawn every epoch) |
| training wall time | {train_seconds:.1f} s (script total {total_seconds:.1f} s) |
| parameters | {params:,} |
| model.safetensors | {size:,} bytes (float32) |
| config | max_position_embeddings {cfg.max_position_embeddings}, d_model {cfg.d_model}, num_latents {cfg.num_latents}, d_latents {cfg.d_latents}, {cfg.num_self_attends_per_block} self-attention layers x {cfg.num_self_attention_heads} heads, {cfg.num_cross_attention_heads} cross-attention heads |
| versions | {", ".join(f"{k} {v}" for k, v in versions.items())} |

Input contract: `[CLS]` + UTF-8 bytes + 6 + `[SEP]`, a literal `[MASK]` is id 3 (the daemon's byte tokenizer),
no attention mask; at most {MAX_POSITIONS - 2} bytes of text. Trained on single lowercase words only.

## Held-out accuracy (masked letters; seeded masks)

| masked letters per word | words | masked letters | top-1 | top-5 | word: all masked letters right |
|---|---|---|---|---|---|
{rows(held)}

Training words (a seeded sample of 5000), same measure, to compare:

| masked letters per word | words | masked letters | top-1 | top-5 | word: all masked letters right |
|---|---|---|---|---|---|
{rows(train_eval)}

## Examples (showcase words, never trained on; top 3 per mask)

| text | filled | candidates (letter, score) |
|---|---|---|
{example_rows}

## Progress

| epoch | train loss | held-out top-1, 1 masked letter (first 2000 words) | seconds |
|---|---|---|---|
{hist_rows}
""")
    print(json.dumps(held, indent=1))
    for e in examples:
        print(e)
    print(f"params {params}  size {size}  train {train_seconds:.1f}s total {total_seconds:.1f}s")


if __name__ == "__main__":
    main()
