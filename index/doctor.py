"""`sendbot doctor`: check a data directory, repair what a crash or a careless hand can leave, say what it did.

Run it while nothing else writes to the index: it removes every staging leftover, whatever its age.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from index.embedder import ModelError, verified_model_dir
from index.keyword import KeywordIndex, collect_leftovers, refresh_keyword_index
from index.store import IndexDamaged, Store

Status = Literal["ok", "repaired", "problem"]


@dataclass(frozen=True)
class Finding:
    """One check: what was looked at, how it stands, and what was done or is to be done."""

    check: str
    status: Status
    detail: str


@dataclass
class DoctorReport:
    """Every check of one run, in order."""

    findings: list[Finding] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """True when nothing is left that needs a person."""
        return all(f.status != "problem" for f in self.findings)

    def to_json(self) -> dict:
        return {"healthy": self.healthy, "findings": [asdict(f) for f in self.findings]}


def examine(data_dir: Path, bm25_dir: Path, chroma_url: str = "") -> DoctorReport:
    """Check the model, the registry, the vector store and the keyword index under `data_dir` (the store on the
    Chroma server at `chroma_url` if given), repairing leftovers."""
    report = DoctorReport([_model()])
    try:
        store = Store(data_dir, chroma_url)
    except IndexDamaged as error:
        report.findings.append(Finding("registry", "problem", str(error)))
        return report
    report.findings += [
        _registry_temporaries(data_dir),
        _stale_chunks(store),
        _missing_files(store),
        _keyword_leftovers(bm25_dir),
        _keyword_index(store, bm25_dir),
    ]
    return report


def _model() -> Finding:
    try:
        return Finding("model", "ok", f"all-MiniLM-L6-v2 verified at {verified_model_dir()}")
    except ModelError as error:
        return Finding("model", "problem", str(error))


def _registry_temporaries(data_dir: Path) -> Finding:
    leftovers = list(data_dir.glob(".files.json.*"))
    for path in leftovers:
        path.unlink(missing_ok=True)
    if leftovers:
        return Finding("registry", "repaired", f"removed {len(leftovers)} half-written copies of files.json")
    return Finding("registry", "ok", "files.json is readable")


def _stale_chunks(store: Store) -> Finding:
    removed = store.collect_garbage(full_scan=True)
    if removed:
        return Finding("vector store", "repaired", f"removed {removed} passages of file versions no longer listed")
    return Finding("vector store", "ok", f"{store.collection.count()} passages, all of listed file versions")


def _missing_files(store: Store) -> Finding:
    gone = sorted(source for source, record in store.files.items() if not Path(record.path).is_file())
    if gone:
        return Finding("documents", "problem", f"{len(gone)} indexed documents have no file any more "
                       f"({', '.join(gone[:5])}{', ...' if len(gone) > 5 else ''}): run `sendbot ingest --prune`")
    return Finding("documents", "ok", f"{len(store.files)} documents, each file in place")


def _keyword_leftovers(bm25_dir: Path) -> Finding:
    removed = collect_leftovers(bm25_dir, min_age_seconds=0)
    if removed:
        return Finding("keyword index", "repaired", f"removed {len(removed)} folders left by an interrupted save")
    return Finding("keyword index", "ok", "no leftovers of interrupted saves")


def _keyword_index(store: Store, bm25_dir: Path) -> Finding:
    current = KeywordIndex.load(bm25_dir)
    if current is not None and current.fingerprint == store.fingerprint:
        return Finding("keyword index", "ok", f"in step with the {len(store.files)} documents")
    refresh_keyword_index(store, bm25_dir, force=True)
    why = "missing or unreadable" if current is None else "out of step with the documents"
    return Finding("keyword index", "repaired", f"was {why}; rebuilt")
