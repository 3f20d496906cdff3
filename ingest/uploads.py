"""Files an administrator uploads through the web app: checked, copied into the uploads folder, then ingested.

A file that fails leaves nothing behind: its copy is deleted, and a file of the same name it was meant to replace
is put back. The ingest itself is passed in (the bot's `ingest`, which also makes the files searchable), so this
module needs nothing above the ingest layer.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, NamedTuple, Protocol

from sendbot.core.config import SUPPORTED_SUFFIXES
from sendbot.core.models import FileResult, IngestReport

# What an administrator is told about each file that went in, by ingest status (any other status: it did not).
ADDED_MESSAGES = {
    "added": "{passages} can now be searched.",
    "updated": "replaced the earlier version; {passages} can now be searched.",
    "unchanged": "this file was already there, unchanged.",
}


class IngestFiles(Protocol):
    """The ingest step uploads go through, e.g. `SendBot.ingest`: one progress call per file read."""

    def __call__(self, paths: list[Path], *, progress: Callable[[str], None]) -> IngestReport: ...


class UploadResult(NamedTuple):
    """One uploaded file's outcome, as the app shows it."""

    added: bool
    name: str
    message: str


@dataclass(frozen=True)
class _Staged:
    """An upload copied into the uploads folder, and the earlier file of that name it moved aside (if any)."""

    target: Path
    backup: Path | None

    def keep(self) -> None:
        """The upload went in: the earlier version is no longer needed."""
        if self.backup:
            self.backup.unlink(missing_ok=True)

    def undo(self) -> None:
        """The upload failed: remove its copy and put the earlier version back."""
        self.target.unlink(missing_ok=True)
        if self.backup:
            os.replace(self.backup, self.target)


def upload_problem(path: Path, max_mb: float) -> str:
    """Why an uploaded file can't be added (name, type or size), or '' if it can be tried."""
    name = path.name
    if not name or name.startswith("."):
        return "the file name can't start with a dot."
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        kind = f"'{path.suffix}' files" if path.suffix else "files without an extension like .pdf"
        return f"{kind} can't be added. Please use PDF, Word (.docx), web page (.html) or text (.txt, .md) files."
    size_mb = path.stat().st_size / (1024 * 1024)
    if size_mb > max_mb:
        return f"the file is {size_mb:.1f} MB, and the limit is {max_mb:g} MB."
    if size_mb == 0:
        return "the file is empty."
    return ""


def add_uploads(files: list[Path], ingest: IngestFiles, uploads_dir: Path, max_mb: float,
                progress: Callable[[int, int], None] = lambda done, total: None,
                details: Mapping[str, str] | None = None) -> list[UploadResult]:
    """Check uploaded files, copy the good ones into `uploads_dir` and ingest them together.

    `details` (title, date as YYYY-MM-DD, kind, publisher: what the administrator set) go into the uploads folder's
    manifest.json for these files, which the loaders read before anything in the files themselves; without them a
    file's own metadata is used, and an earlier upload's details for the same name are dropped.
    Returns each file's outcome: the refused ones first, then the ones that were tried, in upload order.
    `progress(done, total)` is called before the ingest starts and after each file it reads.
    """
    refused, staged = _stage(files, uploads_dir, max_mb)
    if not staged:
        return refused
    entry = {k: v for k, v in (details or {}).items() if v} or None
    previous = _set_manifest_entries(uploads_dir, {s.target.name: entry for s in staged})
    done = 0

    def step(_message: str) -> None:
        nonlocal done
        done += 1
        progress(done, len(staged))

    progress(0, len(staged))
    report = ingest([s.target for s in staged], progress=step)
    results = _settle(staged, {Path(f.path).name: f for f in report.files})
    failed = {r.name for r in results if not r.added}
    if failed:  # a file that did not go in leaves the manifest as it was
        _set_manifest_entries(uploads_dir, {name: old for name, old in previous.items() if name in failed})
    return refused + results


def _set_manifest_entries(folder: Path, entries: Mapping[str, dict | None]) -> dict[str, dict | None]:
    """Set (or, for None, remove) files' entries in the folder's manifest.json, written whole and atomically;
    returns the entries they replace, to put back."""
    manifest = folder / "manifest.json"
    listed = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}
    previous = {name: listed.get(name) for name in entries}
    for name, entry in entries.items():
        if entry:
            listed[name] = entry
        else:
            listed.pop(name, None)
    if listed or manifest.is_file():
        partial = manifest.with_name(".manifest.json.partial")
        partial.write_text(json.dumps(listed, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, manifest)
    return previous


def _stage(files: list[Path], uploads_dir: Path, max_mb: float) -> tuple[list[UploadResult], list[_Staged]]:
    """Copy each acceptable upload into `uploads_dir`, moving aside a file it replaces; refuse the rest."""
    uploads_dir.mkdir(parents=True, exist_ok=True)
    refused: list[UploadResult] = []
    staged: list[_Staged] = []
    for upload in files:
        target = uploads_dir / upload.name
        problem = upload_problem(upload, max_mb)
        if not problem and any(s.target == target for s in staged):
            problem = "another file with this name is in the same upload."
        if problem:
            refused.append(UploadResult(False, upload.name, problem))
            continue
        backup = None
        if target.exists() or target.is_symlink():  # a link is moved aside like a file, never written through
            backup = target.with_name(f".{target.name}.previous")
            os.replace(target, backup)
        shutil.copyfile(upload, target)
        staged.append(_Staged(target, backup))
    return refused, staged


def _settle(staged: list[_Staged], outcomes: dict[str, FileResult]) -> list[UploadResult]:
    """Keep each upload the ingest took, undo each one it could not read."""
    results = []
    for upload in staged:
        outcome = outcomes.get(upload.target.name)
        if outcome is None or outcome.status not in ADDED_MESSAGES:  # failed, or never searchable
            upload.undo()
            reason = outcome.reason if outcome and outcome.reason else "it could not be read."
            results.append(UploadResult(False, upload.target.name, reason))
            continue
        upload.keep()
        passages = f"{outcome.chunks} passage{'' if outcome.chunks == 1 else 's'}"
        message = ADDED_MESSAGES[outcome.status].format(passages=passages)
        results.append(UploadResult(True, upload.target.name, f"{message} Note: {outcome.note}." if outcome.note else message))
    return results
