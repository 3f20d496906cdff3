"""Ingest reads files ahead in worker processes and embeds ready files together: the index it builds must be the
very one a plain one-file-at-a-time ingest builds."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np

from index.embedder import get_embedder
from index.store import Store
from ingest import pipeline
from ingest.readahead import ReadAhead

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def square_and_pid(n: int) -> tuple[int, int]:
    return n * n, os.getpid()


def test_read_ahead_keeps_order_and_runs_in_other_processes():
    items = list(range(12))
    with ReadAhead(square_and_pid, items, workers=1, ahead=3) as reader:
        got = list(reader)
    assert [(item, value) for item, (value, _) in got] == [(n, n * n) for n in items]
    assert {pid for _, (_, pid) in got} != {os.getpid()}  # the work happened in a worker
    with ReadAhead(square_and_pid, [5], workers=1, ahead=3) as reader:  # one item: read in place, no workers
        assert list(reader) == [(5, (25, os.getpid()))]


def test_parallel_ingest_builds_the_same_index_as_a_serial_one(settings, docs_dir, monkeypatch):
    for name in ("cfosp-agenda-pack-2023-05-24.pdf", "local-offer-news-updates.txt", "wpcf-2024-roundup.txt",
                 "manifest.json"):
        shutil.copy(CORPUS / name, docs_dir / name)
    parallel = pipeline.ingest([docs_dir], settings)
    monkeypatch.setattr(pipeline, "PARSE_WORKERS", 0)  # the reference: read in place, each file embedded alone
    monkeypatch.setattr(pipeline, "EMBED_GROUP_CHUNKS", 1)
    serial_settings = replace(settings, data_dir=settings.data_dir.with_name("serial"))
    serial = pipeline.ingest([docs_dir], serial_settings)
    assert [(f.source, f.status, f.chunks) for f in parallel.files] == [(f.source, f.status, f.chunks) for f in serial.files]
    assert {f.status for f in parallel.files} == {"added"}
    (a_chunks, a_vectors), (b_chunks, b_vectors) = (Store(s.data_dir).load_chunks() for s in (settings, serial_settings))
    assert a_chunks == b_chunks
    assert np.allclose(a_vectors, b_vectors, atol=1e-5)  # batching across files does not change a vector
    print(f"\nparallel ingest {parallel.seconds:.1f}s, serial {serial.seconds:.1f}s for {len(a_chunks)} chunks")


def test_a_script_without_a_main_guard_reads_ahead_in_a_thread_and_its_ingest_succeeds(tmp_path: Path):
    """"spawn" re-runs an unguarded script's top level in every worker; such a script must still ingest, once."""
    import subprocess
    import sys

    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("wpcf-2024-roundup.txt", "local-offer-news-updates.txt"):
        shutil.copy(CORPUS / name, docs / name)
    script = tmp_path / "my_ingest.py"
    script.write_text(
        "from pathlib import Path\n"
        "from ingest.pipeline import ingest\n"
        "from sendbot.core.config import load_settings\n"
        f"report = ingest([Path({str(docs)!r})], load_settings(data_dir=Path({str(tmp_path / 'data')!r})))\n"
        "print('added', sum(r.status == 'added' for r in report.files))\n",
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("added 2") == 1, done.stdout  # the top level ran once: no worker re-ran it


class FailingEmbedder:
    """The bundled embedder, but a call holding `poisoned` text raises MemoryError, as a machine short of memory
    would."""

    def __init__(self, poisoned: str) -> None:
        self.real = get_embedder()
        self.poisoned = poisoned

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if any(self.poisoned in text for text in texts):
            raise MemoryError("cannot allocate the batch")
        return self.real.encode(texts, batch_size, progress)


def test_a_group_whose_embedding_fails_is_reported_and_nothing_of_it_is_written(settings, docs_dir, monkeypatch):
    """Files are embedded in groups: a failed embedding fails the files of its group (with the reason), the other
    files go in, and the failed files leave no chunk behind."""
    for name in ("local-offer-news-updates.txt", "wpcf-2024-roundup.txt", "wcf-agm-2024-09-24-parent-carer-questions.txt"):
        shutil.copy(CORPUS / name, docs_dir / name)
    monkeypatch.setattr(pipeline, "embedder_for", lambda _settings: FailingEmbedder("WPCF"))  # in the roundup only
    report = pipeline.ingest([docs_dir], settings)
    by_source = {f.source: f for f in report.files}
    assert by_source["wpcf-2024-roundup.txt"].status == "failed"
    assert "could not be indexed (MemoryError: cannot allocate the batch)" in by_source["wpcf-2024-roundup.txt"].reason
    added = {f.source for f in report.files if f.status == "added"}
    failed = {f.source for f in report.files if f.status == "failed"}
    assert added and added | failed == set(by_source)  # a group-mate of the roundup may fail with it, no more
    assert all("MemoryError" in by_source[s].reason for s in failed)
    store = Store(settings.data_dir)
    assert set(store.files) == added
    assert {c.source for c in store.load_chunks()[0]} == added
