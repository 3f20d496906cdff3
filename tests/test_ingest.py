"""Ingest: bad files are reported one by one without stopping the good ones; re-ingest is incremental and atomic."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from index.embedder import count_tokens, get_embedder
from index.store import Store
from ingest.chunking import chunk_document
from ingest.loaders import load_document
from ingest.pipeline import ingest
from retrieve.query import prepare_query
from sendbot.bot import SendBot
from sendbot.core.config import Settings, load_settings
from sendbot.core.models import FileResult, IngestReport
from support import CORPUS_SOURCES


def make_pdf(path: Path, pages: list[list[str]], title: str = "") -> Path:
    """A real text PDF drawn with reportlab, one list of lines per page."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    if title:
        pdf.setTitle(title)
    for lines in pages:
        for i, line in enumerate(lines):
            pdf.drawString(72, 760 - 18 * i, line)
        pdf.showPage()
    pdf.save()
    return path


def make_scanned_pdf(path: Path) -> Path:
    """A PDF with pages of drawing only, like a scan without a text layer."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    for _ in range(2):
        pdf.setFillGray(0.6)
        pdf.rect(60, 80, 470, 680, fill=1)
        pdf.line(80, 700, 500, 700)
        pdf.showPage()
    pdf.save()
    return path


GOOD_TEXT = {
    "transport-note.txt": "Transport note\nThe minibus to the sensory centre leaves at 8.15am from the library.\n",
    "therapy.md": "# Speech therapy\n\nSpeech and language therapy sessions run **weekly** in term time.\n",
    "short-breaks.html": ("<html><head><title>Short breaks</title></head><body><main><h1>Short breaks</h1>"
                          "<p>Overnight short breaks are offered at two centres in the county.</p></main></body></html>"),
}


def write_good_files(folder: Path) -> None:
    for name, text in GOOD_TEXT.items():
        (folder / name).write_text(text, encoding="utf-8")


def write_bad_files(folder: Path) -> dict[str, str]:
    """Every kind of file ingest must refuse; returns file name -> words its reason must contain."""
    good_pdf = make_pdf(folder.parent / "source.pdf", [["Respite care review, published 2 May 2023."]])
    (folder / "corrupt.pdf").write_bytes(good_pdf.read_bytes()[: good_pdf.stat().st_size // 2])
    writer = PdfWriter(clone_from=PdfReader(good_pdf))
    writer.encrypt(user_password="secret", owner_password="owner-secret", algorithm="AES-256")
    writer.write(folder / "encrypted.pdf")
    make_scanned_pdf(folder / "scanned.pdf")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "budget.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 60)
    (folder / "garbled.txt").write_bytes(b"Notes: \x81\x8d\x8f\x90\x9d")
    (folder / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20)
    return {
        "corrupt.pdf": "not a readable PDF",
        "encrypted.pdf": "password-protected",
        "scanned.pdf": "no text could be extracted (a scanned PDF needs OCR first)",
        "empty.txt": "file is empty",
        "budget.xlsx": "unsupported file type '.xlsx'",
        "garbled.txt": "neither UTF-8 nor Windows-1252",
        "photo.txt": "binary file",
    }


def results_by_name(report: IngestReport) -> dict[str, list[FileResult]]:
    found: dict[str, list[FileResult]] = {}
    for result in report.files:
        found.setdefault(Path(result.path).name, []).append(result)
    return found


def collection_count(settings: Settings) -> int:
    return Store(settings.data_dir).collection.count()


def live_texts(settings: Settings) -> list[str]:
    chunks, _ = Store(settings.data_dir).load_chunks()
    return [c.text for c in chunks]


# --- bad files -----------------------------------------------------------------------------------------------


def test_each_bad_file_fails_alone_with_a_specific_reason_and_good_files_still_go_in(settings, docs_dir: Path):
    write_good_files(docs_dir)
    expected = write_bad_files(docs_dir)
    report = ingest([docs_dir], settings)

    results = results_by_name(report)
    for name, reason in expected.items():
        assert name in results, f"{name} is missing from the report"
        assert len(results[name]) == 1, f"{name} reported {len(results[name])} times"
        result = results[name][0]
        assert result.status == "failed", f"{name}: {result}"
        assert result.source == name and Path(result.path) == (docs_dir / name).resolve()
        assert reason in result.reason, f"{name}: reason {result.reason!r} does not say {reason!r}"
        assert result.chunks == 0
    for name in GOOD_TEXT:
        assert [r.status for r in results[name]] == ["added"] and results[name][0].chunks >= 1
    assert report.count("failed") == len(expected) and report.count("added") == len(GOOD_TEXT)
    assert {f.source for f in report.failed} == set(expected)

    store = Store(settings.data_dir)
    assert set(store.files) == set(GOOD_TEXT)
    assert store.collection.count() == sum(r.chunks for r in store.files.values()) == report.chunks_written


def test_utf16_and_windows_1252_files_are_ingested_with_their_characters_intact(settings, docs_dir: Path):
    (docs_dir / "utf16-note.txt").write_bytes("Café drop-in\nThe SENCo’s café drop-in runs on Tuesdays – all welcome.\n".encode("utf-16"))
    (docs_dir / "cp1252-note.txt").write_bytes("Fees note\nThe “Stay and Play” session costs £2.50 per family.\n".encode("cp1252"))
    report = ingest([docs_dir], settings)
    assert {r.source: r.status for r in report.files} == {"utf16-note.txt": "added", "cp1252-note.txt": "added"}
    texts = live_texts(settings)
    assert any("The SENCo’s café drop-in runs on Tuesdays – all welcome." in t for t in texts), texts
    assert any("The “Stay and Play” session costs £2.50 per family." in t for t in texts), texts
    assert Store(settings.data_dir).files["utf16-note.txt"].title == "Café drop-in"


def test_a_file_over_the_size_limit_fails_and_says_how_to_allow_it(tmp_path: Path, docs_dir: Path):
    settings = Settings(data_dir=tmp_path / "data", max_file_mb=0.01)
    (docs_dir / "big.txt").write_text("Short breaks review.\n" + "The panel noted the report. " * 600, encoding="utf-8")
    (docs_dir / "small.txt").write_text("Small note\nThe forum meets monthly.\n", encoding="utf-8")
    size_mb = (docs_dir / "big.txt").stat().st_size / 1e6
    assert size_mb > 0.015  # precondition

    results = results_by_name(ingest([docs_dir], settings))
    big = results["big.txt"][0]
    assert big.status == "failed"
    assert "over the 0.01 MB limit" in big.reason and "SENDBOT_MAX_FILE_MB" in big.reason
    assert results["small.txt"][0].status == "added"
    stated = float(re.search(r"file is ([\d.]+) MB", big.reason).group(1))
    assert stated > 0.01, f"the reason states a size ({stated} MB) that is not over the limit: {big.reason!r}"


def test_size_limit_is_read_from_sendbot_max_file_mb(monkeypatch, tmp_path: Path, docs_dir: Path):
    monkeypatch.setenv("SENDBOT_MAX_FILE_MB", "0.01")
    monkeypatch.setenv("SENDBOT_DATA_DIR", str(tmp_path / "env-data"))
    settings = load_settings()
    assert settings.max_file_mb == 0.01 and settings.data_dir == (tmp_path / "env-data").resolve()
    (docs_dir / "big.txt").write_text("The panel noted the report. " * 600, encoding="utf-8")
    [result] = ingest([docs_dir / "big.txt"], settings).files
    assert result.status == "failed" and "limit" in result.reason


def test_an_invalid_setting_in_the_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("SENDBOT_MAX_FILE_MB", "lots")
    with pytest.raises(ValueError, match="SENDBOT_MAX_FILE_MB='lots' is not valid"):
        load_settings()


def test_a_path_that_does_not_exist_is_reported_as_failed(settings, tmp_path: Path):
    report = ingest([tmp_path / "missing.pdf"], settings)
    assert [(r.source, r.status, r.reason) for r in report.files] == [("missing.pdf", "failed", "no such file or folder")]


def test_two_files_with_the_same_name_in_different_folders_are_not_mixed_up(settings, docs_dir: Path):
    (docs_dir / "a").mkdir()
    (docs_dir / "b").mkdir()
    (docs_dir / "a" / "notes.txt").write_text("First notes\nThe forum meets monthly.\n", encoding="utf-8")
    (docs_dir / "b" / "notes.txt").write_text("Second notes\nThe panel meets quarterly.\n", encoding="utf-8")
    report = ingest([docs_dir], settings)
    assert [(r.source, r.status) for r in report.files] == [("a/notes.txt", "added"), ("b/notes.txt", "added")]
    files = Store(settings.data_dir).files
    assert files["a/notes.txt"].title == "First notes" and files["b/notes.txt"].title == "Second notes"


def test_the_same_path_under_two_folders_given_is_reported_not_mixed_up(settings, docs_dir: Path):
    for folder, text in (("a", "First notes\nThe forum meets monthly.\n"), ("b", "Second notes\nThe panel meets.\n")):
        (docs_dir / folder).mkdir()
        (docs_dir / folder / "notes.txt").write_text(text, encoding="utf-8")
    report = ingest([docs_dir / "a", docs_dir / "b"], settings)
    assert [r.status for r in report.files] == ["added", "failed"]
    assert "another file with this name" in report.files[1].reason
    assert Store(settings.data_dir).files["notes.txt"].title == "First notes"


def test_hidden_files_readme_and_manifest_are_not_ingested(settings, docs_dir: Path):
    write_good_files(docs_dir)
    (docs_dir / "README.md").write_text("# About these files\n", encoding="utf-8")
    (docs_dir / "manifest.json").write_text("{}", encoding="utf-8")
    (docs_dir / ".draft.txt").write_text("Secret draft.\n", encoding="utf-8")
    report = ingest([docs_dir], settings)
    assert sorted(r.source for r in report.files) == sorted(GOOD_TEXT)


# --- the bundled corpus --------------------------------------------------------------------------------------


def test_opening_an_empty_index_ingests_the_bundled_corpus_first(corpus):
    assert any("is empty: ingesting the bundled corpus" in line for line in corpus.progress)
    added = [line for line in corpus.progress if line.strip().startswith("added")]
    assert len(added) == 5
    store = corpus.bot.pipeline.store
    assert set(store.files) == CORPUS_SOURCES
    assert store.collection.count() == sum(r.chunks for r in store.files.values())
    assert store.files["cfosp-agenda-pack-2023-05-24.pdf"].paged is True


def test_ingesting_the_corpus_again_writes_nothing(corpus):
    store = corpus.bot.pipeline.store
    before = (store.collection.count(), {s: r.sha256 for s, r in store.files.items()})
    report = ingest([corpus.settings.corpus_dir], corpus.settings)
    assert [r.status for r in report.files] == ["unchanged"] * 5
    assert report.chunks_written == 0
    assert {r.source: r.chunks for r in report.files} == {s: r.chunks for s, r in store.files.items()}
    after = Store(corpus.settings.data_dir)
    assert (after.collection.count(), {s: r.sha256 for s, r in after.files.items()}) == before


# --- incremental and idempotent ------------------------------------------------------------------------------


def test_ingesting_twice_writes_no_new_chunks(settings, docs_dir: Path):
    write_good_files(docs_dir)
    first = ingest([docs_dir], settings)
    count = collection_count(settings)
    ids = sorted(Store(settings.data_dir).collection.get()["ids"])
    second = ingest([docs_dir], settings)
    assert first.count("added") == 3 and first.chunks_written == count
    assert [r.status for r in second.files] == ["unchanged"] * 3
    assert second.chunks_written == 0
    assert second.to_json()["unchanged"] == 3 and second.to_json()["added"] == 0
    assert collection_count(settings) == count
    assert sorted(Store(settings.data_dir).collection.get()["ids"]) == ids


def test_re_chunking_an_unchanged_file_makes_what_is_derived_from_its_chunks_stale(settings, docs_dir: Path):
    # the keyword index, the commitments register and another process's loaded index are rebuilt when the store's
    # fingerprint changes: another pipeline (a newer sendbot, other chunk sizes) re-chunking the same bytes must
    # change it, as new bytes do
    from commitments.register import update_register
    from index.keyword import KeywordIndex

    write_good_files(docs_dir)
    ingest([docs_dir], settings)
    before = Store(settings.data_dir).fingerprint
    assert update_register(settings).fingerprint == before
    settings = dataclasses.replace(settings, chunk_tokens=settings.chunk_tokens - 50)
    again = ingest([docs_dir], settings)
    assert {r.status for r in again.files} == {"updated"}
    after = Store(settings.data_dir).fingerprint
    assert after != before
    assert KeywordIndex.load(settings.bm25_dir).fingerprint == after
    assert update_register(settings).fingerprint == after


def test_a_changed_file_replaces_its_chunks_whole(settings, docs_dir: Path):
    write_good_files(docs_dir)
    ingest([docs_dir], settings)
    note = docs_dir / "transport-note.txt"
    note.write_text("Transport note\nFrom September the minibus leaves at 9.40am from the leisure centre.\n"
                    "Parents should book a seat by Friday.\n", encoding="utf-8")
    report = ingest([docs_dir], settings)
    statuses = {r.source: r.status for r in report.files}
    assert statuses == {"transport-note.txt": "updated", "therapy.md": "unchanged", "short-breaks.html": "unchanged"}

    store = Store(settings.data_dir)
    assert store.files["transport-note.txt"].sha256 == load_document(note).sha256
    assert store.collection.count() == sum(r.chunks for r in store.files.values())
    stored = store.collection.get(where={"source": "transport-note.txt"}, include=["documents", "metadatas"])
    assert {m["sha256"] for m in stored["metadatas"]} == {store.files["transport-note.txt"].sha256}
    assert not any("8.15am" in text for text in stored["documents"])

    bot = SendBot(settings)
    passages = bot.pipeline.retriever.search(prepare_query("When does the minibus leave?"), 5).passages
    assert any("9.40am" in p.chunk.text for p in passages)
    assert not any("8.15am" in p.chunk.text for p in passages)
    answer = bot.ask("What time does the minibus leave?")
    assert "9.40am" in answer.text and "8.15am" not in answer.text


def test_deleted_files_stay_indexed_without_prune_and_go_with_prune(settings, docs_dir: Path):
    write_good_files(docs_dir)
    ingest([docs_dir], settings)
    therapy_chunks = Store(settings.data_dir).files["therapy.md"].chunks
    (docs_dir / "therapy.md").unlink()

    kept = ingest([docs_dir], settings)
    assert {r.status for r in kept.files} == {"unchanged"}
    assert "therapy.md" in Store(settings.data_dir).files
    assert any("Speech and language therapy" in t for t in live_texts(settings))

    pruned = ingest([docs_dir], settings, prune=True)
    removed = [r for r in pruned.files if r.status == "removed"]
    assert [(r.source, r.chunks) for r in removed] == [("therapy.md", therapy_chunks)]
    store = Store(settings.data_dir)
    assert set(store.files) == {"transport-note.txt", "short-breaks.html"}
    assert store.collection.get(where={"source": "therapy.md"})["ids"] == []
    assert store.collection.count() == sum(r.chunks for r in store.files.values())
    assert not any("Speech and language therapy" in t for t in live_texts(settings))


def test_removing_a_document_through_the_bot_makes_it_unsearchable(settings, docs_dir: Path):
    write_good_files(docs_dir)
    bot = SendBot.open(settings)
    bot.ingest([docs_dir])
    assert bot.remove("short-breaks.html") is True and bot.remove("short-breaks.html") is False
    passages = bot.pipeline.retriever.search(prepare_query("Where are overnight short breaks offered?"), 5).passages
    assert passages and all(p.chunk.source != "short-breaks.html" for p in passages)


def test_chunks_of_an_interrupted_ingest_are_never_searched_and_are_collected_next_time(settings, docs_dir: Path):
    write_good_files(docs_dir)
    ingest([docs_dir], settings)
    store = Store(settings.data_dir)
    count = store.collection.count()

    # Simulate a crash after Chroma got the chunks but before files.json listed them: a new version of a known
    # file, and a new file, both written to the collection only.
    note = docs_dir / "transport-note.txt"
    note.write_text("Transport note\nThe minibus is cancelled until further notice, says the zebra timetable.\n",
                    encoding="utf-8")
    draft = docs_dir / "draft.txt"
    draft.write_text("Draft\nThe quokka sensory room opens at Easter.\n", encoding="utf-8")
    half_written = []
    for path in (note, draft):
        doc = load_document(path)
        chunks = chunk_document(doc, count_tokens)
        store.collection.upsert(
            ids=[c.id for c in chunks], embeddings=get_embedder().encode([c.search_text for c in chunks]),
            documents=[c.text for c in chunks],
            metadatas=[c.metadata() for c in chunks],
        )
        half_written += [c.id for c in chunks]
    assert store.collection.count() == count + len(half_written)  # precondition: they really are in Chroma

    bot = SendBot(settings)
    assert not any(c.id in half_written for c in bot.pipeline.retriever.chunks)
    for question in ("When does the zebra timetable cancel the minibus?", "When does the quokka sensory room open?"):
        passages = bot.pipeline.retriever.search(prepare_query(question), 10).passages
        assert passages and not any(p.chunk.id in half_written for p in passages)
        answer = bot.ask(question)
        assert "zebra" not in answer.text and "quokka" not in answer.text

    note.write_text(GOOD_TEXT["transport-note.txt"], encoding="utf-8")  # the file as the registry knows it
    draft.unlink()
    report = ingest([docs_dir], settings)
    assert {r.status for r in report.files} == {"unchanged"}
    after = Store(settings.data_dir)
    assert after.collection.count() == count
    assert after.collection.get(ids=half_written)["ids"] == []


def test_collect_garbage_reports_how_many_stale_chunks_it_removed(settings, docs_dir: Path):
    write_good_files(docs_dir)
    ingest([docs_dir], settings)
    store = Store(settings.data_dir)
    doc = load_document(docs_dir / "therapy.md")
    stale = dataclasses.replace(doc, sha256="f" * 64)
    chunks = chunk_document(stale, count_tokens)
    store.collection.upsert(ids=[c.id for c in chunks], embeddings=get_embedder().encode([c.search_text for c in chunks]),
                            documents=[c.text for c in chunks], metadatas=[c.metadata() for c in chunks])
    assert store.collect_garbage() == len(chunks)
    assert store.collect_garbage() == 0
    assert store.collection.count() == sum(r.chunks for r in store.files.values())


def test_ingest_report_json_counts_each_outcome(settings, docs_dir: Path):
    write_good_files(docs_dir)
    (docs_dir / "empty.txt").write_bytes(b"")
    data = ingest([docs_dir], settings).to_json()
    assert {k: data[k] for k in ("added", "updated", "unchanged", "removed", "failed")} == {
        "added": 3, "updated": 0, "unchanged": 0, "removed": 0, "failed": 1}
    assert data["chunks_written"] == sum(f["chunks"] for f in data["files"])
    assert {f["source"]: f["status"] for f in data["files"]}["empty.txt"] == "failed"


def test_an_encrypted_pdf_with_an_empty_user_password_is_read(settings, docs_dir: Path):
    source = make_pdf(docs_dir.parent / "open.pdf", [["Respite care review, published 2 May 2023."]], "Respite review")
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password="", owner_password="owner-only", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    (docs_dir / "owner-locked.pdf").write_bytes(buffer.getvalue())
    [result] = ingest([docs_dir], settings).files
    assert result.status == "added", result.reason


def test_a_pdf_with_pages_that_have_no_text_goes_in_with_a_note(settings, docs_dir: Path):
    make_pdf(docs_dir / "pack.pdf", [["Agenda", "The panel will consider the SEND strategy."], [], [],
                                     ["Minutes", "The panel noted the SEND strategy update."]])
    report = ingest([docs_dir], settings)
    assert report.files[0].status == "added"
    assert "2 of 4 pages have no text layer" in report.files[0].note


def test_the_unreadable_pages_note_is_kept_on_the_record_and_shown_in_the_listings(settings, docs_dir: Path):
    import json

    from click.testing import CliRunner

    from sendbot.cli import main
    from sendbot.web.render import render_documents_table

    make_pdf(docs_dir / "pack.pdf", [["Agenda", "The panel will consider the SEND strategy."], []])
    (docs_dir / "note.txt").write_text("Short breaks run in the holidays.", encoding="utf-8")
    note = {f.source: f.note for f in ingest([docs_dir], settings).files}["pack.pdf"]
    files = Store(settings.data_dir).files
    assert files["pack.pdf"].note == note and "1 of 2 pages have no text layer" in note and files["note.txt"].note == ""
    env = {"SENDBOT_DATA_DIR": str(settings.data_dir)}
    listed = CliRunner().invoke(main, ["sources"], env=env, catch_exceptions=False).stdout.splitlines()
    assert f"            warning: {note}" in listed and sum("warning:" in line for line in listed) == 1
    as_json = json.loads(CliRunner().invoke(main, ["sources", "--json"], env=env, catch_exceptions=False).stdout)
    assert {d["source"]: d["note"] for d in as_json} == {"note.txt": "", "pack.pdf": note}
    table = render_documents_table(list(files.values()))
    assert table.count("<strong>Warning:</strong>") == 1 and "1 of 2 pages have no text layer" in table
    # a registry written before records had notes still loads, each with no note
    registry = settings.data_dir / "files.json"
    old = {source: {k: v for k, v in record.items() if k != "note"}
           for source, record in json.loads(registry.read_text()).items()}
    registry.write_text(json.dumps(old))
    assert {r.note for r in Store(settings.data_dir).files.values()} == {""}


def test_the_bundled_agenda_pack_has_text_on_every_page(corpus):
    line = next(p for p in corpus.progress if "cfosp-agenda-pack-2023-05-24.pdf" in p)
    assert "added" in line and "no text layer" not in line
