"""Store work that must not grow with the index: the dense search over the chunks loaded from the store (exact, no
request per question; embedded and on a real `chroma run` server), and an unchanged re-sync that reads no chunk
when there is no garbage; the collection read in pages small enough that the conversion's peak stays bounded.
Also: the bench times questions with the threads the app serves with."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

import index.store
from index.doctor import examine
from index.embedder import count_tokens, get_embedder
from index.keyword import refresh_keyword_index
from index.store import open_store
from ingest.chunking import chunk_document
from ingest.loaders import load_document
from ingest.pipeline import ingest
from retrieve.hybrid import HybridRetriever
from retrieve.query import prepare_query
from sendbot.bench.scale import use_serving_threads
from sendbot.core.config import Settings
from sendbot.core.models import Filters

DOCS = {
    "respite.md": "# Kestrel respite weekends\n\nKestrel House offers respite weekends for disabled children twice a "
                  "month; families book them through the short breaks team.\n",
    "transport.md": "# Transport appeals\n\nAn appeal against a home to school transport decision goes to the panel, "
                    "which meets within 20 working days.\n\n## Who decides\n\nThe panel's three councillors decide.\n",
    "carers.md": "# Young carers\n\nThe Lantern Club for young carers meets every Thursday evening at the library.\n",
}


def write_docs(folder: Path) -> Path:
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_the_dense_search_is_exact_over_the_live_chunks_and_their_filters(mode_settings, docs_dir):
    def retriever() -> HybridRetriever:
        store = open_store(mode_settings)
        return HybridRetriever(store, refresh_keyword_index(store, mode_settings.bm25_dir), get_embedder())

    query = prepare_query("Where can a disabled child have a respite weekend?")
    assert retriever().search(query, 30).passages == []  # an empty index
    ingest([write_docs(docs_dir)], mode_settings)
    searcher = retriever()

    found = searcher.search(query, len(searcher.chunks) + 25)  # far more than the index holds

    assert sorted(p.chunk.id for p in found.passages) == sorted(c.id for c in searcher.chunks)
    expected = dict(zip((c.id for c in searcher.chunks), searcher.vectors @ found.query_vector))
    assert all(abs(p.similarity - expected[p.chunk.id]) < 1e-6 for p in found.passages)
    assert found.passages[0].chunk.source == "respite.md"
    only = searcher.search(query, 30, Filters(sources=("transport.md",))).passages
    assert {p.chunk.source for p in only} == {"transport.md"}
    assert len(only) == sum(c.source == "transport.md" for c in searcher.chunks) == 2
    again = retriever().search(query, 30).passages  # another process's retriever over the same index
    assert [p.chunk.id for p in again] == [p.chunk.id for p in searcher.search(query, 30).passages]


def test_garbage_is_collected_by_its_count_and_a_full_scan_still_finds_it_behind_a_missing_chunk(settings, docs_dir):
    ingest([write_docs(docs_dir)], settings)
    store = open_store(settings)
    listed = store.collection.count()
    stale = chunk_document(replace(load_document(docs_dir / "carers.md"), sha256="f" * 64), count_tokens)
    store.collection.upsert(ids=[c.id for c in stale], embeddings=get_embedder().encode([c.search_text for c in stale]),
                            documents=[c.text for c in stale], metadatas=[c.metadata() for c in stale])
    assert store.collect_garbage() == len(stale)  # more chunks than listed: the rows are read and judged
    assert store.collect_garbage() == 0 and store.collection.count() == listed
    assert ingest([docs_dir], settings).count("unchanged") == len(DOCS)

    # A damaged index: a listed chunk lost and a stale one present, so the count alone cannot tell.
    store.collection.delete(ids=[store.load_chunks()[0][0].id])
    store.collection.upsert(ids=[stale[0].id], embeddings=get_embedder().encode([stale[0].search_text]),
                            documents=[stale[0].text], metadatas=[stale[0].metadata()])
    assert store.collect_garbage() == 0  # the quick check, as every ingest makes it
    assert store.collect_garbage(full_scan=True) == 1  # what `sendbot doctor` runs
    store.collection.upsert(ids=[stale[0].id], embeddings=get_embedder().encode([stale[0].search_text]),
                            documents=[stale[0].text], metadatas=[stale[0].metadata()])
    assert any(f.status == "repaired" and "removed 1 passages" in f.detail
               for f in examine(settings.data_dir, settings.bm25_dir).findings)


def test_reading_the_collection_in_small_pages_gives_the_same_chunks_vectors_and_garbage(settings, docs_dir, monkeypatch):
    ingest([write_docs(docs_dir)], settings)
    whole_chunks, whole_vectors = open_store(settings).load_chunks()
    assert len(whole_chunks) > 2
    monkeypatch.setattr(index.store, "PAGE", 2)  # several requests per read, as a large index makes
    store = open_store(settings)
    batches = store._source_batches()  # about PAGE chunks each, a document never split
    assert len(batches) > 1 and sorted(source for batch in batches for source in batch) == sorted(DOCS)
    assert all(len(batch) == 1 or sum(store.files[s].chunks for s in batch) <= 2 for batch in batches)
    chunks, vectors = store.load_chunks()
    assert chunks == whole_chunks and np.array_equal(vectors, whole_vectors)
    assert np.allclose(vectors, get_embedder().encode([c.search_text for c in chunks]), atol=1e-5)  # row by row
    store.collection.delete(ids=[chunks[0].id])  # a listed chunk lost: the count differs, so the rows are read
    assert store.collect_garbage() == 0 and len(list(store._all_metadata())) == len(chunks) - 1


def test_the_bench_times_questions_with_the_threads_the_app_serves_with():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        use_serving_threads(Settings(server_threads=0))  # 0: torch's own choice stays
        assert torch.get_num_threads() == 2
        use_serving_threads(Settings())
        assert torch.get_num_threads() == Settings().server_threads == 1
    finally:
        torch.set_num_threads(before)
