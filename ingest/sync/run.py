"""One sync: fetch every source, decide what is new, changed, unchanged or gone, write the files and ingest them.

Files go under `data/synced/<source>/` with a manifest.json per folder carrying each file's title, date, kind and
origin (URL, committee, meeting, item), and are ingested through the ordinary pipeline, so unchanged files are skipped
by content hash and changed ones replaced whole. A document gone on two syncs in a row is removed. The state that
remembers all this is saved last, so an interrupted sync is simply run again.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Callable, Iterator, Literal

from index.store import write_atomically
from ingest.pipeline import ingest, remove_documents
from ingest.sync import local_offer, moderngov
from ingest.sync.fetch import Fetcher, utc_now
from ingest.sync.sources import LocalOfferSource, ModernGovSource, SyncConfig
from ingest.sync.state import GONE_LIMIT, Candidate, Known, MeetingSeen, SyncState
from sendbot.core.config import Settings
from sendbot.core.models import IngestReport

Status = Literal["new", "changed", "unchanged", "removed", "missing", "blocked", "failed", "skipped"]
STATUSES: tuple[Status, ...] = ("new", "changed", "unchanged", "removed", "missing", "blocked", "failed", "skipped")


@dataclass(frozen=True)
class SyncEntry:
    """What the sync did (or, with --dry-run, would do) with one document."""

    url: str
    source: str
    status: Status
    file: str = ""  # its name in the index (path under the synced folder)
    title: str = ""
    reason: str = ""


@dataclass
class SyncReport:
    """The outcome of one sync, document by document."""

    entries: list[SyncEntry] = field(default_factory=list)
    requests: int = 0
    fetched: int = 0  # documents whose content came back (200), changed or not
    dry_run: bool = False
    ingest: IngestReport | None = None
    seconds: float = 0.0
    unreachable: list[str] = field(default_factory=list)  # sources of which nothing could be fetched

    def count(self, status: Status) -> int:
        """How many documents ended with this status."""
        return sum(1 for e in self.entries if e.status == status)

    @property
    def failed(self) -> bool:
        """True when a document or a whole source could not be synced, or a fetched file could not be indexed."""
        return bool(self.count("failed") or self.unreachable or (self.ingest and self.ingest.failed))

    def to_json(self) -> dict:
        """The summary counts and every entry, as plain JSON values."""
        return {"dry_run": self.dry_run, "requests": self.requests, "fetched": self.fetched,
                **{status: self.count(status) for status in STATUSES},
                "unreachable": self.unreachable, "entries": [asdict(e) for e in self.entries],
                "ingest": self.ingest.to_json() if self.ingest else None, "seconds": round(self.seconds, 3)}


def run_sync(config: SyncConfig, settings: Settings, names: tuple[str, ...] = (), dry_run: bool = False,
             progress: Callable[[str], None] | None = None, show_bar: bool = False,
             today: date | None = None) -> SyncReport:
    """Sync the sources named (all if none): fetch, compare with the last sync, write and ingest what changed."""
    started = time.perf_counter()
    state = SyncState.load(settings.sync_state)
    fetcher = Fetcher(config, int(settings.max_file_mb * 1e6))
    seen: dict[str, MeetingSeen] = {}
    try:
        candidates = _gather(config, names, fetcher, state, seen, today or date.today(), show_bar)
    finally:
        fetcher.close()
    plan = [(c, _classify(c, state, settings)) for c in _first_of_each(candidates)]
    report = SyncReport([entry for _, entry in plan], fetcher.requests, sum(c.found == "fetched" for c, _ in plan), dry_run,
                        unreachable=_unreachable(config, names, candidates))
    for entry in report.entries:
        if progress and entry.status != "unchanged":
            progress(describe(entry))
    if not dry_run:
        report.ingest = _apply(plan, state, seen, settings, progress)
    report.seconds = time.perf_counter() - started
    return report


def _unreachable(config: SyncConfig, names: tuple[str, ...], candidates: list[Candidate]) -> list[str]:
    """Sources that gave nothing but refusals and failures (a site that answers 403 to everything, say)."""
    bad = ("blocked", "failed")
    return [name for name in config.names if not names or name in names
            if not any(c.source == name and c.found not in bad for c in candidates)
            and any(c.source == name for c in candidates)]


def describe(entry: SyncEntry) -> str:
    """One line for a person: the status, the document and, for problems, why."""
    why = f": {entry.reason}" if entry.reason else ""
    return f"{entry.status:>9} {entry.title or entry.url}{' (' + entry.url + ')' if entry.title else ''}{why}"


def _gather(config: SyncConfig, names: tuple[str, ...], fetcher: Fetcher, state: SyncState,
            seen: dict[str, MeetingSeen], today: date, show_bar: bool) -> list[Candidate]:
    """Every candidate from every chosen source; a source that fails becomes one failed candidate."""
    from tqdm import tqdm

    candidates: list[Candidate] = []
    sources = [s for s in (*config.moderngov, *config.local_offer) if not names or s.name in names]
    with tqdm(unit="doc", desc="Syncing", disable=not show_bar, leave=False) as bar:
        for source in sources:
            bar.set_postfix_str(source.name[-30:])
            try:
                for candidate in _collect(source, fetcher, state, seen, today):
                    candidates.append(candidate)
                    bar.update()
            except Exception as error:  # one source failing never stops the others
                where = getattr(source, "base_url", "") or source.start_urls[0]
                candidates.append(Candidate(where, source.name, "failed", reason=f"{type(error).__name__}: {error}"))
    return candidates


def _collect(source: ModernGovSource | LocalOfferSource, fetcher: Fetcher, state: SyncState,
             seen: dict[str, MeetingSeen], today: date) -> Iterator[Candidate]:
    if isinstance(source, ModernGovSource):
        return moderngov.collect(source, fetcher, state, today, seen)
    return local_offer.crawl(source, fetcher, state)


def _first_of_each(candidates: list[Candidate]) -> list[Candidate]:
    """One candidate per key (a paper linked from two items is one document), the most informative kept."""
    rank = {"fetched": 0, "not_modified": 1, "kept": 2, "gone": 3, "blocked": 4, "failed": 5, "skipped": 6}
    best: dict[str, Candidate] = {}
    for candidate in candidates:
        held = best.get(candidate.key)
        if held is None or rank[candidate.found] < rank[held.found]:
            best[candidate.key] = candidate
    return list(best.values())


def _classify(candidate: Candidate, state: SyncState, settings: Settings) -> SyncEntry:
    known = state.documents.get(candidate.key)
    title = candidate.meta.title if candidate.meta else (known.origin.get("title", "") if known else "")
    entry = SyncEntry(candidate.key, candidate.source, "unchanged", known.file if known else "", title, candidate.reason)
    if candidate.found == "fetched":
        sha = hashlib.sha256(candidate.content).hexdigest()
        if known is None:
            return replace(entry, status="new", file=file_name(candidate))
        same = known.sha256 == sha and (settings.synced_dir / known.file).is_file()
        return entry if same else replace(entry, status="changed", file=file_name(candidate))
    if candidate.found in ("not_modified", "kept"):
        if known and not (settings.synced_dir / known.file).is_file():
            return replace(entry, status="failed", reason="its synced file was deleted; it is fetched again next time")
        return entry if known else replace(entry, status="skipped", reason="nothing indexed for it yet")
    if candidate.found == "gone":
        if known is None:
            return replace(entry, status="skipped", reason=f"{candidate.reason} (a broken link)")
        removing = state.struck(candidate.key).gone >= GONE_LIMIT
        return replace(entry, status="removed" if removing else "missing",
                       reason=f"{candidate.reason}; " + ("gone twice in a row" if removing else "removed if still gone next sync"))
    return replace(entry, status=candidate.found)


def _slug(text: str, limit: int = 48) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].rstrip("-") or "document"


def file_name(candidate: Candidate) -> str:
    """Where a fetched document is kept under the synced folder: its source's folder, a readable name and a short hash
    of its address (so two papers with one title stay two files)."""
    stem = _slug(candidate.meta.title if candidate.meta else candidate.key)
    digest = hashlib.sha1(candidate.key.encode("utf-8")).hexdigest()[:10]
    return f"{_slug(candidate.source, 40)}/{stem}-{digest}{candidate.suffix}"


def _apply(plan: list[tuple[Candidate, SyncEntry]], state: SyncState, seen: dict[str, MeetingSeen],
           settings: Settings, progress: Callable[[str], None] | None) -> IngestReport | None:
    """Write new and changed files, drop removed ones, ingest the folder, then save the state."""
    folder = settings.synced_dir
    manifests = _Manifests(folder)
    dropped: list[str] = []
    now = utc_now()
    for candidate, entry in plan:
        known = state.documents.get(candidate.key)
        if entry.status in ("new", "changed"):
            if known and known.file != entry.file:
                dropped.append(manifests.drop(known.file))
            manifests.put(entry.file, candidate.content, candidate.meta.manifest())
        elif entry.status == "removed" and known:
            dropped.append(manifests.drop(known.file))
        _remember(state, candidate, entry, now)
    manifests.save()
    remove_documents(dropped, settings)
    report = ingest([folder], settings, progress=progress) if folder.is_dir() else None
    state.meetings.update(seen)
    state.save(settings.sync_state)
    return report


def _remember(state: SyncState, candidate: Candidate, entry: SyncEntry, now: str) -> None:
    """The state after this entry: new validators and hash, a gone strike, or forgotten."""
    known = state.documents.get(candidate.key)
    if entry.status in ("new", "changed") or (entry.status == "unchanged" and candidate.found == "fetched"):
        sha = hashlib.sha256(candidate.content).hexdigest()
        origin = {**asdict(candidate.origin), "sha256": sha, "title": candidate.meta.title} if candidate.origin else {}
        state.documents[candidate.key] = Known(candidate.key, candidate.source, entry.file, sha, candidate.etag,
                                               candidate.last_modified, 0, candidate.links, origin, now)
    elif entry.status == "unchanged" and known and candidate.found == "not_modified":
        state.documents[candidate.key] = replace(known, gone=0, etag=candidate.etag, last_modified=candidate.last_modified,
                                                 checked_at=now)
    elif entry.status == "missing":
        state.documents[candidate.key] = state.struck(candidate.key)
    elif entry.status == "removed" or (entry.status == "failed" and known and candidate.found in ("not_modified", "kept")):
        state.documents.pop(candidate.key, None)


class _Manifests:
    """The synced folder's files and their manifest.json entries, changed in memory and saved per folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.loaded: dict[Path, dict] = {}

    def _manifest(self, folder: Path) -> dict:
        if folder not in self.loaded:
            path = folder / "manifest.json"
            self.loaded[folder] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        return self.loaded[folder]

    def put(self, name: str, content: bytes, entry: dict) -> None:
        """Write a file (in one step) and its manifest entry."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_bytes(content)
        tmp.replace(path)
        self._manifest(path.parent)[path.name] = entry

    def drop(self, name: str) -> str:
        """Delete a file and its manifest entry; returns its name in the index."""
        path = self.root / name
        path.unlink(missing_ok=True)
        self._manifest(path.parent).pop(path.name, None)
        return name

    def save(self) -> None:
        """Write each changed manifest.json in one step."""
        for folder, entries in self.loaded.items():
            write_atomically(folder / "manifest.json", json.dumps(entries, indent=1, ensure_ascii=False, sort_keys=True))
