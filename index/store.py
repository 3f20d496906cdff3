"""The persistent index: Chroma holds chunks and our embeddings; a registry records which file versions are live.

The registry is the source of truth and each change to it is one atomic step, so an interrupted ingest never leaves
a half-written file visible: chunks of versions it does not list are ignored by search and removed by a later ingest.

Chroma runs embedded (files under the data directory, the default) or as a server (`SENDBOT_CHROMA_URL`, a
`chroma run`), which several sendbot processes may share. Embedded, the registry is `files.json` beside Chroma;
on a server it is a collection on the server itself (one record per live file), so every process sharing the server
reads the same registry, and its fingerprint tells each process when to rebuild what it derives locally (BM25).
"""

from __future__ import annotations

import base64
import gc
import json
import os
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from sendbot.core.config import Settings
from sendbot.core.models import Chunk, Document, FileRecord, UnitVectors

COLLECTION = "sendbot_chunks"
REGISTRY = "sendbot_files"  # server mode: the registry of live files, one record per file
BATCH = 1000
# Rows per request when reading the whole collection (a server answers in pages). Each request's rows pass through
# Chroma's conversion at once: reading 4,654 chunks with their vectors peaked at 337 MB in pages of 5,000 and 186 MB
# in pages of 1,000 (and took 0.93 s against 0.66 s), a peak that would otherwise grow with the index.
PAGE = 1000
SNAPSHOT_ATTEMPTS = 5  # reads of the live chunks before settling for one another process changed meanwhile
ENCODER_KEY = "sendbot_encoder"  # collection metadata: the encoder (SENDBOT_ENCODER) whose vectors it holds
LEGACY_ENCODER = "torch"  # collections written before the setting existed hold the torch encoder's vectors
# Chunk metadata: the chunk's unit vectors, packed (`pack_units`). float16 keeps a cosine within ~1e-3 at half the
# bytes; even so the index about doubles on disk (10x the bundled corpus: 44 MB without them, 92 MB with them).
UNITS_KEY = "unit_vectors"
UNITS_FORMAT = "u1:"  # a prefix naming the packing, so a later change is told apart from this one


def write_atomically(path: Path, text: str) -> None:
    """Replace a file in one step so readers see the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def pack_units(units: UnitVectors) -> str:
    """A chunk's unit vectors as one metadata string (Chroma metadata holds scalars only)."""
    spans = np.asarray(units.spans, dtype="<i4").reshape(-1, 2)
    raw = np.uint16(len(spans)).astype("<u2").tobytes() + spans.tobytes() + units.vectors.astype("<f2").tobytes()
    return UNITS_FORMAT + base64.b64encode(raw).decode("ascii")


def unpack_units(packed: str) -> UnitVectors | None:
    """The unit vectors `pack_units` wrote, or None for anything else (a chunk stored without them)."""
    if not packed.startswith(UNITS_FORMAT):
        return None
    raw = base64.b64decode(packed[len(UNITS_FORMAT):])
    count = int(np.frombuffer(raw[:2], dtype="<u2")[0])
    if not count:
        return UnitVectors((), np.zeros((0, 0), np.float32))
    spans = np.frombuffer(raw[2 : 2 + 8 * count], dtype="<i4").reshape(count, 2)
    vectors = np.frombuffer(raw[2 + 8 * count :], dtype="<f2").astype(np.float32).reshape(count, -1)
    return UnitVectors(tuple((int(a), int(b)) for a, b in spans), vectors)


class IndexDamaged(RuntimeError):
    """The data directory cannot be read as a sendbot index."""


class EncoderMismatch(IndexDamaged):
    """The index holds another encoder's vectors than the one the settings choose (they must never be mixed)."""


class StoreUnreachable(IndexDamaged):
    """The Chroma server named by SENDBOT_CHROMA_URL does not answer, or the URL is not one."""


def open_store(settings: Settings) -> "Store":
    """The store the settings name: the Chroma server at `chroma_url` if one is set, else embedded in `data_dir`."""
    return Store(settings.data_dir, settings.chroma_url, settings.encoder)


def chroma_client(data_dir: Path, chroma_url: str = ""):
    """A chromadb client: HttpClient for a server URL (http://host:port), else a PersistentClient under data_dir."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    quiet = ChromaSettings(anonymized_telemetry=False)
    if not chroma_url:
        return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=quiet)
    parts = urlsplit(chroma_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StoreUnreachable(f"SENDBOT_CHROMA_URL={chroma_url!r} is not a server address: give it as "
                               "http://HOST:PORT (the address `chroma run --host HOST --port PORT` listens on)")
    try:
        client = chromadb.HttpClient(host=parts.hostname, port=parts.port or (443 if parts.scheme == "https" else 8000),
                                     ssl=parts.scheme == "https", settings=quiet)
        client.heartbeat()
    except Exception as error:  # chromadb raises ValueError, httpx errors or its own, depending on the failure
        raise StoreUnreachable(f"the Chroma server at {chroma_url} does not answer ({error}): start it with "
                               "`chroma run --path DIR --host HOST --port PORT`, or unset SENDBOT_CHROMA_URL "
                               "(and drop --chroma-url) to use the embedded store") from None
    return client


def file_record(raw: dict) -> FileRecord:
    """A registry entry as a FileRecord; fields a newer or older sendbot wrote and this one does not know are left out."""
    return FileRecord(**{name: value for name, value in raw.items() if name in FileRecord.__dataclass_fields__})


class FileRegistry:
    """Embedded mode: the registry is files.json in the data directory, rewritten whole and atomically."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / "files.json"

    def read(self) -> dict[str, FileRecord]:
        """Every live file version, by source; IndexDamaged if files.json cannot be read."""
        if not self.path.is_file():
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {source: file_record(record) for source, record in raw.items()}
        except (ValueError, TypeError, AttributeError) as error:
            raise IndexDamaged(
                f"{self.path} is damaged ({error}). Delete the folder {self.data_dir} and run "
                "`sendbot ingest` to rebuild the index."
            ) from None

    def write(self, files: dict[str, FileRecord], changed: str) -> None:
        """Record `files` (in which the entry for `changed` was just set or removed)."""
        payload = {source: asdict(record) for source, record in sorted(files.items())}
        write_atomically(self.path, json.dumps(payload, indent=1))


class ServerRegistry:
    """Server mode: one record per live file in a collection on the Chroma server, shared by every process using it.

    Each change writes or deletes one record, which Chroma applies whole, so two processes ingesting different
    files never overwrite each other's entries, and a reader sees a file's old or new version, never a mix.
    """

    def __init__(self, client, chroma_url: str) -> None:
        self.chroma_url = chroma_url
        # A record needs a vector; this collection is never searched, so every record gets the same one.
        self.collection = client.get_or_create_collection(REGISTRY, embedding_function=None)

    def read(self) -> dict[str, FileRecord]:
        """Every live file version, by source; IndexDamaged if a record cannot be read."""
        got = self.collection.get(include=["documents"])
        try:
            return {source: file_record(json.loads(text)) for source, text in zip(got["ids"], got["documents"])}
        except (ValueError, TypeError) as error:
            raise IndexDamaged(f"the registry collection {REGISTRY!r} on {self.chroma_url} is damaged ({error}): "
                               f"delete the collections {REGISTRY!r} and {COLLECTION!r} there and run `sendbot ingest`") from None

    def write(self, files: dict[str, FileRecord], changed: str) -> None:
        """Write or delete the one record for `changed`."""
        record = files.get(changed)
        if record is None:
            self.collection.delete(ids=[changed])
        else:
            self.collection.upsert(ids=[changed], embeddings=[[1.0]], documents=[json.dumps(asdict(record))])


class Store:
    """Chroma collection plus the registry of live files: embedded under one data directory, or on a Chroma server."""

    def __init__(self, data_dir: Path, chroma_url: str = "", encoder: str = "torch") -> None:
        self.data_dir = data_dir
        self.chroma_url = chroma_url
        self.encoder = encoder  # the encoder this process embeds with; see check_encoder
        data_dir.mkdir(parents=True, exist_ok=True)
        client = chroma_client(data_dir, chroma_url)
        # embedding_function=None: Chroma must never embed (its default downloads a model); we pass vectors.
        self.collection = client.get_or_create_collection(COLLECTION, embedding_function=None, metadata={"hnsw:space": "cosine"})
        self.registry = ServerRegistry(client, chroma_url) if chroma_url else FileRegistry(data_dir)
        self.files: dict[str, FileRecord] = self.registry.read()
        self._loaded: tuple[dict[str, FileRecord], tuple[list[Chunk], np.ndarray]] | None = None  # see load_chunks

    @property
    def fingerprint(self) -> str:
        """Identifies the set of live file versions; derived indexes (BM25) store it to detect staleness."""
        return registry_fingerprint(self.files)

    def current_fingerprint(self) -> str:
        """The fingerprint of the registry as it stands now (another process may have changed it since we read it)."""
        return registry_fingerprint(self.registry.read())

    def put_document(self, doc: Document, chunks: list[Chunk], embeddings: np.ndarray, pipeline: str = "",
                     note: str = "", units: list[UnitVectors] | None = None) -> None:
        """Make this version of the document live with its chunks (and each chunk's unit vectors, if given),
        replacing any older version whole (`note`: what ingest warned about it, kept on its record for the
        document lists)."""
        self._claim_encoder()
        written = int(time.time())  # lets garbage collection spare chunks another process is still writing
        packed = [pack_units(u) for u in units] if units is not None else [""] * len(chunks)
        for start in range(0, len(chunks), BATCH):
            batch = chunks[start : start + BATCH]
            self.collection.upsert(
                ids=[c.id for c in batch],
                embeddings=embeddings[start : start + BATCH],
                documents=[c.text for c in batch],
                metadatas=[{**c.metadata(), "written": written,
                            UNITS_KEY: units_of} for c, units_of in zip(batch, packed[start : start + BATCH])],
            )
        self.files[doc.source] = FileRecord(
            source=doc.source, path=doc.path, sha256=doc.sha256, chunks=len(chunks), title=doc.title, date=doc.date,
            period=doc.period, publisher=doc.publisher, kind=doc.kind, paged=doc.paged, pipeline=pipeline, note=note,
        )
        self.registry.write(self.files, doc.source)
        self.collection.delete(where={"$and": [{"source": doc.source}, {"sha256": {"$ne": doc.sha256}}]})

    def check_encoder(self, total: int | None = None) -> None:
        """EncoderMismatch if the collection (of `total` rows, if known) holds another encoder's vectors than this
        store's: a query vector from one encoder means nothing against another's vectors, so nothing may mix them."""
        total = self.collection.count() if total is None else total
        held = (self.collection.metadata or {}).get(ENCODER_KEY, LEGACY_ENCODER)
        if total and held != self.encoder:
            where = (f"the collections {COLLECTION!r} and {REGISTRY!r} on {self.chroma_url}" if self.chroma_url
                     else f"{self.data_dir / 'chroma'} and {self.data_dir / 'files.json'}")
            raise EncoderMismatch(
                f"this index holds vectors from the {held!r} encoder, but SENDBOT_ENCODER (or --encoder) is "
                f"{self.encoder!r}, and the two must not be mixed: set SENDBOT_ENCODER={held} again (or drop "
                f"--encoder), or re-ingest everything with {self.encoder!r}: into a fresh data directory "
                f"(SENDBOT_DATA_DIR or --data-dir, then `sendbot ingest`), or delete {where} and run `sendbot ingest`")

    def _claim_encoder(self) -> None:
        """Before a write: refuse another encoder's index; an empty collection is marked as this encoder's."""
        total = self.collection.count()
        self.check_encoder(total)
        if not total and (self.collection.metadata or {}).get(ENCODER_KEY) != self.encoder:
            self.collection.modify(metadata={ENCODER_KEY: self.encoder})  # the distance stays cosine (its config)

    def remove_document(self, source: str) -> None:
        """Take a document out of the index."""
        if self.files.pop(source, None) is not None:
            self.registry.write(self.files, source)
        self.collection.delete(where={"source": source})

    def collect_garbage(self, min_age_seconds: float = 0, full_scan: bool = False) -> int:
        """Delete chunks left by an interrupted ingest (versions the registry does not list); returns how many.

        Chunks written less than `min_age_seconds` ago are spared: on a shared server they may belong to another
        process's ingest whose registry record is not written yet (ingest passes an hour there; doctor passes 0).
        When the collection holds exactly as many chunks as the listed versions have, there is nothing to collect
        (unless listed chunks are missing as well, which `full_scan`, doctor's, still finds) and no row is read:
        reading every row's metadata was 95% of an unchanged re-sync at 10x and grows with the index.
        """
        self.files = self.registry.read()
        if not full_scan and self.collection.count() == sum(record.chunks for record in self.files.values()):
            return 0
        cutoff = time.time() - min_age_seconds
        stale = [cid for cid, meta in self._all_metadata()
                 if self._live(meta) is False and meta.get("written", 0) <= cutoff]
        for start in range(0, len(stale), BATCH):
            self.collection.delete(ids=stale[start : start + BATCH])
        return len(stale)

    def _all_metadata(self):
        got = self._get_all(["metadatas"])
        return zip(got["ids"], got["metadatas"])

    def _get_all(self, include: list[str]) -> dict[str, list]:
        """The whole collection, read in pages (a server limits how much one request may carry)."""
        total = self.collection.count()
        got: dict[str, list] = {key: [] for key in ["ids", *include]}
        for offset in range(0, total, PAGE):
            page = self.collection.get(include=include, limit=PAGE, offset=offset)
            for key in got:
                got[key].extend(page[key])
            del page
            free_responses()
        return got

    def _live(self, meta: dict) -> bool:
        record = self.files.get(meta["source"])
        return record is not None and record.sha256 == meta["sha256"]

    def load_chunks(self) -> tuple[list[Chunk], np.ndarray]:
        """Every live chunk in document order, with its embedding (rows aligned with the list).

        The registry is read again afterwards: if another process changed it meanwhile (and so may have deleted
        chunks of a version we had listed), the read is repeated, so the chunks always match `files` exactly. The
        result is kept until the registry changes: building a pipeline asks twice (BM25, then the retriever).
        """
        for _ in range(SNAPSHOT_ATTEMPTS):
            self.files = self.registry.read()
            if self._loaded is not None and self._loaded[0] == self.files:
                return self._loaded[1]
            loaded = retrying(self._read_live_chunks)
            if self.registry.read() == self.files:
                break
        self._loaded = (dict(self.files), loaded)
        return loaded

    def _read_live_chunks(self) -> tuple[list[Chunk], np.ndarray]:
        chunks: list[Chunk] = []
        blocks: list[np.ndarray] = []  # each request's live vectors, as float32 (Chroma answers with float64)
        for sources in self._source_batches():  # by document, so a concurrent write cannot shift a page
            got = self.collection.get(where={"source": {"$in": sources}}, include=["documents", "metadatas", "embeddings"])
            live = [n for n, meta in enumerate(got["metadatas"]) if self._live(meta)]
            if live:
                chunks += [Chunk.from_metadata(got["ids"][n], got["documents"][n], got["metadatas"][n]) for n in live]
                blocks.append(np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), -1)[live])
            del got
            free_responses()
        if not chunks:  # an empty index: there is no width to give the vectors
            return [], np.zeros((0, 0), dtype=np.float32)
        order = sorted(range(len(chunks)), key=lambda n: (chunks[n].source, chunks[n].ordinal))
        return [chunks[n] for n in order], np.concatenate(blocks)[order]

    def _source_batches(self) -> list[list[str]]:
        """The live sources in groups of about PAGE chunks each."""
        batches: list[list[str]] = []
        size = 0
        for source, record in sorted(self.files.items()):
            if not batches or (size and size + record.chunks > PAGE):
                batches.append([])
                size = 0
            batches[-1].append(source)
            size += record.chunks
        return batches

    def unit_vectors(self, chunk_ids: list[str]) -> dict[str, UnitVectors]:
        """The stored unit vectors of these chunks (one request), by chunk id; chunks stored without them (by a
        sendbot before they were stored) are left out, and their units are embedded when a question needs them."""
        if not chunk_ids:
            return {}
        got = retrying(lambda: self.collection.get(ids=list(chunk_ids), include=["metadatas"]))
        stored = {cid: unpack_units(str(meta.get(UNITS_KEY, ""))) for cid, meta in zip(got["ids"], got["metadatas"])}
        return {cid: units for cid, units in stored.items() if units is not None}


def free_responses() -> None:
    """Free what Chroma's last answer left behind. Its client leaves each response in reference cycles, which only
    Python's cycle collector frees, and that runs rarely while a large read keeps allocating: reading 46,455 chunks
    from a server (100x the bundled corpus) peaked at 1,001 MB, against 471 MB collecting the young generations
    after each request (10.3 s either way; a full collection each time, 411 MB, took 12.9 s)."""
    gc.collect(1)


def registry_fingerprint(files: dict[str, FileRecord]) -> str:
    """Identifies a set of live file versions: source, content hash and the pipeline that chunked each, so what is
    derived from the chunks (keyword index, commitments register, another process's loaded index) is rebuilt when
    a newer sendbot re-chunks an unchanged file too."""
    return ",".join(f"{s}@{r.sha256[:12]}/{r.pipeline}" for s, r in sorted(files.items()))


def retrying(read, attempts: int = SNAPSHOT_ATTEMPTS):
    """`read()`, tried again when Chroma fails inside: a `chroma run` server reading rows that another process is
    deleting at that moment can answer "Error finding id" once (seen in tests/test_chroma_server.py)."""
    from chromadb.errors import InternalError

    for attempt in range(attempts):
        try:
            return read()
        except InternalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
