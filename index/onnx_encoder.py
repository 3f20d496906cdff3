"""The optional int8 ONNX encoder (SENDBOT_ENCODER=onnx-int8): MiniLM exported offline from the bundled weights.

The bundled all-MiniLM-L6-v2 (with its mean pooling and normalisation) is exported to ONNX with torch's own
exporter, then its weight matrices are quantised to int8 with onnxruntime's dynamic quantisation, per channel (the
settings of optimum's `avx512_vnni` configuration; without VNNI, the `avx2` one's reduced range). The result is
kept in a cache folder in the data directory, named by the weights' sha256, the quantisation and an export
version, written to a temporary folder and renamed into place whole, so a later start reuses it and an interrupted
export never leaves a half-written model. Nothing is downloaded and nothing is written into site-packages.

Why not sentence-transformers' own ONNX backend: it needs optimum-onnx, whose releases all require
transformers < 4.58, while sentence-transformers 5+ requires transformers 5; the two cannot be installed together.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from index.embedder import ModelError
from sendbot.core.config import MODEL_SHA256

EXPORT_VERSION = 1  # bump when the export or quantisation changes, so caches made the old way are not reused
OPSET = 17
INSTALL_HINT = "pip install -e '.[onnx]' torch==2.13.0"


class OnnxUnavailable(ModelError):
    """The packages the ONNX encoder needs are not installed, or the export failed."""


def _require() -> None:
    """Import onnx and onnxruntime's quantiser, or say exactly what to install."""
    try:
        import onnx  # noqa: F401  (onnxruntime's quantiser reads and writes models with it)
        import onnxruntime  # noqa: F401
        from onnxruntime.quantization import quantize_dynamic  # noqa: F401
    except ImportError as error:
        raise OnnxUnavailable(
            f"SENDBOT_ENCODER=onnx-int8 needs the packages onnx and onnxruntime ({error.name or error} is missing): "
            f"run `{INSTALL_HINT}`, or set SENDBOT_ENCODER=torch (drop --encoder) to use the default encoder"
        ) from None


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The processor's feature flags (empty where /proc/cpuinfo cannot be read)."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("flags"):
                return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def quantisation_target(flags: frozenset[str]) -> str:
    """Which of optimum's dynamic int8 configurations suits this processor: `avx512_vnni` where its int8 dot
    products exist, else `avx2` (weights kept to 7 bits so the 16-bit sums of AVX2 cannot saturate)."""
    return "avx512_vnni" if "avx512_vnni" in flags else "avx2"


def cache_key(target: str) -> str:
    """The cache folder's name: which weights, which quantisation, which export code made it."""
    return f"minilm-{MODEL_SHA256[:16]}-int8-{target}-v{EXPORT_VERSION}"


def int8_model(cache_root: Path, model_folder: Path, target: str | None = None) -> Path:
    """The quantised model file under `cache_root`, exported from `model_folder` first if it is not there yet."""
    _require()
    target = target or quantisation_target(cpu_flags())
    final = cache_root / cache_key(target)
    model = final / "model.onnx"
    if model.is_file():
        return model
    cache_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=cache_root, prefix=f".{final.name}."))
    try:
        _export(model_folder, work, target)
        try:
            os.rename(work, final)
        except OSError:
            if not model.is_file():  # not another process finishing the same export first
                raise
    except Exception as error:
        raise OnnxUnavailable(f"could not export the int8 ONNX encoder into {final} ({type(error).__name__}: {error}); "
                              "set SENDBOT_ENCODER=torch to use the default encoder") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return model


def _export(model_folder: Path, work: Path, target: str) -> None:
    """Write `work/model.onnx` (int8) and `work/export.json` (how it was made) from the torch model."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # no "Loading weights" bar in the middle of a command's output
    model = SentenceTransformer(str(model_folder), device="cpu", local_files_only=True)
    pooled = Pooled(model[0].auto_model).eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    full = work / "fp32.onnx"
    # The tracer's and quantiser's advice (shape checks it cannot prove, "pre-process first") is noise here: the
    # export is checked against the torch model by tests/test_onnx_encoder.py.
    with torch.no_grad(), warnings.catch_warnings(), _quiet_logging():
        warnings.simplefilter("ignore")
        torch.onnx.export(pooled, sample, str(full), input_names=names, output_names=["embedding"],
                          dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "embedding": {0: "batch"}},
                          opset_version=OPSET, dynamo=False)
        quantize_dynamic(str(full), str(work / "model.onnx"), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=target != "avx512_vnni", op_types_to_quantize=["MatMul"])
    full.unlink()
    (work / "export.json").write_text(json.dumps({
        "source": str(model_folder), "sha256": MODEL_SHA256, "target": target, "export_version": EXPORT_VERSION,
        "opset": OPSET, "torch": torch.__version__,
    }, indent=1), encoding="utf-8")


@contextlib.contextmanager
def _quiet_logging():
    """Log records below ERROR dropped for the duration. onnxruntime's quantiser warns through `logging.warning`,
    which also gives the root logger a handler if it has none; that is taken away again, or every library's debug
    records (bm25s sets its own logger to DEBUG) would be printed from then on."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)


class Pooled(torch.nn.Module):
    """MiniLM plus sentence-transformers' mean pooling and normalisation, exported as one graph."""

    def __init__(self, bert) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask, token_type_ids):
        """Unit-length mean of the token vectors that are not padding."""
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean, p=2, dim=1)


class OnnxEncoder:
    """Runs the int8 model with onnxruntime: texts tokenised as sentence-transformers does (MiniLM's own
    tokenizer, cut at `max_tokens`), batched longest first so each batch pads little."""

    def __init__(self, model: Path, tokenizer_file: Path, max_tokens: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()  # the same cores torch would use (the app sets 1)
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding()
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text, in the order given."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(text) for text in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            encoded = self.tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            vectors[rows] = self.session.run(None, feed)[0]
        return vectors
