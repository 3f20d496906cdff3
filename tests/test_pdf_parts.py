"""A long PDF is read in parts (runs of pages, in worker processes) while its first pages embed: what gets indexed
must be exactly what reading it whole gives, and a bad page must still fail the whole file, clearly, leaving nothing."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, StreamObject

from index.embedder import count_tokens, get_embedder
from index.store import Store
from ingest import pipeline
from ingest.chunking import chunk_document
from ingest.loaders import LoadError, load_document, read_pdf_pages
from ingest.pdf_parts import EarlyVectors, join_parts, plan_parts
from test_ingest import make_pdf

ROOT = Path(__file__).resolve().parents[1]
AGENDA_PACK = ROOT / "corpus" / "cfosp-agenda-pack-2023-05-24.pdf"
FIXTURE_PDFS = [ROOT / "tests" / "fixtures" / "cfosp-minutes-ofsted-cqc-send-revisit.pdf",
                ROOT / "tests" / "fixtures" / "council" / "documents" / "agenda-reports-pack.pdf",
                ROOT / "tests" / "fixtures" / "council" / "documents" / "send-strategy-2023-26.pdf"]


def read_in_parts(path: Path, pages_per_part: int):
    """The PDF's parts as ingest's workers read them (one kept reader for the run of parts)."""
    parts = plan_parts(path, 50.0, pages_per_part)
    assert len(parts) > 1, f"{path.name} is not split into parts at {pages_per_part} pages a part"
    return [read_pdf_pages(path, part.start, part.stop, keep_open=not part.last) for part in parts]


def chunks_of(doc, settings):
    return chunk_document(doc, count_tokens, settings.chunk_tokens, settings.chunk_overlap_sentences)


@pytest.mark.parametrize("path, pages_per_part", [(AGENDA_PACK, 5), *((path, 1) for path in FIXTURE_PDFS)],
                         ids=lambda value: value.name if isinstance(value, Path) else str(value))
def test_a_pdf_read_in_parts_gives_exactly_the_pages_and_chunks_of_a_whole_read(path, pages_per_part, settings):
    whole = load_document(path, source=path.name)
    parts = read_in_parts(path, pages_per_part)
    assert [p.start for p in parts] == list(range(0, len(whole.pages), pages_per_part))
    in_parts = load_document(path, source=path.name, pdf_pages=join_parts(parts))
    assert in_parts == whole  # pages, numbers, title, date, kind: everything
    assert chunks_of(in_parts, settings) == chunks_of(whole, settings)  # ids, texts, pages, contexts


def test_chunks_embedded_early_are_used_only_when_their_text_is_final(settings):
    """EarlyVectors forecasts the chunks of the pages read so far; each kept vector is of exactly the text it is kept
    under, and most texts of the final chunks (their search texts and their units') are forecast (the rest are
    embedded at the end)."""
    parts = read_in_parts(AGENDA_PACK, 6)
    encoded: list[str] = []

    def encode(texts):
        encoded.extend(texts)
        return get_embedder().encode(texts)

    # a forecast at every part, to check every one
    early = EarlyVectors(encode, settings, pipeline.texts_embedded, min_texts=1)
    for count in range(1, len(parts)):  # as ingest does: every part but the last, as it arrives
        early.add(AGENDA_PACK, AGENDA_PACK.name, "0" * 64, parts[:count])
    kept = early.take(AGENDA_PACK.name)
    assert early.take(AGENDA_PACK.name) == {}  # taken once
    final = pipeline.texts_embedded(chunks_of(load_document(AGENDA_PACK, source=AGENDA_PACK.name), settings))
    used = [text for text in final if text in kept]
    sample = used[:: max(1, len(used) // 8)]
    assert np.allclose(np.array([kept[t] for t in sample]), get_embedder().encode(sample), atol=1e-5)
    last_part_pages = len(parts[-1].texts)
    print(f"\n{len(used)} of {len(final)} final chunk and unit texts forecast from the first {len(parts) - 1} parts "
          f"(all but the last {last_part_pages} pages); {len(encoded) - len(used)} forecasts not used")
    assert len(set(encoded)) == len(encoded)  # nothing embedded twice
    assert len(used) >= 0.8 * len(final)
    # never enough pages to be worth a call
    held_back = EarlyVectors(encode, settings, pipeline.texts_embedded, min_texts=len(final) + 1)
    for count in range(1, len(parts)):
        held_back.add(AGENDA_PACK, AGENDA_PACK.name, "0" * 64, parts[:count])
    assert held_back.take(AGENDA_PACK.name) == {}


def test_ingest_in_parts_builds_the_same_index_as_reading_the_pdf_whole(settings, docs_dir, monkeypatch):
    shutil.copy(AGENDA_PACK, docs_dir / AGENDA_PACK.name)
    shutil.copy(ROOT / "corpus" / "manifest.json", docs_dir / "manifest.json")
    monkeypatch.setattr(pipeline, "PARSE_WORKERS", 1)  # a spawned worker reads the parts
    in_parts = pipeline.ingest([docs_dir], settings)
    monkeypatch.setattr(pipeline, "plan_parts", lambda *args, **kwargs: [])  # the reference: read whole, in place
    whole_settings = replace(settings, data_dir=settings.data_dir.with_name("whole"))
    whole = pipeline.ingest([docs_dir], whole_settings)
    assert [(f.source, f.status, f.chunks, f.note) for f in in_parts.files] == \
        [(f.source, f.status, f.chunks, f.note) for f in whole.files]
    assert in_parts.files[0].status == "added"
    (a_chunks, a_vectors), (b_chunks, b_vectors) = (Store(s.data_dir).load_chunks() for s in (settings, whole_settings))
    assert a_chunks == b_chunks
    assert np.allclose(a_vectors, b_vectors, atol=1e-5)
    assert Store(settings.data_dir).files[AGENDA_PACK.name] == Store(whole_settings.data_dir).files[AGENDA_PACK.name]
    print(f"\ningest in parts {in_parts.seconds:.1f}s, whole {whole.seconds:.1f}s for {len(a_chunks)} chunks")


def pdf_with_a_bad_page(path: Path, pages: int, bad: int) -> Path:
    """A real PDF of `pages` pages whose page `bad` (0-based) has a content stream pypdf cannot decode."""
    source = make_pdf(path.with_name("good-" + path.name),
                      [[f"Page {i + 1} of the short breaks review.", "Overnight breaks are offered at two centres."]
                       for i in range(pages)])
    writer = PdfWriter(clone_from=PdfReader(source))
    broken = StreamObject()
    broken.set_data(b"\xff\xfe not LZW data")
    broken[NameObject("/Filter")] = NameObject("/LZWDecode")
    writer.pages[bad][NameObject("/Contents")] = writer._add_object(broken)
    writer.write(path)
    return path


def test_a_bad_page_in_a_later_part_fails_the_whole_file_with_the_whole_read_reason(settings, docs_dir):
    pdf = pdf_with_a_bad_page(docs_dir / "review.pdf", pages=14, bad=9)
    source = pdf.with_name("good-review.pdf")
    shutil.move(source, docs_dir.parent / source.name)  # only the broken PDF and a good file are ingested
    (docs_dir / "note.txt").write_text("Transport note\nThe minibus leaves at 8.15am from the library.\n")
    assert [p.start for p in plan_parts(pdf, 50.0)] == [0, 6, 12]  # the bad page is in the second part
    with pytest.raises(LoadError) as whole_read:
        load_document(pdf)
    report = pipeline.ingest([docs_dir], settings)
    results = {f.source: f for f in report.files}
    assert results["review.pdf"].status == "failed"
    assert results["review.pdf"].reason == str(whole_read.value)
    assert "not a readable PDF" in results["review.pdf"].reason
    assert results["note.txt"].status == "added"
    store = Store(settings.data_dir)
    chunks, _ = store.load_chunks()
    assert "review.pdf" not in store.files and {c.source for c in chunks} == {"note.txt"}  # nothing half-written


def test_an_encrypted_long_pdf_is_refused_in_the_usual_words(settings, docs_dir):
    source = make_pdf(docs_dir.parent / "open.pdf", [[f"Page {i + 1} of the respite review."] for i in range(14)])
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password="secret", owner_password="owner-secret", algorithm="AES-256")
    writer.write(docs_dir / "locked.pdf")
    [result] = pipeline.ingest([docs_dir], settings).files
    assert result.status == "failed" and "password-protected" in result.reason
    assert not Store(settings.data_dir).files
