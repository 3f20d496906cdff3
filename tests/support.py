"""Helpers shared by the core tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sendbot.core.models import Answer, Chunk, Document, Page

REPO_DIR = Path(__file__).resolve().parents[1]

CORPUS_SOURCES = {
    "cfosp-agenda-pack-2023-05-24.pdf",
    "cfosp-minutes-ofsted-cqc-send-revisit.txt",
    "local-offer-news-updates.txt",
    "wcf-agm-2024-09-24-parent-carer-questions.txt",
    "wpcf-2024-roundup.txt",
}


def make_doc(*pages: str, title: str = "Test document", source: str = "test.txt", paged: bool = False) -> Document:
    """A Document built straight from page texts (for chunking tests that need no file)."""
    return Document(
        source=source, path=f"/nowhere/{source}", sha256="0" * 64, title=title, date="", period="",
        publisher="", kind="document", pages=tuple(Page(i + 1, text) for i, text in enumerate(pages)), paged=paged,
    )


def page_text(doc: Document, page: int | None) -> str:
    """The text of the page a chunk or citation points at (unpaged documents have one page, numbered 1)."""
    number = page or 1
    return next(p.text for p in doc.pages if p.number == number)


def chunk_page_text(doc: Document, chunk: Chunk) -> str:
    return page_text(doc, chunk.page)


def assert_grounded(answer: Answer, document_for) -> None:
    """Every answer sentence carries citation numbers that exist, and every citation quotes its source verbatim.

    `document_for(source)` returns the document as the loader extracts it from disk.
    """
    numbers = [c.n for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1)), f"citations are not numbered 1..n: {numbers}"
    by_number = {c.n: c for c in answer.citations}
    for sentence in answer.sentences:
        assert sentence.citations, f"answer sentence without a citation: {sentence.text!r}"
        for n in sentence.citations:
            assert n in by_number, f"sentence cites [{n}], which is not in the citations list {numbers}"
        assert any(sentence.text in by_number[n].text for n in sentence.citations), (
            f"answer sentence is not in the passage it cites: {sentence.text!r}")
    for citation in answer.citations:
        assert citation.quote, f"citation [{citation.n}] has an empty quote"
        assert citation.quote in citation.text, f"quote [{citation.n}] is not verbatim in its passage: {citation.quote!r}"
        page = page_text(document_for(citation.source), citation.page)
        assert citation.text in page, f"passage [{citation.n}] is not verbatim on {citation.source} page {citation.page}"
        assert citation.quote in page, f"quote [{citation.n}] is not verbatim on {citation.source} page {citation.page}"
        assert any(n == citation.n for s in answer.sentences for n in s.citations), (
            f"citation [{citation.n}] is listed but no sentence uses it")


def run_sendbot(exe: Path, args: list[str], data_dir: Path | None, stdin: str | None = None,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `sendbot ARGS` with a clean SENDBOT_* environment (plus `env`), capturing text output."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SENDBOT_")}
    if data_dir is not None:
        clean["SENDBOT_DATA_DIR"] = str(data_dir)
    clean.update(env or {})
    return subprocess.run([str(exe), *args], input=stdin, capture_output=True, text=True, env=clean,
                          cwd=REPO_DIR, timeout=600)


def make_chunk(text: str, **fields) -> Chunk:
    """A Chunk with the given text and defaults for everything else (for stage tests that need no index)."""
    values = dict(id="test.txt:000000000000:0000", source="test.txt", sha256="0" * 64, ordinal=0, page=None,
                  section="", text=text, context="", title="Test document", date="", period="", kind="document",
                  publisher="")
    return Chunk(**{**values, **fields})
