"""Answer units' vectors are embedded at ingest and stored with their chunk (embedded and on a Chroma server), so a
question's candidate sentences are never embedded while the asker waits; an index stored without them (by an older
sendbot) still answers the same, embedding the units it needs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.embedder import get_embedder
from index.store import UNITS_KEY, open_store, pack_units, unpack_units
from ingest.pipeline import ingest
from sendbot.core.units import quotable_units
from sendbot.bot import build_pipeline
from sendbot.core.models import UnitVectors

DOCS = {
    "carers.md": "# Young carers\n\nThe Lantern Club for young carers meets every Thursday evening at the library. "
                 "Young carers can join from the age of eight.\n\n## Contact\n\nAsk at the library desk or ring the "
                 "carers line on 01234 567890.\n",
    "transport.md": "# Transport appeals\n\nAn appeal against a home to school transport decision goes to the panel, "
                    "which meets within 20 working days.\n\nThe panel's three councillors decide.\n",
}


class RecordingEmbedder:
    """The bundled embedder, noting every text a question makes it embed."""

    def __init__(self) -> None:
        self.real = get_embedder()
        self.dimension = self.real.dimension
        self.name = self.real.name
        self.texts: list[str] = []

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        self.texts.extend(texts)
        return self.real.encode(texts, batch_size, progress)


def write_docs(folder: Path) -> Path:
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_packed_unit_vectors_come_back_with_their_spans_within_half_precision():
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(3, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    units = UnitVectors(((0, 10), (11, 40), (41, 90)), vectors)

    back = unpack_units(pack_units(units))

    assert back.spans == units.spans
    assert np.allclose(back.vectors, vectors, atol=1e-3) and back.vectors.dtype == np.float32
    assert unpack_units(pack_units(UnitVectors((), np.zeros((0, 384), np.float32)))).by_span() == {}
    assert unpack_units("") is None and unpack_units("not packed by sendbot") is None


def test_ingest_stores_the_vector_of_every_quotable_unit_with_its_chunk(mode_settings, docs_dir):
    ingest([write_docs(docs_dir)], mode_settings)
    store = open_store(mode_settings)
    chunks, _ = store.load_chunks()

    stored = store.unit_vectors([c.id for c in chunks])

    assert set(stored) == {c.id for c in chunks}
    spans = {c.id: tuple((u.start, u.end) for u in quotable_units(c.text)) for c in chunks}
    assert all(stored[c.id].spans == spans[c.id] for c in chunks)
    assert sum(len(s) for s in spans.values()) >= 4
    for chunk in chunks:
        if spans[chunk.id]:
            expected = get_embedder().encode([chunk.text[a:b] for a, b in spans[chunk.id]])
            cosines = np.sum(stored[chunk.id].vectors * expected, axis=1)
            assert cosines.min() > 0.999, chunk.text


def test_a_question_embeds_only_itself_and_an_index_without_unit_vectors_answers_the_same(settings, docs_dir):
    ingest([write_docs(docs_dir)], settings)
    question = "When does the Lantern Club for young carers meet?"
    recorder = RecordingEmbedder()
    answer, _ = build_pipeline(settings, embedder=recorder).ask(question)
    assert not answer.refused and "Thursday evening" in answer.text
    assert len(recorder.texts) == 1  # the question; every candidate sentence's vector came from the store

    store = open_store(settings)  # as a sendbot before unit vectors were stored left the index
    chunks, _ = store.load_chunks()
    got = store.collection.get(ids=[c.id for c in chunks], include=["metadatas"])
    store.collection.update(ids=got["ids"], metadatas=[{**meta, UNITS_KEY: ""} for meta in got["metadatas"]])
    assert store.unit_vectors([c.id for c in chunks]) == {}
    older = RecordingEmbedder()

    again, _ = build_pipeline(settings, embedder=older).ask(question)

    assert again.text == answer.text and again.citations == answer.citations
    assert len(older.texts) > 1 and any("Thursday evening" in text for text in older.texts[1:])
