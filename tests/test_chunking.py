"""Chunking: exact slices of page text, sized for MiniLM's window, cut at structure (headings, numbers, tables)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.embedder import MAX_TOKENS, count_tokens
from ingest.chunking import chunk_document, parse_blocks
from ingest.loaders import load_document
from sendbot.core.config import Settings
from sendbot.core.models import Chunk, Document
from support import CORPUS_SOURCES, chunk_page_text, make_doc

WORDS = ("parents carers schools council panel support plans reviews families children services therapy "
         "assessments transport funding training officers forum meetings decisions").split()


def sentence(n_words: int, seed: int = 0, first: str = "The") -> str:
    """A plain sentence of about n_words words ending with a full stop."""
    body = [WORDS[(seed + i * 7) % len(WORDS)] for i in range(n_words - 1)]
    return f"{first} {' '.join(body)}."


def paragraph(target_tokens: int, seed: int = 0, sentence_words: int = 14) -> str:
    """Sentences added until the paragraph has at least target_tokens word pieces."""
    sentences: list[str] = []
    while not sentences or count_tokens([" ".join(sentences)])[0] < target_tokens:
        sentences.append(sentence(sentence_words, seed + len(sentences)))
    return " ".join(sentences)


def chunks(doc: Document, max_tokens: int = 200) -> list[Chunk]:
    return chunk_document(doc, count_tokens, max_tokens, 1)


def window_tokens(chunk: Chunk) -> int:
    """Word pieces MiniLM sees for this chunk, [CLS] and [SEP] included."""
    return count_tokens([chunk.search_text])[0] + 2


def assert_exact_slices(doc: Document, found: list[Chunk]) -> None:
    last_start: dict[int | None, int] = {}
    for chunk in found:
        page = chunk_page_text(doc, chunk)
        assert chunk.text and chunk.text == chunk.text.strip()
        at = page.find(chunk.text, last_start.get(chunk.page, 0))
        assert at >= 0, f"chunk {chunk.id} is not a slice of page {chunk.page} (in order): {chunk.text[:80]!r}"
        last_start[chunk.page] = at


# --- exact slices --------------------------------------------------------------------------------------------


def test_every_corpus_chunk_is_an_exact_slice_of_its_page_text(corpus):
    live, _ = corpus.bot.pipeline.store.load_chunks()
    assert {c.source for c in live} == CORPUS_SOURCES
    for source in CORPUS_SOURCES:
        doc = corpus.document(source)
        mine = sorted((c for c in live if c.source == source), key=lambda c: c.ordinal)
        assert [c.ordinal for c in mine] == list(range(len(mine)))
        assert_exact_slices(doc, mine)


def test_fixture_chunks_are_exact_slices_of_their_pages(minutes_pdf: Path, agenda_md: Path):
    for path in (minutes_pdf, agenda_md):
        doc = load_document(path)
        assert_exact_slices(doc, chunks(doc))


def test_chunks_carry_the_documents_metadata_and_unique_ids(minutes_pdf: Path):
    doc = load_document(minutes_pdf)
    found = chunks(doc)
    assert len({c.id for c in found}) == len(found)
    assert [c.ordinal for c in found] == list(range(len(found)))
    assert all(c.id.startswith(f"{doc.source}:{doc.sha256[:12]}:") for c in found)
    assert {(c.source, c.sha256, c.title, c.date, c.kind) for c in found} == {
        (doc.source, doc.sha256, doc.title, doc.date, doc.kind)}
    assert {c.page for c in found} == {1, 2, 3, 4, 5, 6}


def test_chunks_of_unpaged_documents_have_no_page_number():
    found = chunks(make_doc("Transport\n" + paragraph(80)))
    assert found and all(c.page is None for c in found)


# --- MiniLM's window -----------------------------------------------------------------------------------------


def test_every_corpus_chunk_fits_minilms_window(corpus):
    live, _ = corpus.bot.pipeline.store.load_chunks()
    too_long = [(c.id, window_tokens(c)) for c in live if window_tokens(c) > MAX_TOKENS]
    assert not too_long, f"chunks longer than {MAX_TOKENS} word pieces with their context: {too_long}"


def test_fixture_chunks_fit_minilms_window(minutes_pdf: Path, agenda_md: Path):
    settings = Settings()
    for path in (minutes_pdf, agenda_md):
        found = chunk_document(load_document(path), count_tokens, settings.chunk_tokens, settings.chunk_overlap_sentences)
        too_long = [(c.id, window_tokens(c)) for c in found if window_tokens(c) > MAX_TOKENS]
        assert not too_long


def test_carried_overlap_sentence_never_pushes_a_chunk_past_the_window():
    # A paragraph whose last sentence is long, then a paragraph that just fits on its own: repeating that
    # sentence at the start of the next chunk must not make the chunk longer than the model reads.
    first = " ".join([sentence(20, 1), sentence(20, 2), sentence(20, 3), sentence(110, 4, "Families")])
    second = " ".join([sentence(60, 5), sentence(60, 6), sentence(60, 7)])
    sizes = count_tokens([first, second])
    assert all(150 < s <= 200 for s in sizes), sizes  # precondition: each paragraph fits alone
    found = chunks(make_doc(f"{first}\n{second}", title="Panel notes"))
    assert [window_tokens(c) for c in found if window_tokens(c) > MAX_TOKENS] == []
    assert all(count_tokens([c.text])[0] <= 200 for c in found), [count_tokens([c.text])[0] for c in found]


def test_a_paragraph_longer_than_the_window_is_split_into_sentence_windows():
    long = paragraph(600, seed=3)
    doc = make_doc(long)
    found = chunks(doc)
    assert len(found) >= 3
    assert all(count_tokens([c.text])[0] <= 200 for c in found)
    assert_exact_slices(doc, found)
    assert found[-1].text.endswith(long[-40:])  # nothing is lost at the end
    assert all(c.text.endswith(".") for c in found)  # cut between sentences


def test_a_run_on_sentence_longer_than_the_window_is_split_between_words():
    run_on = " ".join(WORDS[i % len(WORDS)] for i in range(400))
    assert count_tokens([run_on])[0] > 200  # precondition
    doc = make_doc(run_on)
    found = chunks(doc)
    assert len(found) >= 2
    assert all(window_tokens(c) <= MAX_TOKENS for c in found)
    assert_exact_slices(doc, found)
    assert " ".join(c.text for c in found).split() == run_on.split()


# --- structure -----------------------------------------------------------------------------------------------


def test_a_heading_starts_the_chunk_of_the_text_under_it():
    first, second = paragraph(150, seed=1), paragraph(40, seed=9)
    doc = make_doc(f"Transport\n{first}\nShort breaks\n{second}")
    found = chunks(doc)
    assert len(found) == 2  # the heading would have fitted in the first chunk: it is moved, not squeezed in
    assert found[0].text == f"Transport\n{first}"
    assert found[1].text == f"Short breaks\n{second}"
    assert (found[0].section, found[1].section) == ("Transport", "Short breaks")


def test_the_last_item_of_a_list_without_bullets_stays_in_the_list_though_a_paragraph_follows_it():
    """PDF text loses bullet glyphs: the last item is followed by a paragraph, as a heading is, but it is an item."""
    text = ("Developing pathways by focusing on outcomes in four key areas:\nIndependent living\nEmployment\n"
            "Community inclusion\nLiving healthily\nImproving transition and annual reviews for young people in Year 9.")
    assert [b.kind for b in parse_blocks(text)] == ["paragraph"] * 6
    assert [c.section for c in chunks(make_doc(text))] == [""]
    # one item after a lead-in is no list yet: the heading-shaped line after it still heads what follows
    text = "The priorities are as follows:\nA Person-Centred Approach\nImprovements\nParent carers feel better informed."
    assert [b.kind for b in parse_blocks(text)] == ["paragraph", "paragraph", "heading", "paragraph"]


def test_a_heading_above_a_paragraph_longer_than_the_window_stays_with_its_first_part():
    long = paragraph(600, seed=3)
    found = chunks(make_doc(f"High needs funding\n{long}"))
    assert found[0].text.startswith("High needs funding\n"), [c.text[:40] for c in found]
    assert found[0].text != "High needs funding", "the heading was left alone in a chunk of its own"
    assert all(c.section == "High needs funding" for c in found)


def test_a_long_section_keeps_its_heading_as_section_and_context_in_every_chunk():
    body = "\n".join(paragraph(120, seed=s) for s in range(4))
    found = chunks(make_doc(f"Home to school transport\n{body}", title="Transport policy"))
    assert len(found) >= 3
    assert all(c.section == "Home to school transport" for c in found)
    assert all(c.context == "Transport policy | Home to school transport" for c in found)
    assert found[0].text.startswith("Home to school transport\n")


def test_consecutive_chunks_of_running_text_overlap_by_one_sentence():
    paragraphs = [paragraph(120, seed=s) for s in range(3)]
    found = chunks(make_doc("\n".join(paragraphs)))
    assert len(found) >= 2
    for before, after in zip(found, found[1:]):
        last_sentence = before.text.rsplit(". ", 1)[-1]
        assert after.text.startswith(last_sentence), (before.text[-80:], after.text[:80])


def test_numbered_paragraphs_start_new_chunks_once_the_chunk_is_big_enough():
    items = [f"{n}. {paragraph(70, seed=n)}" for n in range(1, 5)]
    assert all(count_tokens([i])[0] >= 60 for i in items)  # precondition: each item alone is "big enough"
    found = chunks(make_doc("\n".join(items)))
    assert [c.text for c in found] == items


def test_short_numbered_items_are_packed_together():
    intro = "The panel agreed the following actions at the meeting."
    items = ["1. Publish the plan.", "2. Review the backlog monthly.", "3. Report back in June.", "4. Meet the forum."]
    found = chunks(make_doc("\n".join([intro, *items])))
    assert len(found) == 1 and found[0].text == "\n".join([intro, *items])


def test_a_numbered_paragraph_joins_a_chunk_that_is_still_small():
    intro = sentence(20, 2)  # well under the soft-break size
    item = f"1. {paragraph(70, seed=4)}"
    found = chunks(make_doc(f"{intro}\n{item}"))
    assert len(found) == 1 and found[0].text == f"{intro}\n{item}"


def test_table_rows_carry_the_header_row_in_context_in_every_chunk():
    header = "Name\tRole\tTeam"
    rows = [f"Person {n}\tSENCo at primary school number {n}\t{'North' if n % 2 else 'South'}" for n in range(1, 41)]
    before = "The SENCo network met in May and agreed its membership."
    after = "The next network meeting is in September and is open to all schools."
    doc = make_doc("\n".join([before, header, *rows, after]), title="SENCo network")
    found = chunks(doc)
    row_chunks = [c for c in found if "Person " in c.text]
    assert len(row_chunks) >= 2  # the table is longer than one chunk
    assert all(c.context == "SENCo network | Name | Role | Team" for c in row_chunks)
    assert all("Person" not in c.text for c in found if c.text.startswith(before) or c.text.startswith(after))
    paragraph_chunks = [c for c in found if before in c.text or after in c.text]
    assert all("Name | Role" not in c.context for c in paragraph_chunks)
    assert all("Person" not in c.text for c in paragraph_chunks)  # a table starts and ends its own chunks
    assert sum(c.text.count("Person ") for c in row_chunks) == 40  # rows are not repeated across chunks


@pytest.mark.parametrize("max_tokens", [120, 200])
def test_chunk_size_follows_the_setting(max_tokens: int):
    body = "\n".join(paragraph(90, seed=s) for s in range(6))
    found = chunks(make_doc(body), max_tokens)
    assert all(count_tokens([c.text])[0] <= max_tokens for c in found)
    assert len(found) >= 3
