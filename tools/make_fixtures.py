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
    PerceiverForMultimodalAutoencoding,
    PerceiverForOpticalFlow,
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
    latents and trainable position tables ~ N(0, 1), MLM output bias ~ N(0, 0.1),
    multimodal padding/mask ParameterDict entries ~ N(0, 1).
    Raises if a parameter or buffer is not covered by a rule.
    """
    g = generator("weights:" + tag)

    def normal_(t: torch.Tensor, std: float, mean: float = 0.0) -> None:
        t.copy_(torch.randn(t.shape, generator=g, dtype=torch.float32) * std + mean)

    def uniform_(t: torch.Tensor, lo: float, hi: float) -> None:
        t.copy_(torch.rand(t.shape, generator=g, dtype=torch.float32) * (hi - lo) + lo)

    covered: set[int] = set()
    for mod_name, mod in model.named_modules():
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
        elif isinstance(mod, nn.ParameterDict) and mod_name.rsplit(".", 1)[-1] in ("padding", "mask"):
            for p in params.values():  # multimodal pre/decoder padding and mask tokens
                normal_(p, 1.0)
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

FLOW_CONFIG = dict(
    num_latents=8,
    d_latents=32,
    d_model=322,  # informational; kv dim = 64 (Linear(54->64) after patching) + 258 Fourier = 322
    num_blocks=1,
    num_self_attends_per_block=2,
    num_self_attention_heads=2,
    num_cross_attention_heads=1,
    qk_channels=16,
    v_channels=32,
    train_size=[6, 8],  # H, W: inputs must be exactly this size (the decoder reshapes to it)
)
FLOW_FINAL_LAYER_SCALE = 100.0  # undoes HF's rescale_factor=100 (logits std ~0.36 instead of ~0.004)

MULTIMODAL_CONFIG = dict(
    num_latents=8,
    d_latents=16,
    # informational; = the multimodal preprocessor's num_channels: max(audio 4 + 385 Fourier, image 48 + 195
    # Fourier, label 5) + min_padding_size 4 = 393 (asserted after building the model)
    d_model=393,
    num_blocks=1,
    num_self_attends_per_block=2,
    num_self_attention_heads=2,
    num_cross_attention_heads=1,
    qk_channels=16,
    v_channels=16,
    num_frames=2,
    image_size=4,  # Fourier max_resolution (num_frames, image_size, image_size) = (2, 4, 4)
    audio_samples_per_frame=8,  # 2 frames * 8 = 16 audio samples = 4 patches of 4
    samples_per_patch=4,
    output_shape=[1, 2, 16, 16],  # image decoder query grid (T, H, W) = (2, 16, 16) = 512 points
    output_num_channels=8,
    num_labels=5,
    id2label=labels(5),
    label2id={v: k for k, v in labels(5).items()},
    _label_trainable_num_channels=8,  # PerceiverConfig dataclass field (default 1024), saved in config.json
)
# Per-output std floors for multimodal_full (used instead of MIN_LOGITS_STD: the image output is flatter).
MULTIMODAL_MIN_STD = {"image": 0.15, "audio": MIN_LOGITS_STD, "label": MIN_LOGITS_STD}


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
        output_prefix: str = "",
    ) -> None:
        """Write inputs and expected outputs to cases/<name>.safetensors and add a manifest entry.

        Output tensors are stored as ``output_prefix + key`` (e.g. "expected.image", so they cannot clash
        with input names); the manifest's "outputs" lists the bare keys. Every output's std is checked
        against MIN_LOGITS_STD when check_spread is set (all existing cases have the single output "logits").
        """
        tensors = {}
        named = list(inputs.items()) + [(output_prefix + k, v) for k, v in outputs.items()]
        assert len({k for k, _ in named}) == len(named), f"{name}: duplicate tensor names"
        for k, v in named:
            v = v.detach().cpu().contiguous()
            if v.dtype in (torch.int32, torch.int64):
                v = v.to(torch.int64)
            else:
                v = v.to(torch.float32)
            assert not torch.isnan(v).any() and torch.isfinite(v).all(), f"{name}/{k} has NaN/inf"
            tensors[k] = v
        stds = {k: float(tensors[output_prefix + k].std()) for k in outputs}
        for k, std in stds.items():
            if check_spread and std < MIN_LOGITS_STD:
                raise AssertionError(f"{name}: {output_prefix + k} std {std:.4f} < {MIN_LOGITS_STD} (too flat)")
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
        if list(stds) == ["logits"]:
            std_text = f"{stds['logits']:.4f}"
        else:
            std_text = ", ".join(f"{k}={v:.4f}" for k, v in stds.items())
        self.summary.append((name, shapes, std_text))

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
# Optical flow
# --------------------------------------------------------------------------------------


def flow_patches(frames: torch.Tensor) -> torch.Tensor:
    """Frames (B, 2, 3, H, W) -> 3x3 patches (B, 2, 27, H, W), as TF extract_patches with SAME padding.

    Zero-pads H and W by 1 on each side; out[b, t, (kh*3 + kw)*3 + c, y, x] = padded[b, t, c, y + kh, x + kw].
    """
    assert frames.dim() == 5 and frames.shape[1] == 2 and frames.shape[2] == 3, frames.shape
    B, T, C, H, W = frames.shape
    padded = torch.nn.functional.pad(frames, (1, 1, 1, 1))  # (left, right) on W, (top, bottom) on H
    out = frames.new_zeros((B, T, 9 * C, H, W))
    for kh in range(3):
        for kw in range(3):
            for c in range(C):
                out[:, :, (kh * 3 + kw) * C + c] = padded[:, :, c, kh : kh + H, kw : kw + W]
    return out


def flow_patches_unfold(frames: torch.Tensor) -> torch.Tensor:
    """Independent flow_patches: torch unfold gives channel c*9 + kh*3 + kw; permute to (kh, kw, c)."""
    B, T, C, H, W = frames.shape
    cols = torch.nn.functional.unfold(frames.reshape(B * T, C, H, W), kernel_size=3, padding=1)
    cols = cols.reshape(B, T, C, 3, 3, H, W).permute(0, 1, 3, 4, 2, 5, 6)
    return cols.reshape(B, T, 9 * C, H, W)


def make_flow_cases(fx: Fixtures) -> None:
    out = fx.out
    H, W = FLOW_CONFIG["train_size"]

    mem = build_model(PerceiverForOpticalFlow, FLOW_CONFIG, "flow")
    with torch.no_grad():
        final = mem.perceiver.decoder.decoder.final_layer
        final.weight.mul_(FLOW_FINAL_LAYER_SCALE)
        final.bias.mul_(FLOW_FINAL_LAYER_SCALE)
    assert mem.perceiver.input_preprocessor.num_channels == FLOW_CONFIG["d_model"]
    save_model(mem, out / "models" / "flow")
    flow = load_model(PerceiverForOpticalFlow, out / "models" / "flow", dtype=torch.float32)
    assert_same_state(mem, flow, "flow reload")
    fx.add_model("flow", flow, "F32", sharded=False)

    frames = torch.rand((2, 2, 3, H, W), generator=generator("case:flow")) * 2.0 - 1.0
    patches = flow_patches(frames)
    assert patches.shape == (2, 2, 27, H, W)
    assert torch.equal(patches, flow_patches_unfold(frames)), "flow_patches != unfold implementation"
    # Spot check of the definition at a corner (zero padding) and an interior pixel.
    assert float(patches[0, 0, (0 * 3 + 0) * 3 + 2, 0, 0]) == 0.0
    assert float(patches[1, 1, (2 * 3 + 1) * 3 + 1, 2, 3]) == float(frames[1, 1, 1, 3, 3])
    with torch.no_grad():
        logits = flow(inputs=patches).logits
    assert logits.shape == (2, H, W, 2), logits.shape
    assert_input_sensitive(logits, "flow_patches")

    fx.add_case(
        "flow_patches",
        "flow",
        {"inputs": patches},
        {"logits": logits},
        f"B=2 optical flow on {H}x{W} (== config.train_size). frames ~ U(-1,1) (2,2,3,{H},{W}); inputs = 3x3 "
        "patches (2,2,27,H,W), channel (kh*3+kw)*3+c, zero padding 1 (TF extract_patches SAME order). HF: "
        "space_to_depth with temporal_downsample 2 -> 54 channels t*27+k, Linear(54->64), + Fourier over (H,W) "
        f"(64 bands, max_resolution train_size) -> kv 322; the decoder query IS that preprocessed input; "
        f"final Linear(322->2) then / 100 (the fixture's final_layer weight and bias were multiplied by "
        f"{FLOW_FINAL_LAYER_SCALE:g} before saving) -> logits (B,H,W,2).",
    )
    fx.add_case(
        "flow_frames",
        "flow",
        {"frames": frames},
        {"logits": logits},
        "Same as flow_patches, but the input is the raw frames (2,2,3,H,W): the engine must build the 3x3 "
        "patches itself (zero pad 1, channel (kh*3+kw)*3+c) before running the model.",
    )

    positions = torch.tensor([[47, 0, 13, 8, 30], [5, 41, 22, 7, 0]], dtype=torch.int64)
    for i in range(2):
        assert len(set(positions[i].tolist())) == positions.shape[1] and int(positions[i].max()) < H * W
    flat = logits.reshape(2, H * W, 2)
    gathered = torch.stack([flat[i, positions[i]] for i in range(2)])
    assert gathered.shape == (2, 5, 2)
    fx.add_case(
        "flow_positions",
        "flow",
        {"inputs": patches, "output_positions": positions},
        {"logits": gathered},
        f"Same inputs as flow_patches; output_positions (2,5) int64 = flat pixel indices y*{W}+x into H*W={H * W}, "
        "distinct, unsorted, different per row; expected = full logits reshaped (2,H*W,2) gathered per row "
        "in the given order. (HF's flow decoder rejects subsampling; with the query = the input, dropping "
        "query rows is exact.)",
    )


# --------------------------------------------------------------------------------------
# Multimodal autoencoding
# --------------------------------------------------------------------------------------


def make_multimodal_cases(fx: Fixtures) -> None:
    out = fx.out
    cfg = MULTIMODAL_CONFIG
    T, S = cfg["num_frames"], cfg["output_shape"][2]
    n_audio = cfg["num_frames"] * cfg["audio_samples_per_frame"]
    n_patches = n_audio // cfg["samples_per_patch"]
    n_image = T * S * S
    n_labels = cfg["num_labels"]

    mem = build_model(PerceiverForMultimodalAutoencoding, cfg, "multimodal")
    d_model = mem.perceiver.input_preprocessor.num_channels
    print(f"multimodal: preprocessor num_channels (d_model) = {d_model}")
    assert d_model == cfg["d_model"], d_model
    save_model(mem, out / "models" / "multimodal")
    config_json = json.loads((out / "models" / "multimodal" / "config.json").read_text())
    assert config_json.get("_label_trainable_num_channels") == cfg["_label_trainable_num_channels"], config_json
    mm = load_model(PerceiverForMultimodalAutoencoding, out / "models" / "multimodal", dtype=torch.float32)
    assert mm.config._label_trainable_num_channels == cfg["_label_trainable_num_channels"]
    assert_same_state(mem, mm, "multimodal reload")  # also compares shapes
    label_query = mm.perceiver.decoder.modalities["label"].decoder.output_position_encodings.position_embeddings
    assert tuple(label_query.shape) == (1, cfg["_label_trainable_num_channels"]), label_query.shape
    fx.add_model("multimodal", mm, "F32", sharded=False)

    g = generator("case:multimodal")
    image = torch.randn((2, T, 3, S, S), generator=g)
    audio = torch.randn((2, n_audio, 1), generator=g)
    label = torch.nn.functional.one_hot(torch.tensor([1, 4]), n_labels).to(torch.float32)

    def run(sub, label_input=label):
        with torch.no_grad():
            res = mm(inputs={"image": image, "audio": audio, "label": label_input}, subsampled_output_points=sub)
        return res.logits

    full_sub = {"image": torch.arange(n_image), "audio": torch.arange(n_patches), "label": None}
    full = run(full_sub)
    assert full["image"].shape == (2, n_image, 3), full["image"].shape
    assert full["audio"].shape == (2, n_audio), full["audio"].shape
    assert full["label"].shape == (2, n_labels), full["label"].shape
    # This model is not very lively with N(0,1) inputs: most kv channels are input-independent Fourier
    # features and padding (data: image 48 of 393, audio 4 of 393), so rows 0/1 differ by only ~0.035-0.065
    # (still ~500x the 1e-4 parity tolerance) and the image output std is ~0.19 < MIN_LOGITS_STD.
    # Hence add_case's spread check is off for these cases and weaker floors are asserted here instead.
    for k in ("image", "audio", "label"):
        assert_input_sensitive(full[k], f"multimodal_full {k}", min_diff=0.02)
    for k, floor in MULTIMODAL_MIN_STD.items():
        std = float(full[k].std())
        assert std >= floor, f"multimodal_full {k}: std {std:.4f} < {floor} (too flat)"
    # mask_probs label=1.0: the label input is replaced by mask.label, so it has no effect; the masking
    # (torch.bernoulli with p in {0, 1}) is deterministic.
    zero_label = run(full_sub, torch.zeros_like(label))
    for k in ("image", "audio", "label"):
        assert torch.equal(zero_label[k], full[k]), f"multimodal: label input changed {k}"

    inputs = {"image": image, "audio": audio, "label": label}
    fx.add_case(
        "multimodal_full",
        "multimodal",
        inputs,
        {k: full[k] for k in ("image", "audio", "label")},
        f"B=2 multimodal autoencoding; image (2,{T},3,{S},{S}) ~ N(0,1), audio (2,{n_audio},1) ~ N(0,1), label "
        f"(2,{n_labels}) one-hot (ignored: mask_probs label=1.0 replaces it by mask.label). HF called with "
        f"subsampled_output_points = image arange({n_image}), audio arange({n_patches}), label None (every "
        "output point). Encoder input: audio 4 patches (4 + 385 Fourier), image 4x4 space-to-depth patches "
        "of 2 frames = 32 tokens (48 + 195 Fourier over (2,4,4)), label 1 token (5), each padded to 393 "
        "and concatenated in sorted order audio, image, label. Decoder queries: audio Fourier (385), image "
        "Fourier over output grid (2,16,16) with max_resolution (2,4,4) (195), label trainable (8), padded "
        "to 387. Expected outputs are stored as expected.image (2,512,3), expected.audio (2,16), "
        "expected.label (2,5).",
        check_spread=False,  # see MULTIMODAL_MIN_STD
        output_prefix="expected.",
    )

    img_idx = torch.tensor([511, 0, 37, 300, 256, 5, 129], dtype=torch.int64)
    aud_idx = torch.tensor([3, 1], dtype=torch.int64)
    sub = run({"image": img_idx, "audio": aud_idx, "label": None})
    assert sub["image"].shape == (2, len(img_idx), 3), sub["image"].shape
    assert sub["audio"].shape == (2, len(aud_idx) * cfg["samples_per_patch"]), sub["audio"].shape
    assert sub["label"].shape == (2, n_labels), sub["label"].shape
    spp = cfg["samples_per_patch"]
    assert_close(sub["image"], full["image"][:, img_idx], 1e-5, "multimodal_subsampled image vs full")
    want_audio = full["audio"].reshape(2, n_patches, spp)[:, aud_idx].reshape(2, -1)
    assert_close(sub["audio"], want_audio, 1e-5, "multimodal_subsampled audio vs full")
    assert_close(sub["label"], full["label"], 1e-5, "multimodal_subsampled label vs full")
    print(
        "multimodal_subsampled vs full: max abs diff "
        + ", ".join(
            f"{k}={float((a - b).abs().max()):.2e}"
            for k, a, b in (
                ("image", sub["image"], full["image"][:, img_idx]),
                ("audio", sub["audio"], want_audio),
                ("label", sub["label"], full["label"]),
            )
        )
    )
    fx.add_case(
        "multimodal_subsampled",
        "multimodal",
        {
            **inputs,
            "output_positions_image": img_idx[None].expand(2, -1),
            "output_positions_audio": aud_idx[None].expand(2, -1),
        },
        {k: sub[k] for k in ("image", "audio", "label")},
        "Same image/audio/label as multimodal_full; output_positions_image (2,7) = flat indices into the "
        "(2,16,16) output grid (t*256 + y*16 + x) and output_positions_audio (2,2) = audio patch indices, "
        "unsorted, each row identical (HF takes one 1-D index list for the whole batch). HF called with "
        "those 1-D lists (label None). Expected image (2,7,3), audio (2,8) = the 4-sample patches 3 then 1, "
        "label (2,5); the generator asserts they equal the matching parts of multimodal_full within 1e-5.",
        check_spread=False,  # subsets of multimodal_full, whose stds are checked there
        output_prefix="expected.",
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
    make_flow_cases(fx)
    make_multimodal_cases(fx)
    fx.write_manifest()

    # Summary
    w0 = max(len(r[0]) for r in fx.summary)
    w1 = max(len(r[1]) for r in fx.summary)
    print(f"{'case':<{w0}}  {'tensors':<{w1}}  logits/outputs std")
    print("-" * (w0 + w1 + 14))
    for name, shapes, std in fx.summary:
        print(f"{name:<{w0}}  {shapes:<{w1}}  {std}")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"\n{len(fx.models)} models, {len(fx.cases)} cases, {total / 1e6:.2f} MB written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
