"""BM25 keyword index (bm25s), persisted beside Chroma and rebuilt whenever the set of live files changes."""

from __future__ import annotations

import json
import shutil
import tempfile
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
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".bm25-"))
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
        """The saved index, or None when there is none."""
        import bm25s

        meta_path = folder / "ids.json"
        if not meta_path.is_file():
            return None
        meta = json.loads(meta_path.read_text())
        model = bm25s.BM25.load(str(folder / "model")) if meta["ids"] else bm25s.BM25()
        return cls(model, meta["ids"], meta["fingerprint"])

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every indexed chunk for the query (aligned with `ids`)."""
        if not self.ids:
            return np.zeros(0, dtype=np.float32)
        tokens = tokenize([query])
        vocab = {token_id: word for word, token_id in tokens.vocab.items()}
        words = [vocab[t] for t in tokens.ids[0]]
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
