"""A sentence-transformers model run by ONNX Runtime with int8 weights: about twice as fast
as sentence-transformers in fp32 on a CPU, with vectors within a cosine of ~0.99 of its.

`export` turns the model folder (a BERT-like transformer, mean pooling, normalised, as
all-MiniLM-L6-v2 is) into an ONNX graph with torch's exporter and quantizes the weights of
its matrix multiplications to int8, one scale per output channel (one scale per tensor
loses too much: cosines fall to ~0.95); nothing else is quantized. It runs once per model
and machine, into a cache folder, or at build time for the bundle, which then needs neither
torch nor the exporter to embed. `OnnxEncoder` tokenizes with the model's own
tokenizer.json, runs the graph on batches of similar length, and mean-pools.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
RECIPE = 1
"""How `export` makes a graph: a change to it names its graphs anew (old ones are not used)."""


def graph_name(model_dir: Path) -> str:
    """The file name of the int8 graph of the model in `model_dir`."""
    return f"embedding-{fingerprint(model_dir)}-int8-r{RECIPE}.onnx"


def fingerprint(model_dir: Path) -> str:
    """Which weights a model folder holds (its exported graph is named after them)."""
    digest = hashlib.sha256()
    for name in ("config.json", "model.safetensors", "pytorch_model.bin"):
        path = model_dir / name
        if path.exists():
            digest.update(name.encode())
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def export(model_dir: Path, target: Path) -> Path:
    """Write the int8 ONNX graph of the model in `model_dir` to `target` (atomically: a
    half-written file is never found). Needs torch, transformers and onnx."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # no "Loading weights" bar

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    log.info("converting the embedding model in %s to int8 (once per machine)", model_dir)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    example = torch.ones((2, 8), dtype=torch.int64)
    target.parent.mkdir(parents=True, exist_ok=True)
    root, quiet = logging.getLogger(), logging.NullHandler()
    root.addHandler(quiet)  # the quantizer's logging.warning() would configure the root logger
    try:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as work, \
                warnings.catch_warnings():  # the exporter's notes on the model's code
            warnings.simplefilter("ignore")
            fp32, int8 = Path(work) / "fp32.onnx", Path(work) / "int8.onnx"
            axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
            with torch.no_grad():
                torch.onnx.export(LastHiddenState(model), (example, example, example * 0),
                                  str(fp32), input_names=list(INPUTS),
                                  output_names=["last_hidden_state"], dynamic_axes=axes,
                                  opset_version=17, dynamo=False)
            quantize_dynamic(str(fp32), str(int8), op_types_to_quantize=["MatMul"],
                             per_channel=True, weight_type=QuantType.QInt8)
            os.replace(int8, target)
    finally:
        root.removeHandler(quiet)
    return target


class OnnxEncoder:
    """Embeds texts with an exported graph: L2-normalised mean-pooled float32 vectors.

    Batches run on `threads` threads (all cores by default); a text alone (a query) runs
    on one, in a session of its own: splitting so small a product across threads saves
    nothing when the machine is quiet (2.4-2.8 ms either way on 2 cores) and costs much
    when it is busy, as a server with many clients or a desktop importing is (1.9 ms on
    one thread against 5.5 ms on two; four at once got 1.4x more done). The second
    session costs about 55 MB (bench/idle.py)."""

    def __init__(self, graph: Path, model_dir: Path, threads: int | None = None):
        from tokenizers import Tokenizer

        self._session = _session(graph, threads or os.cpu_count() or 1)
        self._alone = _session(graph, 1)
        config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(int(config.get("max_seq_length", 256)))
        padding = self._tokenizer.padding or {}  # to the longest text of each batch
        self._tokenizer.enable_padding(pad_id=padding.get("pad_id", 0),
                                       pad_token=padding.get("pad_token", "[PAD]"))
        self.dimension = int(self._session.get_outputs()[0].shape[-1] or json.loads(
            (model_dir / "config.json").read_text())["hidden_size"])

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # little padding
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in batch])
            feed = {name: np.array([getattr(e, attr) for e in encodings], dtype=np.int64)
                    for name, attr in zip(INPUTS, ("ids", "attention_mask", "type_ids"))}
            session = self._alone if len(batch) == 1 else self._session
            hidden = session.run(None, feed)[0]
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            vectors[batch] = pooled
        return vectors


def _session(graph: Path, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
