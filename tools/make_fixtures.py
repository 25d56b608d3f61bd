#!/usr/bin/env python3
"""Generate HuggingFace-parity fixtures for the Swift Perceiver IO engine.

Builds tiny Perceiver models from configs (no downloads), re-randomizes every
parameter/buffer deterministically so activations are lively, saves them with
``save_pretrained`` and writes input/expected-output tensors per test case.

Usage:
    .venv/bin/python tools/make_fixtures.py [--out DIR]

Default output: <repo>/Tests/PerceiverEngineTests/Fixtures (deleted and recreated).

Layout:
    manifest.json
    models/<model>/config.json + model.safetensors (or shards + index)
    cases/<case>.safetensors   (inputs + expected outputs; ints int64, floats f32)

The script is fully deterministic: running it twice gives byte-identical files.
"""

from __future__ import annotations

import os

# Offline, quiet, single-threaded. Must be set before importing torch/transformers.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import copy
import hashlib
import json
import platform
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import safetensors
import torch
import transformers
from safetensors.torch import save_file
from torch import nn
from transformers import (
    PerceiverConfig,
    PerceiverForImageClassificationConvProcessing,
    PerceiverForImageClassificationFourier,
    PerceiverForImageClassificationLearned,
    PerceiverForMaskedLM,
    PerceiverForSequenceClassification,
    PerceiverTokenizer,
)
from transformers.models.perceiver import modeling_perceiver as mp

SEED = 2024
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "Tests" / "PerceiverEngineTests" / "Fixtures"
TOLERANCE = {"max_abs": 1e-4, "rel_l2": 1e-5}
MIN_LOGITS_STD = 0.3


# --------------------------------------------------------------------------------------
# Determinism helpers
# --------------------------------------------------------------------------------------


def setup_determinism() -> None:
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set (only allowed once per process)
    torch.use_deterministic_algorithms(True)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings("ignore")


def sub_seed(tag: str) -> int:
    """Stable per-tag seed (Python's hash() is salted, so use sha256)."""
    h = hashlib.sha256(f"{SEED}:{tag}".encode()).digest()
    return int.from_bytes(h[:8], "little") & 0x7FFF_FFFF_FFFF_FFFF


def generator(tag: str) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(sub_seed(tag))
    return g


# --------------------------------------------------------------------------------------
# Re-randomization of every parameter and buffer
# --------------------------------------------------------------------------------------


@torch.no_grad()
def rerandomize(model: nn.Module, tag: str) -> None:
    """Overwrite every parameter and float buffer with lively random values.

    Linear/conv weights ~ N(0, 1/sqrt(fan_in)), biases ~ N(0, 0.1), LayerNorm/BatchNorm
    weight ~ 1 + N(0, 0.1) and bias ~ N(0, 0.1), BN running_mean ~ N(0, 0.2),
    running_var ~ U(0.5, 1.5), token/position embeddings ~ N(0, 0.5),
    latents and trainable position tables ~ N(0, 1), MLM output bias ~ N(0, 0.1).
    Raises if a parameter or buffer is not covered by a rule.
    """
    g = generator("weights:" + tag)

    def normal_(t: torch.Tensor, std: float, mean: float = 0.0) -> None:
        t.copy_(torch.randn(t.shape, generator=g, dtype=torch.float32) * std + mean)

    def uniform_(t: torch.Tensor, lo: float, hi: float) -> None:
        t.copy_(torch.rand(t.shape, generator=g, dtype=torch.float32) * (hi - lo) + lo)

    covered: set[int] = set()
    for _, mod in model.named_modules():
        params = dict(mod.named_parameters(recurse=False))
        buffers = dict(mod.named_buffers(recurse=False))
        if isinstance(mod, nn.Linear):
            normal_(params["weight"], 1.0 / mod.in_features**0.5)
            if mod.bias is not None:
                normal_(params["bias"], 0.1)
        elif isinstance(mod, nn.Conv2d):
            fan_in = mod.in_channels // mod.groups * int(np.prod(mod.kernel_size))
            normal_(params["weight"], 1.0 / fan_in**0.5)
            if mod.bias is not None:
                normal_(params["bias"], 0.1)
        elif isinstance(mod, nn.LayerNorm):
            normal_(params["weight"], 0.1, 1.0)
            normal_(params["bias"], 0.1)
        elif isinstance(mod, nn.BatchNorm2d):
            normal_(params["weight"], 0.1, 1.0)
            normal_(params["bias"], 0.1)
            normal_(buffers["running_mean"], 0.2)
            uniform_(buffers["running_var"], 0.5, 1.5)
            covered.add(id(buffers["running_mean"]))
            covered.add(id(buffers["running_var"]))
            covered.add(id(buffers["num_batches_tracked"]))  # int64 counter, unused in eval
        elif isinstance(mod, nn.Embedding):
            normal_(params["weight"], 0.5)
        elif isinstance(mod, mp.PerceiverEmbeddings):
            normal_(params["latents"], 1.0)
        elif isinstance(mod, mp.PerceiverTrainablePositionEncoding):
            normal_(params["position_embeddings"], 1.0)
        elif isinstance(mod, mp.PerceiverEmbeddingDecoder):
            normal_(params["bias"], 0.1)
        elif params or buffers:
            raise RuntimeError(f"no re-randomization rule for {type(mod).__name__}: {list(params) + list(buffers)}")
        covered.update(id(p) for p in params.values())

    missing = [n for n, p in model.named_parameters() if id(p) not in covered]
    missing += [n for n, b in model.named_buffers() if id(b) not in covered]
    if missing:
        raise RuntimeError(f"parameters/buffers not re-randomized: {missing}")


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------------------
# Model definitions
# --------------------------------------------------------------------------------------


def labels(n: int) -> dict[int, str]:
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    return {i: names[i] for i in range(n)}


MLM_CONFIG = dict(
    num_latents=8,
    d_latents=64,
    d_model=32,
    num_blocks=2,
    num_self_attends_per_block=2,
    num_self_attention_heads=2,
    num_cross_attention_heads=2,
    qk_channels=32,
    v_channels=64,
    max_position_embeddings=24,
    vocab_size=262,
)

SEQCLS_CONFIG = dict(
    num_latents=8,
    d_latents=64,
    d_model=32,
    num_blocks=2,
    num_self_attends_per_block=2,
    num_self_attention_heads=2,
    num_cross_attention_heads=2,
    qk_channels=None,
    v_channels=None,
    max_position_embeddings=24,
    vocab_size=262,
    num_labels=3,
    id2label=labels(3),
    label2id={v: k for k, v in labels(3).items()},
)

LEARNED_CONFIG = dict(
    image_size=8,
    num_latents=8,
    d_latents=64,
    d_model=16,  # unused by this class (kv dim = 256 conv + 256 projected pos = 512)
    num_blocks=2,
    num_self_attends_per_block=2,
    num_self_attention_heads=2,
    num_cross_attention_heads=1,
    num_labels=5,
    id2label=labels(5),
    label2id={v: k for k, v in labels(5).items()},
)

FOURIER_CONFIG = dict(
    num_latents=8,
    d_latents=32,  # smaller than the others to stay under the 6 MB budget
    d_model=261,  # informational; kv dim = 3 pixels + (2*2*64+2) Fourier = 261
    num_blocks=2,
    num_self_attends_per_block=2,
    num_self_attention_heads=2,
    num_cross_attention_heads=1,
    num_labels=5,
    id2label=labels(5),
    label2id={v: k for k, v in labels(5).items()},
)

CONV_CONFIG = dict(
    num_latents=8,
    d_latents=32,  # smaller than the others to stay under the 6 MB budget
    d_model=322,  # informational; kv dim = 64 conv + 258 Fourier = 322
    num_blocks=2,
    num_self_attends_per_block=2,
    num_self_attention_heads=2,
    num_cross_attention_heads=2,
    # Explicit qk/v (qk != v) and widening factors != 1: keeps the file small (default qk
    # would be 322x322 key/value matrices) and exercises config paths the published
    # checkpoints never use. Self-attention needs v_channels == d_latents.
    qk_channels=16,
    v_channels=32,
    cross_attention_widening_factor=2,
    self_attention_widening_factor=2,
    num_labels=5,
    id2label=labels(5),
    label2id={v: k for k, v in labels(5).items()},
)


def build_model(cls, cfg_kwargs: dict, tag: str) -> nn.Module:
    torch.manual_seed(sub_seed("construct:" + tag))
    config = PerceiverConfig(**cfg_kwargs)
    model = cls(config)
    rerandomize(model, tag)
    model.eval()
    return model


def save_model(model: nn.Module, out_dir: Path, **kwargs) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir), **kwargs)


def load_model(cls, model_dir: Path, dtype=None) -> nn.Module:
    kwargs = {} if dtype is None else {"dtype": dtype}
    model = cls.from_pretrained(str(model_dir), **kwargs)
    model.eval()
    return model


def assert_same_state(a: nn.Module, b: nn.Module, what: str) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    if sorted(sa) != sorted(sb):
        raise AssertionError(f"{what}: key mismatch {set(sa) ^ set(sb)}")
    for k in sa:
        if sa[k].dtype != sb[k].dtype or not torch.equal(sa[k], sb[k]):
            raise AssertionError(f"{what}: tensor {k} differs after reload")


# --------------------------------------------------------------------------------------
# Case helpers
# --------------------------------------------------------------------------------------


class Fixtures:
    def __init__(self, out: Path):
        self.out = out
        self.models: dict[str, dict] = {}
        self.cases: list[dict] = []
        self.summary: list[tuple[str, str, str]] = []

    def add_model(self, name: str, model: nn.Module, dtype: str, sharded: bool) -> None:
        model_dir = self.out / "models" / name
        config = json.loads((model_dir / "config.json").read_text())
        files = sorted(p.name for p in model_dir.iterdir())
        if sharded:
            assert (model_dir / "model.safetensors.index.json").exists(), "sharded index missing"
            shards = [f for f in files if f.startswith("model-") and f.endswith(".safetensors")]
            assert len(shards) >= 2, f"expected >= 2 shards, got {files}"
        else:
            assert "model.safetensors" in files, files
        self.models[name] = {
            "architecture": type(model).__name__,
            "dtype": dtype,
            "sharded": sharded,
            "parameters": count_parameters(model),
            "files": files,
            "config": config,
        }

    def add_case(
        self,
        name: str,
        model: str,
        inputs: dict[str, torch.Tensor],
        outputs: dict[str, torch.Tensor],
        description: str,
        text: list[str] | None = None,
        check_spread: bool = True,
    ) -> None:
        tensors = {}
        for k, v in list(inputs.items()) + list(outputs.items()):
            v = v.detach().cpu().contiguous()
            if v.dtype in (torch.int32, torch.int64):
                v = v.to(torch.int64)
            else:
                v = v.to(torch.float32)
            assert not torch.isnan(v).any() and torch.isfinite(v).all(), f"{name}/{k} has NaN/inf"
            tensors[k] = v
        logits = tensors["logits"]
        std = float(logits.std())
        if check_spread and std < MIN_LOGITS_STD:
            raise AssertionError(f"{name}: logits std {std:.4f} < {MIN_LOGITS_STD} (too flat)")
        path = self.out / "cases" / f"{name}.safetensors"
        path.parent.mkdir(parents=True, exist_ok=True)
        # No metadata: safetensors serializes a multi-key metadata dict in random (HashMap) order.
        save_file(tensors, str(path))
        entry = {
            "name": name,
            "model": model,
            "inputs": list(inputs),
            "outputs": list(outputs),
            "shapes": {k: list(v.shape) for k, v in tensors.items()},
            "description": description,
        }
        if text is not None:
            entry["text"] = text
        self.cases.append(entry)
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in tensors.items())
        self.summary.append((name, shapes, f"{std:.4f}"))

    def write_manifest(self) -> None:
        manifest = {
            "seed": SEED,
            "versions": {
                "python": platform.python_version(),
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "numpy": np.__version__,
                "safetensors": safetensors.__version__,
            },
            "tolerance": TOLERANCE,
            "models": self.models,
            "cases": self.cases,
        }
        text = json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
        (self.out / "manifest.json").write_text(text, encoding="utf-8")


def tokenize(tok: PerceiverTokenizer, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    enc = tok(texts, padding=True, return_tensors="pt")
    ids = enc["input_ids"].to(torch.int64)
    mask = enc["attention_mask"].to(torch.int64)
    # Right padding with pad id 0, as the engine expects.
    assert tok.padding_side == "right" and tok.pad_token_id == 0
    for i in range(ids.shape[0]):
        n = int(mask[i].sum())
        assert mask[i, :n].all() and not mask[i, n:].any()
        assert (ids[i, n:] == 0).all()
    return ids, mask


def assert_close(a: torch.Tensor, b: torch.Tensor, atol: float, what: str) -> None:
    diff = float((a - b).abs().max()) if a.numel() else 0.0
    if not diff <= atol:
        raise AssertionError(f"{what}: max abs diff {diff:.3e} > {atol:.1e}")


def assert_input_sensitive(logits: torch.Tensor, what: str, min_diff: float = 0.1) -> None:
    """Different inputs in a batch must give clearly different outputs (model not dead)."""
    diff = float((logits[0] - logits[1]).abs().max())
    if diff < min_diff:
        raise AssertionError(f"{what}: rows 0 and 1 differ by only {diff:.3e}")


# --------------------------------------------------------------------------------------
# Text models
# --------------------------------------------------------------------------------------

MLM_SINGLE_TEXT = ["a cat [MASK][MASK] mat"]
MLM_BATCH_TEXTS = ["hello world", "caf\u00e9 \u2615 [MASK] ok?", "the quick br[MASK]wn fox!"]
MLM_POSITIONS_TEXTS = ["the [MASK]at sat", "on the m[MASK][MASK]t, too"]
MLM_QUERIES_TEXTS = ["queries!", "decode me, please"]
MLM_FULL_TEXT = ["0123456789abcdefghij[MASK]!"]  # 20 + 1 + 1 = 22 bytes/tokens + CLS/SEP = 24
MLM_FULLY_MASKED_TEXTS = ["masked out", "kept [MASK]"]
SEQCLS_BATCH_TEXTS = ["good movie", "this was bad, truly"]
SEQCLS_QUERIES_TEXTS = ["hello there"]


def make_text_cases(fx: Fixtures, tok: PerceiverTokenizer) -> None:
    out = fx.out
    max_pos = MLM_CONFIG["max_position_embeddings"]

    # ---------------- mlm (F32) ----------------
    mlm_mem = build_model(PerceiverForMaskedLM, MLM_CONFIG, "mlm")
    save_model(mlm_mem, out / "models" / "mlm")
    mlm = load_model(PerceiverForMaskedLM, out / "models" / "mlm", dtype=torch.float32)
    assert_same_state(mlm_mem, mlm, "mlm reload")
    fx.add_model("mlm", mlm, "F32", sharded=False)

    def mlm_logits(model, ids, mask=None):
        with torch.no_grad():
            full = model(input_ids=ids, attention_mask=mask).logits
        assert full.shape == (ids.shape[0], max_pos, MLM_CONFIG["vocab_size"]), full.shape
        return full

    # mlm_single
    ids, _ = tokenize(tok, MLM_SINGLE_TEXT)
    L = ids.shape[1]
    assert L <= 22, L
    single_full = mlm_logits(mlm, ids)
    fx.add_case(
        "mlm_single",
        "mlm",
        {"input_ids": ids},
        {"logits": single_full[:, :L, :]},
        "B=1 MLM, no attention_mask (HF adds no mask bias). Expected logits are HF logits[:, :L, :] "
        "(HF always decodes all max_position_embeddings query rows; rows are independent).",
        text=MLM_SINGLE_TEXT,
    )

    # mlm_padded_batch
    ids, mask = tokenize(tok, MLM_BATCH_TEXTS)
    Lmax = ids.shape[1]
    full = mlm_logits(mlm, ids, mask)
    for i, t in enumerate(MLM_BATCH_TEXTS):
        n = int(mask[i].sum())
        alone_ids, _ = tokenize(tok, [t])
        alone = mlm_logits(mlm, alone_ids)
        assert_close(full[i, :n], alone[0, :n], 1e-5, f"mlm_padded_batch row {i} vs alone")
    assert_input_sensitive(full[:, :4], "mlm_padded_batch")
    fx.add_case(
        "mlm_padded_batch",
        "mlm",
        {"input_ids": ids, "attention_mask": mask},
        {"logits": full[:, :Lmax, :]},
        "B=3 texts of different lengths (incl. multi-byte UTF-8: e-acute = 2 bytes, hot beverage = 3 bytes), "
        "right-padded with 0, attention_mask 1/0; one batched HF forward; logits[:, :Lmax, :]. Rows beyond a "
        "text's length are still HF's output for those query positions. Generator asserts each row's valid "
        "part equals running that text alone within 1e-5.",
        text=MLM_BATCH_TEXTS,
    )

    # mlm_positions: unsorted, distinct positions per row, all within each row's valid length.
    ids, mask = tokenize(tok, MLM_POSITIONS_TEXTS)
    full = mlm_logits(mlm, ids, mask)
    mask_pos = [[j for j in range(ids.shape[1]) if ids[i, j] == tok.mask_token_id] for i in range(2)]
    lens = [int(mask[i].sum()) for i in range(2)]
    positions = torch.tensor(
        [
            [mask_pos[0][0], 0, lens[0] - 1],  # [MASK], CLS, SEP
            [mask_pos[1][1], mask_pos[1][0], 2],  # second mask first: order must be respected
        ],
        dtype=torch.int64,
    )
    for i in range(2):
        assert len(set(positions[i].tolist())) == 3 and int(positions[i].max()) < lens[i]
    gathered = torch.stack([full[i, positions[i]] for i in range(2)])
    fx.add_case(
        "mlm_positions",
        "mlm",
        {"input_ids": ids, "attention_mask": mask, "output_positions": positions},
        {"logits": gathered},
        "B=2 padded + mask; output_positions (2,3) int64, distinct per row and deliberately NOT sorted "
        "(row 1 lists the second [MASK] before the first); expected = full HF logits gathered at those rows, "
        "in the given order.",
        text=MLM_POSITIONS_TEXTS,
    )

    # mlm_queries: caller-supplied decoder queries.
    ids, mask = tokenize(tok, MLM_QUERIES_TEXTS)
    queries = torch.randn((2, 4, MLM_CONFIG["d_model"]), generator=generator("case:mlm_queries"))
    with torch.no_grad():
        z = mlm.perceiver(inputs=ids, attention_mask=mask).last_hidden_state
        dec = mlm.perceiver.decoder(query=queries, z=z).logits
        q_logits = mlm.embedding_decoder(dec, embedding_layer=mlm.perceiver.input_preprocessor.embeddings)
        # Sanity: feeding the decoder's own position table as queries reproduces the model output.
        table = mlm.perceiver.decoder.output_position_encodings.position_embeddings
        own = mlm.perceiver.decoder(query=table[None].expand(2, -1, -1), z=z).logits
        own = mlm.embedding_decoder(own, embedding_layer=mlm.perceiver.input_preprocessor.embeddings)
        assert_close(own, mlm_logits(mlm, ids, mask), 1e-5, "mlm decoder-with-table vs forward")
    assert q_logits.shape == (2, 4, MLM_CONFIG["vocab_size"])
    fx.add_case(
        "mlm_queries",
        "mlm",
        {"input_ids": ids, "attention_mask": mask, "queries": queries},
        {"logits": q_logits},
        "B=2 padded + mask; caller queries (2,4,d_model) ~ N(0,1) replace the trainable decoder query table: "
        "z = perceiver(...).last_hidden_state; out = perceiver.decoder(query, z).logits "
        "(PerceiverBasicDecoder, no query residual, no final projection); "
        "logits = embedding_decoder(out, input token embeddings) = out @ E^T + bias.",
        text=MLM_QUERIES_TEXTS,
    )

    # mlm_full_length: L == max_position_embeddings (position-table boundary).
    ids, _ = tokenize(tok, MLM_FULL_TEXT)
    assert ids.shape[1] == max_pos, ids.shape
    full = mlm_logits(mlm, ids)
    fx.add_case(
        "mlm_full_length",
        "mlm",
        {"input_ids": ids},
        {"logits": full},
        "Extra: B=1 with L == max_position_embeddings (24), no mask. Catches off-by-one errors at the end of "
        "the input position table / decoder query table and engines that reserve a slot.",
        text=MLM_FULL_TEXT,
    )

    # mlm_fully_masked_row: edge semantics of HF's additive finfo.min mask.
    ids, mask = tokenize(tok, MLM_FULLY_MASKED_TEXTS)
    mask[0, :] = 0
    full = mlm_logits(mlm, ids, mask)
    Lmax = ids.shape[1]
    fx.add_case(
        "mlm_fully_masked_row",
        "mlm",
        {"input_ids": ids, "attention_mask": mask},
        {"logits": full[:, :Lmax, :]},
        "Extra, EDGE semantics: B=2, row 0 has attention_mask all zeros. HF adds finfo(float32).min "
        "(-3.4028235e38) to masked scores, so score+min rounds to exactly min for every key and the "
        "softmax is UNIFORM over all keys (incl. padding) - finite output, no NaN. An engine using -inf "
        "gives NaN; one using JAX-style 'wipe' gives zeros. Row 1 is a normal row.",
        text=MLM_FULLY_MASKED_TEXTS,
    )

    # ---------------- mlm_f16 / mlm_bf16 ----------------
    for name, dt, dtname in (("mlm_f16", torch.float16, "F16"), ("mlm_bf16", torch.bfloat16, "BF16")):
        half = copy.deepcopy(mlm_mem).to(dt)
        save_model(half, out / "models" / name)
        loaded = load_model(PerceiverForMaskedLM, out / "models" / name, dtype=dt)
        assert all(p.dtype == dt for p in loaded.parameters())
        ref = loaded.float().eval()
        # Reference weights are exactly the rounded mlm weights.
        rounded = copy.deepcopy(mlm_mem).to(dt).float()
        assert_same_state(rounded, ref, f"{name} reload")
        fx.add_model(name, loaded, dtname, sharded=False)
        ids, _ = tokenize(tok, MLM_SINGLE_TEXT)
        L = ids.shape[1]
        logits = mlm_logits(ref, ids)[:, :L, :]
        diff_vs_f32 = float((logits - single_full[:, :L, :]).abs().max())
        assert diff_vs_f32 > 0.0, f"{name}: rounding had no effect?"
        fx.add_case(
            f"{name}_single",
            name,
            {"input_ids": ids},
            {"logits": logits},
            f"Same input as mlm_single on the {dtname} copy of mlm. Reference computed in float32 from the "
            f"{dtname}-rounded weights (saved dir loaded back, .float()), i.e. the engine must upcast to f32 at "
            f"load. Differs from mlm_single by max {diff_vs_f32:.3e}, so loading the wrong file or not "
            f"rounding is detectable.",
            text=MLM_SINGLE_TEXT,
        )

    # ---------------- seqcls (sharded) ----------------
    seq_mem = build_model(PerceiverForSequenceClassification, SEQCLS_CONFIG, "seqcls")
    save_model(seq_mem, out / "models" / "seqcls", max_shard_size="100KB")
    seq = load_model(PerceiverForSequenceClassification, out / "models" / "seqcls", dtype=torch.float32)
    assert_same_state(seq_mem, seq, "seqcls reload")
    fx.add_model("seqcls", seq, "F32", sharded=True)

    ids, mask = tokenize(tok, SEQCLS_BATCH_TEXTS)
    with torch.no_grad():
        logits = seq(input_ids=ids, attention_mask=mask).logits
    assert logits.shape == (2, 3)
    assert_input_sensitive(logits, "seqcls_batch")
    for i, t in enumerate(SEQCLS_BATCH_TEXTS):
        alone_ids, _ = tokenize(tok, [t])
        with torch.no_grad():
            alone = seq(input_ids=alone_ids).logits
        assert_close(logits[i], alone[0], 1e-5, f"seqcls_batch row {i} vs alone")
    fx.add_case(
        "seqcls_batch",
        "seqcls",
        {"input_ids": ids, "attention_mask": mask},
        {"logits": logits},
        "B=2 padded + mask on the SHARDED sequence classifier (qk/v = None -> cross qk defaults to the kv "
        "dim d_model=32, self qk=v=d_latents); classification decoder (1 trainable query, heads=1, query "
        "residual, final Linear) -> (B, num_labels).",
        text=SEQCLS_BATCH_TEXTS,
    )

    ids, _ = tokenize(tok, SEQCLS_QUERIES_TEXTS)
    queries = torch.randn((1, 2, SEQCLS_CONFIG["d_latents"]), generator=generator("case:seqcls_queries"))
    with torch.no_grad():
        z = seq.perceiver(inputs=ids).last_hidden_state
        inner = seq.perceiver.decoder.decoder  # PerceiverBasicDecoder inside PerceiverClassificationDecoder
        logits = inner(queries, z).logits
        own = inner(inner.output_position_encodings.position_embeddings[None], z).logits[:, 0, :]
        assert_close(own, seq(input_ids=ids).logits, 1e-5, "seqcls inner decoder vs forward")
    assert logits.shape == (1, 2, 3)
    fx.add_case(
        "seqcls_queries",
        "seqcls",
        {"input_ids": ids, "queries": queries},
        {"logits": logits},
        "B=1, no mask; caller queries (1,2,d_latents) ~ N(0,1) fed to the INNER PerceiverBasicDecoder "
        "(perceiver.decoder.decoder(query, z)), keeping all O=2 rows (no [:,0,:] selection): "
        "the query residual adds the raw caller query.",
        text=SEQCLS_QUERIES_TEXTS,
    )


# --------------------------------------------------------------------------------------
# Vision models
# --------------------------------------------------------------------------------------


def make_vision_cases(fx: Fixtures) -> None:
    out = fx.out

    def build_save_load(name, cls, cfg):
        mem = build_model(cls, cfg, name)
        save_model(mem, out / "models" / name)
        model = load_model(cls, out / "models" / name, dtype=torch.float32)
        assert_same_state(mem, model, f"{name} reload")
        fx.add_model(name, model, "F32", sharded=False)
        return model

    def classify(model, pixels):
        with torch.no_grad():
            return model(pixel_values=pixels).logits

    # learned
    learned = build_save_load("learned", PerceiverForImageClassificationLearned, LEARNED_CONFIG)
    px = torch.randn((2, 3, 8, 8), generator=generator("case:learned"))
    logits = classify(learned, px)
    assert logits.shape == (2, 5)
    assert_input_sensitive(logits, "learned_batch")
    fx.add_case(
        "learned_batch",
        "learned",
        {"pixel_values": px},
        {"logits": logits},
        "B=2 8x8 N(0,1) pixels; conv1x1 (3->256) + trainable 64x256 table projected by Linear(256->256), "
        "concatenated (kv dim 512, default qk=v=512, cross heads 1); classification decoder -> (2,5).",
    )
    positions = torch.zeros((2, 1), dtype=torch.int64)
    fx.add_case(
        "learned_positions",
        "learned",
        {"pixel_values": px, "output_positions": positions},
        {"logits": logits[:, None, :]},
        "Same pixels as learned_batch; output_positions (2,1) zeros selects row 0 of the inner decoder "
        "output -> logits (2,1,5) = learned_batch logits[:, None, :].",
    )

    # fourier
    fourier = build_save_load("fourier", PerceiverForImageClassificationFourier, FOURIER_CONFIG)
    px = 3.0 * torch.randn((2, 3, 8, 8), generator=generator("case:fourier"))
    logits = classify(fourier, px)
    assert logits.shape == (2, 5)
    assert_input_sensitive(logits, "fourier_batch")
    fx.add_case(
        "fourier_batch",
        "fourier",
        {"pixel_values": px},
        {"logits": logits},
        "B=2 8x8 pixels ~ N(0, 3^2) (scaled so the 3 pixel channels are not drowned by 258 Fourier channels after LayerNorm); raw pixels + Fourier features (64 bands, max_resolution hard-coded (224,224), "
        "grid linspace(-1,1,8)) -> kv dim 261; default qk=v=261 (non-power-of-2 scale 1/sqrt(261)).",
    )
    px = 3.0 * torch.randn((1, 3, 6, 10), generator=generator("case:fourier_nonsquare"))
    logits = classify(fourier, px)
    fx.add_case(
        "fourier_nonsquare",
        "fourier",
        {"pixel_values": px},
        {"logits": logits},
        "Extra: B=1 non-square 6x10 (H != W) image. Catches H/W swaps in the Fourier grid (y first, then x), "
        "in the NCHW->NHWC flatten order, and in the per-axis linspace lengths.",
    )

    # conv
    conv = build_save_load("conv", PerceiverForImageClassificationConvProcessing, CONV_CONFIG)
    px = 3.0 * torch.randn((2, 3, 16, 16), generator=generator("case:conv"))
    logits = classify(conv, px)
    assert logits.shape == (2, 5)
    assert_input_sensitive(logits, "conv_batch")
    fx.add_case(
        "conv_batch",
        "conv",
        {"pixel_values": px},
        {"logits": logits},
        "B=2 16x16 pixels; 7x7 stride-2 conv with HF 'same' padding (3,3) -> 8x8, BatchNorm (random running "
        "stats, eps 1e-5), ReLU, MaxPool(3, stride 2, no padding) -> 3x3 = 9 tokens; + Fourier (max_res 56) "
        "-> kv 322. Config uses explicit qk_channels=16, v_channels=32 (qk != v) and widening factors 2.",
    )
    px = 3.0 * torch.randn((1, 3, 15, 17), generator=generator("case:conv_odd"))
    logits = classify(conv, px)
    fx.add_case(
        "conv_odd_nonsquare",
        "conv",
        {"pixel_values": px},
        {"logits": logits},
        "Extra: B=1 odd, non-square 15x17. HF pads (3,3) on both sides regardless of parity (TF SAME would "
        "pad differently), conv -> 8x9, floor-mode maxpool -> 3x4 = 12 tokens; catches padding, output-size "
        "rounding and H/W order bugs in the conv path.",
    )


# --------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output dir (default: {DEFAULT_OUT})")
    args = ap.parse_args()
    out: Path = args.out.resolve()

    setup_determinism()

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    tok = PerceiverTokenizer()  # byte-level, no vocab file: works offline
    assert tok.mask_token_id == 3 and tok.cls_token_id == 4 and tok.sep_token_id == 5

    fx = Fixtures(out)
    make_text_cases(fx, tok)
    make_vision_cases(fx)
    fx.write_manifest()

    # Summary
    w0 = max(len(r[0]) for r in fx.summary)
    w1 = max(len(r[1]) for r in fx.summary)
    print(f"{'case':<{w0}}  {'tensors':<{w1}}  logits std")
    print("-" * (w0 + w1 + 14))
    for name, shapes, std in fx.summary:
        print(f"{name:<{w0}}  {shapes:<{w1}}  {std}")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"\n{len(fx.models)} models, {len(fx.cases)} cases, {total / 1e6:.2f} MB written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
