"""The page texts of each ingested document, kept beside the index (`pages/` in the data directory).

Later stages that need a document's exact text (the commitments register quotes slices of its pages) read it from
here instead of parsing the file again: parsing a long PDF is the costly part of reading it. An entry is keyed by
the document's name and content hash, so it is the text of exactly the version the index holds; it is a cache, and
a reader that finds none (an index built before it existed, a disk that was full) reads the file as before.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from index.store import write_atomically
from sendbot.core.models import Document, Page

PAGES_DIR = "pages"


def _entry_path(data_dir: Path, source: str, sha256: str) -> Path:
    key = hashlib.sha256(f"{source}\0{sha256}".encode("utf-8")).hexdigest()
    return data_dir / PAGES_DIR / f"{key}.json"


def save_pages(data_dir: Path, doc: Document) -> bool:
    """Keep a document's pages and metadata (written whole or not at all); False when the disk refused, which
    costs only a re-read of the file later."""
    path = _entry_path(data_dir, doc.source, doc.sha256)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(asdict(doc), ensure_ascii=False))
    except OSError:
        return False
    return True


def cached_document(data_dir: Path, source: str, sha256: str) -> Document | None:
    """The document as ingest loaded it, when its pages were kept for this version; else None."""
    path = _entry_path(data_dir, source, sha256)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        doc = Document(**{**raw, "pages": tuple(Page(**p) for p in raw["pages"]), "notes": tuple(raw.get("notes", ()))})
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return doc if doc.source == source and doc.sha256 == sha256 else None


def prune_pages(data_dir: Path, live: dict[str, str]) -> int:
    """Delete the kept pages of every version that is not live (`live`: source -> sha256); how many went."""
    keep = {_entry_path(data_dir, source, sha).name for source, sha in live.items()}
    gone = 0
    for path in (data_dir / PAGES_DIR).glob("*.json"):
        if path.name not in keep:
            path.unlink(missing_ok=True)
            gone += 1
    return gone
