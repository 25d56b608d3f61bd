#!/usr/bin/env python3
"""KServe's Python model server wrapping transformers' PerceiverForMaskedLM: what a user deploys instead of perceiverd.

A `kserve.Model` written the way KServe's custom-model guide does it (load with `from_pretrained`, `eval()`,
synchronous `predict` under `torch.inference_mode()`), served by `kserve.ModelServer` over the V2 (open
inference) REST protocol. tools/bench/bench_e2e.sh runs it against perceiverd with the same requests.

It takes the V2 JSON body perceiverd takes for a masked LM and answers with the same output tensor:
  inputs:  input_ids         INT64 or INT32 (B, L)
           attention_mask    INT64 or INT32 (B, L), optional
           output_positions  INT64 or INT32 (B, K), optional: decoder positions, 0 <= p < max_position_embeddings
  output:  logits            FP32 (B, L, vocab), or (B, K, vocab) with output_positions
transformers' decoder always computes all max_position_embeddings (2048) rows; like perceiverd's default, the
answer keeps the first L of them, or gathers the output_positions rows from the full decode (transformers
cannot decode a subset; perceiverd decodes only the rows asked for). perceiverd's `queries` input has no
transformers equivalent and is refused with 400, as is any other unknown input. The response's `id` echoes the
request's (a fresh one when it has none); `outputs` and `binary_data_output` select outputs and binary data
as KServe's InferResponse handles them. Unlike perceiverd, KServe parses the body as JSON only when it comes
with `Content-Type: application/json` (otherwise it expects binary tensor data and Inference-Header-Content-Length).

Usage (any kserve.ModelServer flag also applies, e.g. --workers, --enable_grpc false):
    .venv-kserve/bin/python tools/bench/kserve_mlm.py --model_dir DIR --model_name NAME --http_port PORT [--threads N]
"""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse

import kserve
import numpy as np
import torch
from kserve import InferOutput, InferRequest, InferResponse
from kserve.errors import InvalidInput
from kserve.utils.utils import generate_uuid
from transformers import PerceiverForMaskedLM

INTEGER_TYPES = ("INT64", "INT32")


class PerceiverMaskedLM(kserve.Model):
    def __init__(self, name: str, model_dir: str, threads: int):
        super().__init__(name)
        self.model_dir = model_dir
        self.threads = threads
        self.model = None

    def load(self) -> bool:
        torch.set_num_threads(self.threads)
        self.model = PerceiverForMaskedLM.from_pretrained(self.model_dir).eval()
        self.ready = True
        return self.ready

    def predict(self, payload: InferRequest, headers: dict[str, str] | None = None) -> InferResponse:
        tensors = {}
        for tensor in payload.inputs:
            if tensor.name not in ("input_ids", "attention_mask", "output_positions"):
                raise InvalidInput(f"input '{tensor.name}': this model takes input_ids, attention_mask, "
                                   "output_positions")
            if tensor.datatype not in INTEGER_TYPES:
                raise InvalidInput(f"input '{tensor.name}': datatype {tensor.datatype}, expected INT64 or INT32")
            tensors[tensor.name] = torch.from_numpy(tensor.as_numpy().astype(np.int64))
        if "input_ids" not in tensors:
            raise InvalidInput("input 'input_ids': required input is missing")
        input_ids = tensors["input_ids"]
        positions = tensors.get("output_positions")
        rows = self.model.config.max_position_embeddings   # the rows transformers' decoder computes
        if positions is not None and (positions.dim() != 2 or positions.shape[0] != input_ids.shape[0]
                                      or positions.numel() == 0
                                      or not 0 <= int(positions.min()) <= int(positions.max()) < rows):
            raise InvalidInput(f"input 'output_positions': expected (B, K) positions in 0..<{rows}")

        with torch.inference_mode():
            logits = self.model(input_ids=input_ids, attention_mask=tensors.get("attention_mask")).logits
        if positions is None:
            logits = logits[:, : input_ids.shape[1]]
        else:
            # Row b, k of the answer is row positions[b, k] of batch item b's full decode.
            logits = logits[torch.arange(logits.shape[0]).unsqueeze(1), positions]
        logits = logits.numpy()

        output = InferOutput(name="logits", shape=list(logits.shape), datatype="FP32", data=logits)
        return InferResponse(response_id=payload.id or generate_uuid(), model_name=self.name,
                             infer_outputs=[output], use_binary_outputs=payload.use_binary_outputs,
                             requested_outputs=payload.request_outputs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(parents=[kserve.model_server.parser])
    parser.add_argument("--model_dir", required=True, help="a PerceiverForMaskedLM save_pretrained directory")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch compute threads")
    args, _ = parser.parse_known_args()
    model = PerceiverMaskedLM(args.model_name, args.model_dir, args.threads)
    model.load()
    kserve.ModelServer().start([model])
