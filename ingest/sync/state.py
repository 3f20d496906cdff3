"""What a sync finds and what it remembers between runs.

`Candidate` is one document a source turned up on this run (fetched, unchanged, gone, blocked...). `SyncState` is
what the last run kept: each document's file, hash and HTTP validators, how many syncs in a row it was gone, and which
meetings were read when. It lives in one JSON file beside the synced folder, replaced atomically, and is written only
after the files it describes are ingested, so an interrupted sync is simply done again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from index.store import write_atomically

Found = Literal["fetched", "not_modified", "kept", "gone", "blocked", "failed", "skipped"]
STATE_VERSION = 1
GONE_LIMIT = 2  # a document gone (404/410 or delisted) on this many syncs in a row leaves the index


@dataclass(frozen=True)
class Meta:
    """What the manifest says about a synced file, so citations show it (see ingest.loaders.ORIGIN_KEYS)."""

    title: str
    date: str = ""
    publisher: str = ""
    kind: str = ""
    url: str = ""  # the address a citation links to: the document, or the page with the item's anchor
    committee: str = ""
    meeting: str = ""  # the meeting's date, YYYY-MM-DD
    item: str = ""

    def manifest(self) -> dict:
        """The manifest.json entry (empty values left out, a missing date kept as null so none is guessed)."""
        entry = {k: v for k, v in asdict(self).items() if v}
        entry["date"] = self.date or None
        return entry


@dataclass(frozen=True)
class Origin:
    """Everything known about where a synced document came from (kept in the sync state for people and the app)."""

    source: str  # the sources.toml table's name
    council: str = ""
    committee: str = ""
    committee_id: str = ""
    meeting_id: str = ""
    meeting_date: str = ""
    item: str = ""
    category: str = ""  # agenda, report, minutes, decision, page, document
    page_url: str = ""  # the public page (ieListDocuments.aspx with #AI anchor, or the Local Offer page)
    document_url: str = ""  # the address it was fetched from
    final_url: str = ""  # after redirects
    publication_date: str = ""
    fetched_at: str = ""
    sha256: str = ""
    content_type: str = ""


@dataclass(frozen=True)
class Candidate:
    """One document a source turned up on this run."""

    key: str  # the address it is known by between runs (the URL asked for; minutes text: page URL with #AI anchor)
    source: str  # the sources.toml table's name
    found: Found
    reason: str = ""  # why it is gone, blocked, failed or skipped
    content: bytes = b""  # the file to write, when fetched
    suffix: str = ""  # its file type: .pdf .docx .md .txt
    meta: Meta | None = None
    origin: Origin | None = None
    etag: str = ""
    last_modified: str = ""
    links: tuple[str, ...] = ()  # a page's links, remembered so a 304 can still be crawled through


@dataclass(frozen=True)
class Known:
    """One document as the last sync left it."""

    key: str
    source: str
    file: str  # path under the synced folder, e.g. "papers/m1234-agenda-1a2b3c4d.pdf" (its name in the index)
    sha256: str
    etag: str = ""
    last_modified: str = ""
    gone: int = 0  # syncs in a row it was gone
    links: tuple[str, ...] = ()
    origin: dict = field(default_factory=dict)
    checked_at: str = ""  # when the last sync found it unchanged or fetched it

    @property
    def url(self) -> str:
        """The council's address of the document (after redirects), what listings link to as its origin."""
        return self.origin.get("final_url") or self.key


@dataclass(frozen=True)
class MeetingSeen:
    """A ModernGov meeting as last read: old meetings already read with their minutes are not asked for again."""

    date: str
    minutes_published: bool
    checked_at: str


@dataclass
class SyncState:
    """The documents and meetings the last sync saw, by key."""

    documents: dict[str, Known] = field(default_factory=dict)
    meetings: dict[str, MeetingSeen] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "SyncState":
        """The saved state, or an empty one; ValueError naming the file if it is damaged."""
        if not path.is_file():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            documents = {k: Known(**{**v, "links": tuple(v.get("links", ()))}) for k, v in raw["documents"].items()}
            meetings = {k: MeetingSeen(**v) for k, v in raw["meetings"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{path} is damaged ({error}): delete it and the next sync fetches everything again "
                             "(unchanged documents are still not re-indexed)") from None
        return cls(documents, meetings)

    def save(self, path: Path) -> None:
        """Write the state in one step."""
        payload = {"version": STATE_VERSION,
                   "documents": {k: asdict(v) for k, v in sorted(self.documents.items())},
                   "meetings": {k: asdict(v) for k, v in sorted(self.meetings.items())}}
        write_atomically(path, json.dumps(payload, indent=1, ensure_ascii=False))

    def of_source(self, source: str) -> list[Known]:
        """The documents a source had last time."""
        return [k for k in self.documents.values() if k.source == source]

    def struck(self, key: str) -> Known:
        """The document with one more gone strike."""
        known = self.documents[key]
        return replace(known, gone=known.gone + 1)


def synced_documents(path: Path) -> dict[str, Known]:
    """Each synced document by its name in the index (what listings show as its origin and last sync); {} when
    nothing has been synced or the state cannot be read."""
    try:
        state = SyncState.load(path)
    except ValueError:
        return {}
    return {known.file: known for known in state.documents.values()}


def meeting_key(source: str, meeting_id: str) -> str:
    """A meeting's key in the state: its source's name and its ModernGov id."""
    return f"{source}|{meeting_id}"
