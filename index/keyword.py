"""BM25 keyword index (bm25s), persisted beside Chroma and rebuilt whenever the set of live files changes."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from index.store import Store
from sendbot.core.text import STOPWORDS


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]):
    """Lower-cased, stop-word-free, stemmed tokens (the same for documents and queries)."""
    import bm25s

    return bm25s.tokenize(texts, stopwords=sorted(STOPWORDS), stemmer=_stemmer(), show_progress=False)


STAGING_PREFIX = ".bm25-"


def collect_leftovers(folder: Path, min_age_seconds: float = 600) -> list[Path]:
    """Remove what a crash mid-save left beside the index folder: the renamed old index, and staging copies.

    A staging copy younger than `min_age_seconds` may belong to another process saving right now, so it is left
    for a later run (`sendbot doctor` passes 0). Returns the paths removed.
    """
    now = time.time()
    leftovers = [p for p in folder.parent.glob(f"{STAGING_PREFIX}*")
                 if p.is_dir() and now - p.stat().st_mtime >= min_age_seconds]
    old = folder.with_name(folder.name + ".old")
    leftovers += [old] if old.exists() else []
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    return leftovers


class KeywordIndex:
    """BM25 scores over the live chunks, addressed by chunk id."""

    def __init__(self, model, ids: list[str], fingerprint: str) -> None:
        self.model = model
        self.ids = ids
        self.fingerprint = fingerprint

    @classmethod
    def build(cls, ids: list[str], texts: list[str], fingerprint: str) -> "KeywordIndex":
        """Index the given chunk texts."""
        import bm25s

        model = bm25s.BM25()
        if texts:
            model.index(tokenize(texts), show_progress=False)
        return cls(model, ids, fingerprint)

    def save(self, folder: Path) -> None:
        """Write the index next to Chroma, replacing the previous one in a single rename."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        collect_leftovers(folder)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=STAGING_PREFIX))
        if self.ids:
            self.model.save(str(staging / "model"))
        (staging / "ids.json").write_text(json.dumps({"fingerprint": self.fingerprint, "ids": self.ids}))
        old = folder.with_name(folder.name + ".old")
        if folder.exists():
            folder.rename(old)
        staging.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex | None":
        """The saved index, or None when there is none or it cannot be read."""
        import bm25s

        meta_path = folder / "ids.json"
        if not meta_path.is_file():
            return None
        try:
            meta = json.loads(meta_path.read_text())
            model = bm25s.BM25.load(str(folder / "model")) if meta["ids"] else bm25s.BM25()
            return cls(model, meta["ids"], meta["fingerprint"])
        except (ValueError, KeyError, TypeError, OSError):  # damaged: it is derived data, so it is rebuilt
            return None

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every indexed chunk for the query (aligned with `ids`)."""
        if not self.ids:
            return np.zeros(0, dtype=np.float32)
        tokens = tokenize([query])
        vocab = {token_id: word for word, token_id in tokens.vocab.items()}
        words = [vocab[t] for t in tokens.ids[0]]
        if not words:  # only stop words or symbols: nothing to score (bm25s fails on an empty query)
            return np.zeros(len(self.ids), dtype=np.float32)
        return self.model.get_scores(words)


def refresh_keyword_index(store: Store, folder: Path, force: bool = False) -> KeywordIndex:
    """The BM25 index for the store's live chunks, saved in `folder`; rebuilt when forced, missing or stale."""
    index = None if force else KeywordIndex.load(folder)
    if index is not None and index.fingerprint == store.fingerprint:
        return index
    chunks, _ = store.load_chunks()
    index = KeywordIndex.build([c.id for c in chunks], [c.search_text for c in chunks], store.fingerprint)
    index.save(folder)
    return index
