"""The register: every commitment in the live documents with its follow-ups, kept in `commitments.json` beside the index.

It is rebuilt when the set of live file versions changes (the store's fingerprint), written atomically so a reader
sees the old register or the new one, never half of it. A document whose version is unchanged keeps its extracted
statements; only new or changed files are read again: from the page texts ingest kept (ingest/pages.py), else from
the path the index recorded, and only if the file on disk is still the version the index holds, so every quote is a
slice of the indexed text.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterable

from commitments.due import document_end, document_start
from commitments.extract import extract_commitments
from commitments.follow import Embed, link_follow_ups, report_passages, status
from commitments.models import Commitment, FollowUp
from index.store import IndexDamaged, Store, write_atomically
from ingest.loaders import LoadError, load_document
from ingest.pages import cached_document, prune_pages
from sendbot.core.config import Settings
from sendbot.core.dates import parse_day
from sendbot.core.models import Chunk, FileRecord

REGISTER_FILE = "commitments.json"
VERSION = 2  # 2: report sentences no longer include status words in compounds (issue 11 review)


@dataclass(frozen=True)
class Register:
    """The commitments of one state of the index (its fingerprint) and what each document contributed."""

    fingerprint: str
    commitments: tuple[Commitment, ...]
    documents: dict = field(default_factory=dict)  # source -> {"sha256", "commitments", "reports"} (unlinked)
    notes: tuple[str, ...] = ()  # documents that could not be read again, and why


def register_path(data_dir: Path) -> Path:
    """Where the register of the index in `data_dir` is kept."""
    return data_dir / REGISTER_FILE


def read_register(path: Path) -> Register | None:
    """The saved register, or None when there is none; IndexDamaged when the file cannot be read."""
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("version") != VERSION:
            return None
        return Register(raw["fingerprint"], tuple(Commitment.from_json(c) for c in raw["commitments"]),
                        raw.get("documents", {}), tuple(raw.get("notes", ())))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise IndexDamaged(f"{path} is damaged ({error}). Delete it and run `sendbot commitments` to rebuild it.") from None


def refresh_register(settings: Settings, store: Store, chunks: list[Chunk], embed: Embed, force: bool = False) -> Register:
    """The register for the store's live files: the saved one when it is current, else rebuilt and saved."""
    path = register_path(settings.data_dir)
    saved = None if force else _read_quietly(path)
    if saved is not None and saved.fingerprint == store.fingerprint:
        return saved
    documents, notes = _documents(settings, store.files, chunks, saved.documents if saved else {})
    found = [Commitment.from_json(c) for entry in documents.values() for c in entry["commitments"]]
    reports = [FollowUp(**r) for entry in documents.values() for r in entry["reports"]]
    prune_pages(settings.data_dir, {source: record.sha256 for source, record in store.files.items()})
    linked = link_follow_ups(found, reports, [c.text for c in chunks], embed)
    register = Register(store.fingerprint, tuple(linked), documents, tuple(notes))
    payload = {"version": VERSION, "fingerprint": register.fingerprint, "notes": list(register.notes),
               "commitments": [c.to_json() for c in register.commitments], "documents": documents}
    write_atomically(path, json.dumps(payload, ensure_ascii=False))
    return register


def _read_quietly(path: Path) -> Register | None:
    try:
        return read_register(path)
    except IndexDamaged:
        return None  # rebuilt below and replaced whole


def _documents(settings: Settings, files: dict[str, FileRecord], chunks: list[Chunk], cached: dict) -> tuple[dict, list[str]]:
    """Each live document's statements: reused when its version is unchanged, else read from its file again."""
    documents, notes = {}, []
    for source, record in sorted(files.items()):
        entry = cached.get(source)
        if entry and entry.get("sha256") == record.sha256:
            documents[source] = entry
            continue
        try:
            doc = cached_document(settings.data_dir, source, record.sha256) or load_document(
                Path(record.path), settings.max_file_mb, source=source, max_word_chars=settings.max_word_chars)
        except (LoadError, OSError) as error:
            notes.append(f"{source}: not in the register, its file could not be read again ({error})")
            continue
        if doc.sha256 != record.sha256:
            notes.append(f"{source}: not in the register, its file changed since it was ingested (run `sendbot ingest`)")
            continue
        mine = [c for c in chunks if c.source == source]
        documents[source] = {"sha256": record.sha256,
                             "commitments": [c.to_json() for c in extract_commitments(doc, mine)],
                             "reports": [asdict(r) for r in report_passages(doc, mine)]}
    return documents, notes


def update_register(settings: Settings, force: bool = False) -> Register:
    """Bring the register of the index in `settings.data_dir` up to date (after an ingest from the command line);
    the passages and the embedder are only loaded when it must be rebuilt."""
    from index.embedder import embedder_for
    from index.store import open_store

    store = open_store(settings)
    saved = None if force else _read_quietly(register_path(settings.data_dir))
    if saved is not None and saved.fingerprint == store.fingerprint:
        return saved
    chunks, _ = store.load_chunks()
    return refresh_register(settings, store, chunks, embedder_for(settings).encode, force=True)


@dataclass(frozen=True)
class RegisterFilter:
    """What `sendbot commitments` and the app narrow the register to (empty fields do not filter)."""

    sources: tuple[str, ...] = ()
    who: str = ""
    date_from: date | None = None
    date_to: date | None = None
    due_before: date | None = None
    statuses: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    @classmethod
    def parse(cls, sources: Iterable[str] = (), who: str = "", date_from: str | None = None, date_to: str | None = None,
              due_before: str | None = None, statuses: Iterable[str] = (), kinds: Iterable[str] = ()) -> "RegisterFilter":
        """From what a person typed; ValueError with a plain message for an unreadable or reversed date."""
        start, end, due = parse_day(date_from), parse_day(date_to, end=True), parse_day(due_before)
        if start and end and start > end:
            raise ValueError("The 'from' date is after the 'to' date. Please swap them round.")
        return cls(tuple(sources), who.strip(), start, end, due, tuple(statuses), tuple(kinds))

    def admits(self, commitment: Commitment, state: str) -> bool:
        """Whether a commitment (whose status is `state`) passes every filter that is set."""
        begins, ends = document_start(commitment.date, commitment.period), document_end(commitment.date, commitment.period)
        checks = (
            not self.sources or commitment.source in self.sources,
            not self.who or re.search(re.escape(self.who), commitment.who, re.I) is not None,
            not self.date_from or (ends is not None and ends >= self.date_from),
            not self.date_to or (begins is not None and begins <= self.date_to),
            not self.due_before or (bool(commitment.due) and date.fromisoformat(commitment.due) < self.due_before),
            not self.statuses or state in self.statuses,
            not self.kinds or commitment.kind in self.kinds,
        )
        return all(checks)


def select(register: Register, chosen: RegisterFilter, today: date) -> list[tuple[Commitment, str]]:
    """The commitments that pass the filter, each with its status as of `today`, in document and page order."""
    rows = [(c, status(c, today)) for c in register.commitments]
    return [(c, state) for c, state in rows if chosen.admits(c, state)]


def row_json(commitment: Commitment, state: str) -> dict:
    """One register row as the JSON contract of `sendbot commitments --json`."""
    data = commitment.to_json()
    data["status"] = state
    data["due"] = commitment.due or None
    data["follow_ups"] = [{"quote": f.quote, "source": f.source, "title": f.title, "date": f.date,
                           "period": f.period, "page": f.page, "section": f.section, "state": f.state}
                          for f in commitment.follow_ups]
    return data
