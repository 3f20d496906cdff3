"""The persistent index: Chroma holds chunks and our embeddings; files.json records which file versions are live.

The registry is the source of truth and is replaced atomically, so an interrupted ingest never leaves a
half-written file visible: chunks of versions it does not list are ignored by search and removed on the next ingest.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from sendbot.core.models import Chunk, Document, FileRecord

COLLECTION = "sendbot_chunks"
BATCH = 1000


def write_atomically(path: Path, text: str) -> None:
    """Replace a file in one step so readers see the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


class IndexDamaged(RuntimeError):
    """The data directory cannot be read as a sendbot index."""


class Store:
    """Chroma collection plus the registry of live files, under one data directory."""

    def __init__(self, data_dir: Path) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.data_dir = data_dir
        self.registry_path = data_dir / "files.json"
        data_dir.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
        # embedding_function=None: Chroma must never embed (its default downloads a model); we pass vectors.
        self.collection = client.get_or_create_collection(COLLECTION, embedding_function=None, metadata={"hnsw:space": "cosine"})
        self.files: dict[str, FileRecord] = self._read_registry()

    def _read_registry(self) -> dict[str, FileRecord]:
        if not self.registry_path.is_file():
            return {}
        try:
            raw = json.loads(self.registry_path.read_text(encoding="utf-8"))
            return {source: FileRecord(**record) for source, record in raw.items()}
        except (ValueError, TypeError, AttributeError) as error:
            raise IndexDamaged(
                f"{self.registry_path} is damaged ({error}). Delete the folder {self.data_dir} and run "
                "`sendbot ingest` to rebuild the index."
            ) from None

    def _save_registry(self) -> None:
        payload = {source: asdict(record) for source, record in sorted(self.files.items())}
        write_atomically(self.registry_path, json.dumps(payload, indent=1))

    @property
    def fingerprint(self) -> str:
        """Identifies the set of live file versions; derived indexes (BM25) store it to detect staleness."""
        return ",".join(f"{s}@{r.sha256[:12]}" for s, r in sorted(self.files.items()))

    def put_document(self, doc: Document, chunks: list[Chunk], embeddings: np.ndarray, pipeline: str = "") -> None:
        """Make this version of the document live with its chunks, replacing any older version whole."""
        for start in range(0, len(chunks), BATCH):
            batch = chunks[start : start + BATCH]
            self.collection.upsert(
                ids=[c.id for c in batch],
                embeddings=embeddings[start : start + BATCH],
                documents=[c.text for c in batch],
                metadatas=[{**c.metadata(), "date_ord": int(c.date.replace("-", "") or 0)} for c in batch],
            )
        self.files[doc.source] = FileRecord(
            source=doc.source, path=doc.path, sha256=doc.sha256, chunks=len(chunks), title=doc.title, date=doc.date,
            period=doc.period, publisher=doc.publisher, kind=doc.kind, paged=doc.paged, pipeline=pipeline,
        )
        self._save_registry()
        self.collection.delete(where={"$and": [{"source": doc.source}, {"sha256": {"$ne": doc.sha256}}]})

    def remove_document(self, source: str) -> None:
        """Take a document out of the index."""
        if self.files.pop(source, None) is not None:
            self._save_registry()
        self.collection.delete(where={"source": source})

    def collect_garbage(self) -> int:
        """Delete chunks left by an interrupted ingest (versions the registry does not list); returns how many."""
        stale = [cid for cid, meta in self._all_metadata() if self._live(meta) is False]
        for start in range(0, len(stale), BATCH):
            self.collection.delete(ids=stale[start : start + BATCH])
        return len(stale)

    def _all_metadata(self):
        got = self.collection.get(include=["metadatas"])
        return zip(got["ids"], got["metadatas"])

    def _live(self, meta: dict) -> bool:
        record = self.files.get(meta["source"])
        return record is not None and record.sha256 == meta["sha256"]

    def load_chunks(self) -> tuple[list[Chunk], np.ndarray]:
        """Every live chunk in document order, with its embedding (rows aligned with the list)."""
        got = self.collection.get(include=["documents", "metadatas", "embeddings"])
        rows = [
            (Chunk.from_metadata(cid, text, meta), vector)
            for cid, text, meta, vector in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])
            if self._live(meta)
        ]
        rows.sort(key=lambda row: (row[0].source, row[0].ordinal))
        chunks = [chunk for chunk, _ in rows]
        if not rows:  # an empty index: reshape(0, -1) cannot infer the width
            return [], np.zeros((0, 0), dtype=np.float32)
        vectors = np.asarray([vector for _, vector in rows], dtype=np.float32).reshape(len(rows), -1)
        return chunks, vectors

    def query(self, vector: np.ndarray, n: int, where: dict | None) -> list[tuple[str, float]]:
        """Nearest live chunks to a unit query vector, as (chunk id, cosine similarity)."""
        total = self.collection.count()
        if total == 0:
            return []
        result = self.collection.query(query_embeddings=vector[None, :], n_results=min(n, total), where=where,
                                       include=["distances", "metadatas"])
        return [
            (cid, 1.0 - distance)
            for cid, distance, meta in zip(result["ids"][0], result["distances"][0], result["metadatas"][0])
            if self._live(meta)
        ]
