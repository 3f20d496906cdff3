"""Bring the index in step with files on disk: add new files, replace changed ones, skip the rest, report each."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from index.embedder import count_tokens, embedder_for
from index.keyword import refresh_keyword_index
from index.store import Store, open_store
from ingest.chunking import chunk_document
from ingest.loaders import LoadError, PdfPages, file_sha256, load_document, read_pdf_pages
from ingest.pages import save_pages
from ingest.pdf_parts import EarlyVectors, Part, join_parts, plan_parts
from ingest.readahead import ReadAhead
from sendbot.core.config import Settings
from sendbot.core.models import Chunk, Document, FileRecord, FileResult, IngestReport, UnitVectors
from sendbot.core.text import looks_like_instruction, split_sentences
from sendbot.core.units import quotable_units

NOT_DOCUMENTS = {"manifest.json", "readme.md", "readme.txt"}
CHUNKER_VERSION = 23  # bump when loading, chunking or the quotable units change what a file's stored chunks are
READ_AHEAD = 8  # files read and chunked ahead of the one being embedded (bounds the memory they hold)
PARSE_WORKERS = 1  # processes reading ahead; the embedder's torch threads keep the other cores busy
EMBED_GROUP_CHUNKS = 256  # consecutive ready files are embedded together up to about this many chunks
EMBED_BATCH = 16  # chunks per forward pass: measured on the bundled corpus (468 chunks, 2 cores), 16 embeds ~47
# chunks/s, 32 ~42, 64 ~37: a batch is padded to its longest text, and smaller batches pad less
SHARED_GARBAGE_AGE = 3600  # seconds: on a Chroma server, unlisted chunks younger than this may be another ingest's


def pipeline_id(settings: Settings) -> str:
    """Identifies how chunks were made: a file is re-ingested when this changes even if its content did not."""
    return f"chunker-{CHUNKER_VERSION}/{settings.chunk_tokens}/{settings.chunk_overlap_sentences}"


@dataclass(frozen=True)
class Found:
    """A file to ingest: where it is, and its name in the index (the path relative to the folder it was found in)."""

    path: Path  # resolved
    source: str


def discover(paths: list[Path], follow_links: bool = False) -> tuple[list[Found], list[FileResult]]:
    """Files to ingest under the given paths (folders are searched recursively), and what could not be taken.

    Inside a folder, a link to a file outside it is skipped unless `follow_links`: ingesting a folder must never
    publish a file that lies elsewhere on the server. A file named directly is taken as it is.
    """
    found: list[Found] = []
    problems: list[FileResult] = []
    for given in paths:
        if given.is_dir():
            root = given.resolve()
            for path in sorted(given.rglob("*")):
                if not path.is_file() or _ignored(path, given):
                    continue
                source, target = path.relative_to(given).as_posix(), path.resolve()
                if target.is_relative_to(root) or follow_links:
                    found.append(Found(target, source))
                else:
                    problems.append(FileResult(source, str(path), "skipped", reason=(
                        f"a link to {target}, outside the folder; skipped (use --follow-links to ingest it)")))
        elif given.is_file():
            found.append(Found(given.resolve(), given.name))
        else:
            problems.append(FileResult(given.name, str(given), "failed", reason="no such file or folder"))
    unique = {f.path: f for f in reversed(found)}  # a file reached twice keeps its first name
    return [f for f in found if unique[f.path] is f], problems


def _ignored(path: Path, root: Path) -> bool:
    hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
    return hidden or path.name.lower() in NOT_DOCUMENTS


@dataclass(frozen=True)
class _Prepared:
    """A changed file, loaded and chunked, waiting to be embedded and stored."""

    doc: Document
    chunks: list[Chunk]
    replaces_same_content: bool  # same bytes as the live version, re-chunked by a newer pipeline
    is_update: bool
    units: list[tuple[tuple[int, int], ...]]  # each chunk's quotable units (spans of its text), embedded with it


def ingest(paths: list[Path], settings: Settings, prune: bool = False,
           progress: Callable[[str], None] | None = None, show_bar: bool = False) -> IngestReport:
    """Ingest files: each changed file's chunks go in whole or not at all; bad files are reported, not fatal.

    Reading and chunking the next files runs in worker processes while earlier ones are embedded, smallest files
    first, so parsing a long PDF overlaps with embedding the others instead of adding to it; a long PDF is read in
    parts, so its own first pages embed while the later ones parse (ingest.pdf_parts). Consecutive small files
    that are ready are embedded together, in batches of a measured size (see EMBED_BATCH).
    """
    from tqdm import tqdm

    started = time.perf_counter()
    store = open_store(settings)
    store.check_encoder()  # before any work: an index of another encoder's vectors is refused, not mixed
    # A shared server may hold another process's ingest in flight: spare chunks written in the last hour there.
    store.collect_garbage(SHARED_GARBAGE_AGE if settings.chroma_url else 0)
    files, problems = discover(paths, settings.follow_links)
    results: dict[Found, FileResult] = _duplicate_sources(files)
    queue = sorted((f for f in files if f not in results), key=lambda f: f.path.stat().st_size)
    jobs = _jobs(queue, store, settings)
    with ReadAhead(functools.partial(_read, settings=settings), jobs, PARSE_WORKERS, READ_AHEAD) as reader, \
            tqdm(total=len(files), unit="file", desc="Ingesting", disable=not show_bar, leave=False) as bar:
        _read_and_store(reader, store, settings, results, functools.partial(_report, progress=progress, bar=bar))
    changed = any(r.status in ("added", "updated") for r in results.values())
    report = IngestReport(files=problems + [results[found] for found in files])  # in the order they were found
    if prune:
        for source, record in list(store.files.items()):
            if not Path(record.path).exists():
                store.remove_document(source)
                report.files.append(FileResult(source, record.path, "removed", record.chunks))
                changed = True
    refresh_keyword_index(store, settings.bm25_dir, force=changed)
    report.seconds = time.perf_counter() - started
    return report


def _read_and_store(reader: ReadAhead, store: Store, settings: Settings, results: dict[Found, FileResult],
                    report: Callable[[Found, FileResult], None]) -> None:
    """Store each file as soon as it is read. Ready files are embedded together; while a long PDF's later parts are
    still being read (the next one is not ready), the chunks of its parts so far are embedded early."""
    early = EarlyVectors(functools.partial(_encode, settings=settings), settings, texts_embedded)
    group: list[tuple[Found, _Prepared | FileResult]] = []
    parts: list[PdfPages | FileResult] = []
    for job, result in reader:
        if job.part is not None:
            parts.append(result)
            if not job.part.last:
                if not reader.next_ready() and not any(isinstance(p, FileResult) for p in parts):
                    early.add(job.found.path, job.found.source, job.sha256, parts)
                continue
            result = next((p for p in parts if isinstance(p, FileResult)), None) or \
                _prepare(job, settings, join_parts(parts))
            parts = []
        group.append((job.found, result))
        if _chunks_in(group) >= EMBED_GROUP_CHUNKS or not reader.next_ready():
            _store_group(group, store, settings, results, report, early)
            group = []
    _store_group(group, store, settings, results, report, early)


def _report(found: Found, result: FileResult, progress: Callable[[str], None] | None, bar) -> None:
    bar.set_postfix_str(found.source[-40:])
    if progress:
        progress(_describe(result))
    bar.update()


def _chunks_in(group: list[tuple[Found, "_Prepared | FileResult"]]) -> int:
    return sum(len(p.chunks) for _, p in group if isinstance(p, _Prepared))


def _store_group(group, store: Store, settings: Settings, results: dict[Found, FileResult],
                 report: Callable[[Found, FileResult], None], early: EarlyVectors) -> None:
    """Embed the group's changed files in one call (but for chunks embedded early), then make each live in turn and
    report it."""
    vectors = _embed([p for _, p in group if isinstance(p, _Prepared)], settings, early)
    for found, prepared in group:
        if isinstance(prepared, FileResult):
            result = prepared
        elif isinstance(vectors, Exception):
            result = _index_failure(found, vectors)
        else:
            result = _store(found, prepared, *vectors[prepared.doc.source], store, settings)
        results[found] = result
        report(found, result)


def _embed(prepared: list["_Prepared"], settings: Settings,
           early: EarlyVectors) -> "dict[str, tuple[np.ndarray, list[UnitVectors]]] | Exception":
    """Every chunk of the prepared files, and every quotable unit of them, embedded in one call (a text met twice,
    such as the sentence adjacent chunks share, once), split back by document; or the error it raised. A chunk
    embedded early (its PDF read in parts) with exactly its text keeps that vector."""
    known: dict[str, np.ndarray] = {}
    for p in prepared:
        known.update(early.take(p.doc.source))
    texts = texts_to_embed([c for p in prepared for c in p.chunks], [spans for p in prepared for spans in p.units])
    missing = [text for text in texts if text not in known]
    try:
        known.update(zip(missing, _encode(missing, settings)))
    except Exception as error:  # e.g. out of memory: every file of the group is reported, the rest go on
        return error
    width = next(iter(known.values())).shape[0] if known else 0
    by_source = {}
    for p in prepared:
        vectors = np.array([known[c.search_text] for c in p.chunks], np.float32).reshape(len(p.chunks), width)
        units = [UnitVectors(spans, np.array([known[c.text[a:b]] for a, b in spans], np.float32).reshape(len(spans), width))
                 for c, spans in zip(p.chunks, p.units)]
        by_source[p.doc.source] = (vectors, units)
    return by_source


def unit_spans(chunk: Chunk) -> tuple[tuple[int, int], ...]:
    """The spans of the chunk's quotable units: an answer may quote them, so ingest embeds them (sendbot.core.units)."""
    return _unit_spans(chunk.text)


@functools.lru_cache(maxsize=4096)
def _unit_spans(text: str) -> tuple[tuple[int, int], ...]:
    # A PDF read in parts is chunked twice (early, then whole), so most of its chunks' texts come here twice.
    return tuple((u.start, u.end) for u in quotable_units(text))


def texts_to_embed(chunks: list[Chunk], spans: list[tuple[tuple[int, int], ...]]) -> list[str]:
    """What ingest embeds for these chunks: each chunk's search text and its units' texts (`spans`, per chunk),
    each distinct text once (adjacent chunks share a sentence)."""
    return list(dict.fromkeys([c.search_text for c in chunks] +
                              [c.text[a:b] for c, chunk_spans in zip(chunks, spans) for a, b in chunk_spans]))


def texts_embedded(chunks: list[Chunk]) -> list[str]:
    """The texts an ingest of these (stored) chunks embedded, document by document as ingest meets them: a text
    repeated in two documents is embedded for each. The benches' bare-encode baseline encodes exactly these."""
    by_source: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_source.setdefault(chunk.source, []).append(chunk)
    return [text for group in by_source.values() for text in texts_to_embed(group, [unit_spans(c) for c in group])]


def _encode(texts: list[str], settings: Settings) -> np.ndarray:
    """The texts embedded by the settings' encoder, EMBED_BATCH at a time."""
    return embedder_for(settings).encode(texts, batch_size=EMBED_BATCH) if texts else np.zeros((0, 0), np.float32)


def _index_failure(found: Found, error: Exception) -> FileResult:
    return FileResult(found.source, str(found.path), "failed", reason=f"could not be indexed ({type(error).__name__}: {error})")


def _duplicate_sources(files: list[Found]) -> dict[Found, FileResult]:
    """Files whose index name an earlier file already has (the same relative path under two folders given)."""
    first: dict[str, Found] = {}
    duplicates = {}
    for found in files:
        if found.source in first:
            duplicates[found] = FileResult(found.source, str(found.path), "failed", reason=(
                f"another file with this name was ingested from {first[found.source].path}; rename one of them"))
        else:
            first[found.source] = found
    return duplicates


@dataclass(frozen=True)
class _Job:
    """One read-ahead task: a whole file, or one part of a long PDF (see ingest.pdf_parts)."""

    found: Found
    record: FileRecord | None  # the file's live version, if any
    part: Part | None = None
    sha256: str = ""  # the content hash, when planning a PDF took it already


def _jobs(queue: list[Found], store: Store, settings: Settings) -> Iterator[_Job]:
    """The read-ahead tasks, planned as the reader reaches each file: a changed PDF of many pages is read in parts."""
    for found in queue:
        record = store.files.get(found.source)
        parts, sha = [], ""
        if found.path.suffix.lower() == ".pdf":
            try:
                sha = file_sha256(found.path)
            except OSError:
                sha = ""  # the whole-file read reports it
            if sha and not _unchanged(record, sha, settings):
                parts = plan_parts(found.path, settings.max_file_mb)
        yield from ([_Job(found, record, part, sha) for part in parts] or [_Job(found, record, sha256=sha)])


def _unchanged(record: FileRecord | None, sha: str, settings: Settings) -> bool:
    return bool(record and record.sha256 == sha and record.pipeline == pipeline_id(settings))


def _read(job: _Job, settings: Settings) -> "_Prepared | PdfPages | FileResult":
    """A worker's task (ingest.readahead): a whole file loaded and chunked, or a part of a PDF's pages extracted."""
    if job.part is None:
        return _prepare(job, settings)
    try:
        return read_pdf_pages(job.found.path, job.part.start, job.part.stop, keep_open=not job.part.last)
    except LoadError as error:
        return FileResult(job.found.source, str(job.found.path), "failed", reason=str(error))


def _prepare(job: _Job, settings: Settings, pdf_pages: PdfPages | None = None) -> _Prepared | FileResult:
    """Load and chunk a file unless it is unchanged (its live `record` says); failures come back as a FileResult.
    `pdf_pages` is a PDF's text when it was read in parts.

    Runs in a worker process (ingest.readahead), so it takes and returns only plain, picklable values.
    """
    source, path, record = job.found.source, job.found.path, job.record
    try:
        sha = job.sha256 or file_sha256(path)
        if _unchanged(record, sha, settings):
            return FileResult(source, str(path), "unchanged", record.chunks)
        doc = load_document(path, settings.max_file_mb, sha, source=source, max_word_chars=settings.max_word_chars,
                            pdf_pages=pdf_pages)
        chunks = chunk_document(doc, count_tokens, settings.chunk_tokens, settings.chunk_overlap_sentences)
        return _Prepared(doc, chunks, replaces_same_content=bool(record and record.sha256 == sha),
                         is_update=record is not None, units=[unit_spans(c) for c in chunks])
    except LoadError as error:
        return FileResult(source, str(path), "failed", reason=str(error))
    except OSError as error:
        return FileResult(source, str(path), "failed", reason=f"could not read the file ({error.strerror or error})")
    except Exception as error:  # one bad file must never stop the others
        return FileResult(source, str(path), "failed", reason=f"unexpected {type(error).__name__}: {error}")


def _store(found: Found, prepared: _Prepared, vectors: np.ndarray, units: list[UnitVectors], store: Store,
           settings: Settings) -> FileResult:
    """Make a prepared file live with its embedded chunks (and their units' vectors) in one step."""
    doc = prepared.doc
    note = "; ".join(n for n in (*doc.notes, _empty_pages_note(doc), _instructions_note(doc)) if n)
    try:
        if prepared.replaces_same_content:
            store.remove_document(doc.source)  # chunk ids repeat under the same content hash: clear the old ones first
        store.put_document(doc, prepared.chunks, vectors, pipeline_id(settings), note, units)
    except Exception as error:  # e.g. the disk filled up: report it, keep going with the other files
        return _index_failure(found, error)
    save_pages(settings.data_dir, doc)  # the commitments register reads these instead of parsing the file again
    status = "updated" if prepared.is_update else "added"
    return FileResult(doc.source, str(found.path), status, len(prepared.chunks), note=note)


def _instructions_note(doc: Document) -> str:
    """A warning when the document holds sentences addressed to an AI assistant, which answers never quote."""
    planted = [page.text[s.start : s.end] for page in doc.pages for s in split_sentences(page.text)
               if looks_like_instruction(page.text[s.start : s.end])]
    if not planted:
        return ""
    example = planted[0] if len(planted[0]) <= 80 else planted[0][:77] + "..."
    return (f"{len(planted)} sentence{'s' if len(planted) > 1 else ''} addressed to an AI assistant "
            f'(e.g. "{example}"), never used in answers: check where this document came from')


def _empty_pages_note(doc: Document) -> str:
    empty = [p.number for p in doc.pages if not p.text]
    if not doc.paged or not empty:
        return ""
    return f"{len(empty)} of {len(doc.pages)} pages have no text layer (blank, or scanned without OCR) and cannot be searched"


def _describe(result: FileResult) -> str:
    if result.status in ("failed", "skipped"):
        return f"{result.status.upper()} {result.path}: {result.reason}"
    note = f"; note: {result.note}" if result.note else ""
    return f"{result.status:>9} {result.source} ({result.chunks} chunks){note}"


def remove_documents(sources: list[str], settings: Settings) -> list[FileResult]:
    """Take documents out of the index by name (a sync removing pages the council took down), then bring the
    keyword index in step; names not in the index are passed over."""
    store = open_store(settings)
    removed = []
    for source in sources:
        record = store.files.get(source)
        if record is not None:
            store.remove_document(source)
            removed.append(FileResult(source, record.path, "removed", record.chunks))
    if removed:
        refresh_keyword_index(store, settings.bm25_dir, force=True)
    return removed
