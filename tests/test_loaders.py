"""Loading each supported format into normalised page text, with metadata from manifest.json or the document."""

from __future__ import annotations

import json
import re
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader

from index.embedder import count_tokens
from ingest.chunking import chunk_document
from ingest.loaders import LoadError, decode_text, load_document, markdown_to_text
from ingest.pdf_text import join_pdf_lines, mend_broken_words
from test_ingest import make_pdf

LIGATURES = re.compile("[\ufb00-\ufb06]")


def chunks_of(path: Path):
    doc = load_document(path)
    return doc, chunk_document(doc, count_tokens)


# --- plain text ----------------------------------------------------------------------------------------------


def test_txt_without_manifest_takes_title_from_first_line_and_date_from_text(docs_dir: Path):
    path = docs_dir / "parent-update.txt"
    path.write_text("\n\n  Parent carer update  \n\nThe forum met on 12 March 2024 to discuss transport.\r\n"
                    "Next meeting in June.\n", encoding="utf-8")
    doc = load_document(path)
    assert doc.title == "Parent carer update"
    assert doc.date == "2024-03-12"
    assert doc.source == "parent-update.txt"
    assert doc.kind == "forum update"  # guessed from "update" in the name
    assert doc.paged is False and [p.number for p in doc.pages] == [1]
    assert doc.pages[0].text == ("Parent carer update\n\nThe forum met on 12 March 2024 to discuss transport.\n"
                                 "Next meeting in June.")


def test_txt_with_no_date_and_no_kind_hint_gets_empty_date_and_kind_document(docs_dir: Path):
    path = docs_dir / "notes.txt"
    path.write_text("Speech and language therapy\nSessions run weekly in term time.\n", encoding="utf-8")
    doc = load_document(path)
    assert (doc.title, doc.date, doc.kind, doc.publisher) == ("Speech and language therapy", "", "document", "")


def test_utf16_text_with_bom_is_decoded(docs_dir: Path):
    text = "Café support – the SENCo’s “drop-in” costs £0 and runs 9–11am.\nSecond line ü.\n"
    path = docs_dir / "utf16.txt"
    path.write_bytes(text.encode("utf-16"))  # Python writes the BOM
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    doc = load_document(path)
    assert doc.pages[0].text == "Café support – the SENCo’s “drop-in” costs £0 and runs 9–11am.\nSecond line ü."


def test_windows_1252_text_is_decoded(docs_dir: Path):
    text = "The SENCo’s “drop-in” costs £5 – café open.\n"
    raw = text.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # precondition: this really is not UTF-8
    path = docs_dir / "cp1252.txt"
    path.write_bytes(raw)
    assert load_document(path).pages[0].text == "The SENCo’s “drop-in” costs £5 – café open."


def test_utf8_byte_order_mark_is_dropped():
    assert decode_text("\ufeffHello".encode("utf-8")) == "Hello"


def test_text_in_neither_utf8_nor_windows_1252_is_rejected_with_advice():
    with pytest.raises(LoadError, match="neither UTF-8 nor Windows-1252"):
        decode_text(b"Header \x81\x8d\x8f\x90\x9d")


# --- Markdown ------------------------------------------------------------------------------------------------


MARKDOWN = """# Home to school transport

Children with an **EHC plan** may get free transport. See [the policy](https://example.org/policy) for *details*.
![Bus photo](bus.png)

## Mileage allowance

* Claim `45p` per mile
- Apply by __31 March__

Distance\tRate
Under 10 miles\t<p>45p <i>per</i> mile</p>
Over 10 miles\t<ul style="list-style-type: none"><li>25p per mile</li><li>capped</li>
"""


def test_markdown_markup_is_removed_and_words_kept():
    text = markdown_to_text(MARKDOWN)
    for markup in ("**", "__", "`", "](", "![", "<p>", "</p>", "<i>", "<ul", "<li>", "# "):
        assert markup not in text, f"markup {markup!r} left in {text!r}"
    assert "Children with an EHC plan may get free transport." in text
    assert "See the policy for details." in text
    assert "Bus photo" not in text and "bus.png" not in text
    assert "\u2022 Claim 45p per mile" in text
    assert "\u2022 Apply by 31 March" in text


def test_markdown_headings_become_sections_of_their_chunks(docs_dir: Path):
    path = docs_dir / "transport.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    doc, chunks = chunks_of(path)
    assert doc.title == "Home to school transport"  # first line, with the '#' gone
    by_section = {c.section: c for c in chunks}
    assert "Home to school transport" in by_section
    assert "Children with an EHC plan" in by_section["Home to school transport"].text
    assert any(c.section == "Mileage allowance" and "Claim 45p per mile" in c.text for c in chunks)


def test_markdown_tab_table_rows_keep_cells_and_carry_header_in_context(docs_dir: Path):
    path = docs_dir / "transport.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    doc, chunks = chunks_of(path)
    assert "Under 10 miles\t45p per mile" in doc.text
    row_chunks = [c for c in chunks if "Under 10 miles" in c.text]
    assert row_chunks, "the table row is in no chunk"
    assert all("Distance | Rate" in c.context for c in row_chunks), [c.context for c in row_chunks]
    assert not any(c.section.startswith(("Under 10", "Over 10")) for c in chunks), "a table row became a heading"


def test_markdown_fixture_tables_survive_without_their_html(agenda_md: Path):
    doc, chunks = chunks_of(agenda_md)
    text = doc.text
    for markup in ("<p>", "</p>", "<i>", "</i>", "<ul", "](#)", '<p align="center">'):
        assert markup not in text, f"markup {markup!r} left in the agenda pack text"
    assert "accessed via the Council's Website" in text  # link text kept, target dropped
    assert "Item No\tSubject\tPage No" in text
    assert "Delegates\t429\t333\t95" in text
    assert "Broker and deliver training\t\u2022 56 schools engaged" in text  # cell HTML list becomes bullets
    # rows carry their table's header row as context
    get_safe = [c for c in chunks if "Update on Worcestershire's Get Safe" in c.text]
    assert get_safe and all("Item No | Subject | Page No" in c.context for c in get_safe), [c.context for c in get_safe]
    versions = [c for c in chunks if "Minor amendments - draft to stakeholders" in c.text]
    assert versions and all("Version | Who | Date | Amendments" in c.context for c in versions)


def test_markdown_fixture_has_no_emphasis_or_autolink_markup_left(agenda_md: Path):
    text = load_document(agenda_md).text
    # bold that spans a line break in the source
    assert "**" not in text, [text[max(0, i - 40):i + 40] for i in [m.start() for m in re.finditer(r"\*\*", text)]]
    assert "Re: TWELVE MONTH PROGRESS REVIEW AGAINST YOUR ACCELERATED" in text
    # <https://...> autolinks show as their address
    assert "<https://" not in text
    assert "https://www.worcestershire.gov.uk/getsafe" in text


# --- HTML ----------------------------------------------------------------------------------------------------


HTML_PAGE = """<!doctype html>
<html><head>
<title>Short breaks for disabled children</title>
<meta name="date" content="2023-03-14">
<style>.banner { color: red } /* STYLETEXT */</style>
<script>var SCRIPTTEXT = "tracking";</script>
</head>
<body>
<header><p>HEADERTEXT Worcestershire County Council</p></header>
<nav><ul><li><a href="/">NAVTEXT Home</a></li><li>NAVTEXT Contact</li></ul></nav>
<div class="breadcrumb">BREADCRUMBTEXT Home &gt; SEND</div>
<main>
  <h1>Short breaks</h1>
  <p>Short breaks give parent carers a rest from caring. They are free for families who meet the criteria.</p>
  <h2>Who can apply</h2>
  <p>Children aged 0 to 18 with a disability can apply through the Family Front Door.</p>
  <ul><li>Call the Family Front Door</li><li>Fill in the online form</li></ul>
  <h2>What is offered</h2>
  <table>
    <tr><th>Service</th><th>Hours per year</th></tr>
    <tr><td>Overnight stays</td><td>120</td></tr>
    <tr><td>Day activities</td><td>60</td></tr>
  </table>
  <script>document.write("SCRIPTTEXT inside main")</script>
</main>
<footer><p>FOOTERTEXT Copyright 2023</p></footer>
</body></html>
"""


def test_html_keeps_main_text_only(docs_dir: Path):
    path = docs_dir / "short-breaks.html"
    path.write_text(HTML_PAGE, encoding="utf-8")
    doc = load_document(path)
    for noise in ("NAVTEXT", "HEADERTEXT", "FOOTERTEXT", "SCRIPTTEXT", "STYLETEXT", "BREADCRUMBTEXT", "color: red"):
        assert noise not in doc.text, f"{noise} leaked into the page text"
    assert "Short breaks give parent carers a rest from caring." in doc.text
    assert "Children aged 0 to 18 with a disability can apply through the Family Front Door." in doc.text
    assert "\u2022 Call the Family Front Door" in doc.text


def test_html_without_main_element_still_drops_page_furniture(docs_dir: Path):
    path = docs_dir / "no-main.html"
    body = HTML_PAGE.replace("<main>", "<div>").replace("</main>", "</div>")
    path.write_text(body, encoding="utf-8")
    doc = load_document(path)
    for noise in ("NAVTEXT", "HEADERTEXT", "FOOTERTEXT", "SCRIPTTEXT", "STYLETEXT"):
        assert noise not in doc.text
    assert "Short breaks give parent carers a rest from caring." in doc.text


def test_html_metadata_comes_from_title_and_meta_date(docs_dir: Path):
    path = docs_dir / "short-breaks.html"
    path.write_text(HTML_PAGE, encoding="utf-8")
    doc = load_document(path)
    assert doc.title == "Short breaks for disabled children"
    assert doc.date == "2023-03-14"
    assert doc.kind == "web page"


def test_html_headings_become_sections(docs_dir: Path):
    path = docs_dir / "short-breaks.html"
    path.write_text(HTML_PAGE, encoding="utf-8")
    doc, chunks = chunks_of(path)
    intro = [c for c in chunks if "rest from caring" in c.text]
    assert intro and intro[0].section == "Short breaks" and intro[0].text.startswith("Short breaks\n")
    apply = [c for c in chunks if "Family Front Door." in c.text]
    assert apply and apply[0].section == "Who can apply"
    assert apply[0].text.startswith("Who can apply\n")
    assert "Who can apply" in apply[0].context


def test_html_table_rows_keep_cells_and_carry_their_header(docs_dir: Path):
    path = docs_dir / "short-breaks.html"
    path.write_text(HTML_PAGE, encoding="utf-8")
    doc, chunks = chunks_of(path)
    assert "Service\tHours per year\nOvernight stays\t120\nDay activities\t60" in doc.text
    rows = [c for c in chunks if "Overnight stays" in c.text]
    assert rows and "Service | Hours per year" in rows[0].context
    assert not any(c.section.startswith(("Overnight", "Day activities")) for c in chunks), "a row became a heading"


def test_html_heading_directly_above_a_table_is_the_tables_section(docs_dir: Path):
    path = docs_dir / "short-breaks.html"
    path.write_text(HTML_PAGE, encoding="utf-8")
    _, chunks = chunks_of(path)
    rows = [c for c in chunks if "Overnight stays" in c.text]
    assert rows and rows[0].section == "What is offered", [(c.section, c.text[:40]) for c in chunks]
    assert {c.section for c in chunks} == {"Short breaks", "Who can apply", "What is offered"}


# --- PDF -----------------------------------------------------------------------------------------------------


def test_pdf_fixture_keeps_its_six_pages_and_their_numbers(minutes_pdf: Path):
    doc = load_document(minutes_pdf)
    assert doc.paged is True
    assert [p.number for p in doc.pages] == [1, 2, 3, 4, 5, 6]
    assert all(p.text for p in doc.pages)


@pytest.mark.parametrize(("sentence", "page"), [
    ("He believed that the number of cases going to tribunals should be the exception", 2),
    ("There were 1,000 children currently waiting to have an EHCP completed, "
     "but all would be completed by the end of August 2022.", 6),
    ("The Panel was informed that there were nearly 3,000 children with SEND supported in over 220 schools", 3),
])
def test_pdf_sentence_lands_on_its_page(minutes_pdf: Path, sentence: str, page: int):
    doc = load_document(minutes_pdf)
    pages_with = [p.number for p in doc.pages if sentence in p.text]
    assert pages_with == [page]
    chunks = chunk_document(doc, count_tokens)
    holding = [c for c in chunks if sentence[:60] in c.text]
    assert holding and {c.page for c in holding} == {page}


def test_pdf_ligatures_are_normalised(minutes_pdf: Path):
    raw = "".join(p.extract_text() for p in PdfReader(minutes_pdf).pages)
    assert "\ufb01" in raw and "\ufb00" in raw  # precondition: pypdf really yields ﬁ and ﬀ here
    doc = load_document(minutes_pdf)
    assert not LIGATURES.search(doc.text)
    assert "significant weaknesses identified" in doc.text
    assert "some recent movement of staff" in doc.pages[1].text


def test_pdf_wrapped_lines_are_joined_into_sentences(minutes_pdf: Path):
    raw = PdfReader(minutes_pdf).pages[0].extract_text()
    assert "Ofsted and\nCare Quality Commission" in raw  # precondition: the sentence wraps in the PDF
    doc = load_document(minutes_pdf)
    assert ("The Panel was asked to consider an update on the outcome of the Ofsted and Care Quality Commission (CQC) "
            "Special Education Needs revisit in Worcestershire which took place between 1 and 3 November 2021.") in doc.pages[0].text


def test_pdf_real_hyphen_at_a_line_end_is_kept(minutes_pdf: Path):
    raw = PdfReader(minutes_pdf).pages[3].extract_text()
    assert "re-\nbuilt" in raw  # precondition
    page4 = load_document(minutes_pdf).pages[3].text
    assert "the relationship could be re-built" in page4
    assert "rebuilt" not in page4 and "re- built" not in page4


def test_pdf_metadata_title_and_kind(minutes_pdf: Path):
    doc = load_document(minutes_pdf)
    assert doc.title == "Minutes"  # the PDF's /Title, not its first line
    assert doc.kind == "minutes"  # guessed from the file name
    assert doc.source == minutes_pdf.name


def test_pdf_made_with_reportlab_has_title_date_and_page_numbers(docs_dir: Path):
    from reportlab.pdfgen import canvas

    path = docs_dir / "statement.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.setTitle("Short breaks services statement")
    pdf.drawString(72, 750, "Short breaks services statement, published 3 April 2024.")
    pdf.drawString(72, 730, "Families can ask for an assessment of need at any time.")
    pdf.showPage()
    pdf.drawString(72, 750, "Overnight short breaks are offered at two centres in the county.")
    pdf.showPage()
    pdf.save()
    doc = load_document(path)
    assert doc.title == "Short breaks services statement"
    assert doc.date == PdfReader(path).metadata.creation_date.date().isoformat()  # its own date, not its text's
    assert [p.number for p in doc.pages] == [1, 2]
    assert "two centres" in doc.pages[1].text and "two centres" not in doc.pages[0].text
    chunks = chunk_document(doc, count_tokens)
    assert [c.page for c in chunks if "two centres" in c.text] == [2]


def test_a_pdf_s_blank_page_notice_is_not_text_of_the_document(docs_dir: Path):
    path = make_pdf(docs_dir / "letter.pdf", [
        ["Yours sincerely,", "Katie Moore Regional Lead This page is intentionally left blank"],
        ["This page has been left blank", "This page is intentionally left blank."],
    ])
    doc = load_document(path)
    assert doc.pages[0].text == "Yours sincerely,\nKatie Moore Regional Lead"
    assert "blank" not in " ".join(p.text for p in doc.pages)


MADE_UP_PAGE = "\n".join([
    "Short breaks",
    "The council will publish the assessment arrange-",
    "ments for every child who has an education plan and",
    "the arrangements will be reviewed each year; the co-",
    "ordinated review is run by the SEND team and the well-",
    "being survey is run by the parent carer forum in May.",
    "\u2022 Families can ask for the survey results by writing",
    "to the forum, which says it values well-being and Anti-",
    "Bullying work highly, and the county's independent safe-",
    "guarding board will publish the results in the summer.",
    "1. Next steps for the panel in the coming year",
])
OTHER_PAGE = "The safeguarding board and the wellbeing of families matter to the forum."


def test_join_pdf_lines_repairs_words_split_across_lines():
    page, other = join_pdf_lines([MADE_UP_PAGE, OTHER_PAGE])
    assert "publish the assessment arrangements for every child" in page  # "arrangements" is used on the page
    assert "independent safeguarding board will publish" in page  # "safeguarding" is used on another page
    assert "arrange-" not in page and "safe-" not in page
    assert other == OTHER_PAGE


def test_join_pdf_lines_keeps_real_hyphens():
    page, _ = join_pdf_lines([MADE_UP_PAGE, OTHER_PAGE])
    assert "the co-ordinated review" in page  # "coordinated" appears nowhere: a real hyphen
    assert "the well-being survey" in page  # "well-being" is written with a hyphen elsewhere on the page
    assert "Anti-Bullying work" in page  # the next line starts with a capital


def test_join_pdf_lines_rebuilds_paragraphs_and_keeps_block_starts():
    page, _ = join_pdf_lines([MADE_UP_PAGE, OTHER_PAGE])
    lines = page.split("\n")
    assert lines[0] == "Short breaks"  # a short line ends its paragraph
    assert lines[1].startswith("The council will publish") and lines[1].endswith("parent carer forum in May.")
    assert "education plan and the arrangements" in lines[1]  # wrapped lines are joined with a space
    assert lines[2].startswith("\u2022 Families can ask") and lines[2].endswith("in the summer.")
    assert lines[3] == "1. Next steps for the panel in the coming year"
    assert len(lines) == 4


def test_words_a_narrow_table_cell_broke_in_two_are_made_whole_and_real_words_are_left_alone():
    text = "Workstrea m 4 Develop the Carer Ambassad or Scheme. WORKSTRE AM 5: review the plan or the survey s"
    # "ambassador" is a word the encoder knows, "workstream" one the document uses whole elsewhere; "plan" and
    # "survey" are words already, so nothing is joined to them
    assert mend_broken_words(text, {"workstream"}) == ("Workstream 4 Develop the Carer Ambassador Scheme. WORKSTREAM "
                                                       "5: review the plan or the survey s")
    assert mend_broken_words("Workstrea m 7", set()) == "Workstrea m 7"  # no sign that the two make a word
    assert mend_broken_words("including manageme nt training", set()) == "including management training"


def test_the_bundled_agenda_pack_s_action_plan_tables_read_as_whole_words(corpus):
    text = "\n".join(page.text for page in corpus.document("cfosp-agenda-pack-2023-05-24.pdf").pages)
    assert "Carer Ambassador Scheme" in text and "Workstream 6" in text
    assert "Workstrea m" not in text and "Recruitme nt" not in text and "manageme nt" not in text


def test_join_pdf_lines_handles_empty_pages():
    assert join_pdf_lines(["", "One line only."]) == ["", "One line only."]


# --- DOCX ----------------------------------------------------------------------------------------------------


def make_docx(path: Path, title: str = "Transport policy", author: str = "Worcestershire County Council") -> None:
    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = author
    document.add_heading("Home to school transport", level=1)
    document.add_paragraph("Children with an EHC plan may qualify for free transport to their nearest suitable school.")
    document.add_heading("Mileage rates", level=2)
    document.add_paragraph("Parents who drive their own child can claim a mileage allowance.")
    table = document.add_table(rows=3, cols=2)
    for i, (distance, rate) in enumerate([("Distance", "Rate"), ("Under 10 miles", "45p per mile"),
                                          ("Over 10 miles", "25p per mile")]):
        table.cell(i, 0).text = distance
        table.cell(i, 1).text = rate
    document.add_heading("How to apply", level=2)
    document.add_paragraph("Apply online before the start of term", style="List Bullet")
    document.save(str(path))


def test_docx_metadata_comes_from_core_properties(docs_dir: Path):
    path = docs_dir / "transport.docx"
    make_docx(path)
    doc = load_document(path)
    assert doc.title == "Transport policy"
    assert doc.publisher == "Worcestershire County Council"
    assert doc.paged is False


def test_docx_without_core_title_takes_first_line(docs_dir: Path):
    path = docs_dir / "untitled.docx"
    make_docx(path, title="")
    assert load_document(path).title == "Home to school transport"


def test_docx_headings_become_sections_and_tables_keep_rows(docs_dir: Path):
    path = docs_dir / "transport.docx"
    make_docx(path)
    doc, chunks = chunks_of(path)
    assert "Distance\tRate\nUnder 10 miles\t45p per mile\nOver 10 miles\t25p per mile" in doc.text
    assert "\u2022 Apply online before the start of term" in doc.text
    first = next(c for c in chunks if "free transport" in c.text)
    assert first.section == "Home to school transport" and first.text.startswith("Home to school transport")
    rows = [c for c in chunks if "45p per mile" in c.text]
    assert rows and all(c.section == "Mileage rates" and "Distance | Rate" in c.context for c in rows)
    assert {c.section for c in chunks} == {"Home to school transport", "Mileage rates", "How to apply"}


# --- a file's own date --------------------------------------------------------------------------------------


def _pdf_with_metadata(source: Path, path: Path, metadata: dict | None) -> Path:
    """A copy of `source` whose document information is `metadata` (None: only a title, no dates)."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    if metadata is None:
        writer.metadata = {"/Title": "Transport review"}
    else:
        writer.add_metadata(metadata)
    writer.write(path)
    return path


def test_pdf_and_html_are_dated_by_their_own_metadata_before_a_date_in_their_text(docs_dir: Path):
    from reportlab.pdfgen import canvas

    drawn = docs_dir.parent / "drawn.pdf"
    pdf = canvas.Canvas(str(drawn))
    pdf.drawString(72, 750, "Transport review. The panel met on 12 January 2020 to discuss school transport.")
    pdf.showPage()
    pdf.save()
    created = _pdf_with_metadata(drawn, docs_dir / "created.pdf", {"/CreationDate": "D:20240301090000+00'00'",
                                                                   "/ModDate": "D:20240510090000+00'00'"})
    assert load_document(created).date == "2024-03-01"
    bad_created = _pdf_with_metadata(drawn, docs_dir / "modified.pdf", {"/CreationDate": "not a date",
                                                                        "/ModDate": "D:20240510090000+00'00'"})
    assert load_document(bad_created).date == "2024-05-10"  # an unreadable creation date: the modification date
    assert load_document(_pdf_with_metadata(drawn, docs_dir / "bare.pdf", None)).date == "2020-01-12"  # no own date

    page = ("<html><head><title>Transport</title>{meta}</head><body><main><h1>Transport</h1>"
            "<p>The panel met on 12 January 2020 to discuss school transport.</p></main></body></html>")
    (docs_dir / "og.html").write_text(page.format(
        meta='<meta property="article:published_time" content="2023-06-01T10:00:00+00:00">'), encoding="utf-8")
    (docs_dir / "dc.html").write_text(page.format(meta='<meta name="DC.date.issued" content="2022-11-30">'),
                                      encoding="utf-8")
    (docs_dir / "plain.html").write_text(page.format(meta=""), encoding="utf-8")
    assert load_document(docs_dir / "og.html").date == "2023-06-01"
    assert load_document(docs_dir / "dc.html").date == "2022-11-30"
    assert load_document(docs_dir / "plain.html").date == "2020-01-12"  # no date in its markup: the text's

    # what the manifest (or the upload form, which writes it) sets still wins, a null date included
    (docs_dir / "manifest.json").write_text(json.dumps({"created.pdf": {"date": "2019-09-09"}, "og.html": {"date": None}}))
    assert load_document(created).date == "2019-09-09" and load_document(docs_dir / "og.html").date == ""


# --- manifest.json -------------------------------------------------------------------------------------------


def test_manifest_metadata_wins_over_the_documents_own(docs_dir: Path):
    (docs_dir / "statement.html").write_text(HTML_PAGE, encoding="utf-8")
    (docs_dir / "notes.txt").write_text("Panel notes\nThe panel met on 5 May 2022.\n", encoding="utf-8")
    (docs_dir / "other.txt").write_text("Unlisted file\nWritten on 1 June 2021.\n", encoding="utf-8")
    (docs_dir / "manifest.json").write_text(json.dumps({
        "statement.html": {"title": "Short breaks statement", "date": "2022-01-31", "publisher": "WCF",
                           "kind": "policy"},
        "notes.txt": {"title": "Panel notes, spring", "date": None, "period": "spring 2022", "kind": "minutes"},
    }), encoding="utf-8")
    html = load_document(docs_dir / "statement.html")
    assert (html.title, html.date, html.publisher, html.kind) == ("Short breaks statement", "2022-01-31", "WCF", "policy")
    notes = load_document(docs_dir / "notes.txt")
    # a manifest that lists the file is trusted, its null date included
    assert (notes.title, notes.date, notes.period, notes.kind) == ("Panel notes, spring", "", "spring 2022", "minutes")
    other = load_document(docs_dir / "other.txt")
    assert (other.title, other.date) == ("Unlisted file", "2021-06-01")


def test_bundled_corpus_metadata_comes_from_its_manifest(corpus):
    manifest = json.loads((corpus.settings.corpus_dir / "manifest.json").read_text(encoding="utf-8"))
    records = corpus.bot.pipeline.store.files
    assert set(records) == set(manifest)
    for source, entry in manifest.items():
        record = records[source]
        assert record.title == entry["title"]
        assert record.date == (entry["date"] or "")
        assert record.publisher == entry["publisher"]
        assert record.kind == entry["kind"]
        assert record.period == entry.get("period", "")


def test_invalid_manifest_is_reported_as_a_load_error(docs_dir: Path):
    (docs_dir / "notes.txt").write_text("Some notes.\n", encoding="utf-8")
    (docs_dir / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(LoadError, match="manifest.json is not valid JSON"):
        load_document(docs_dir / "notes.txt")


def test_markdown_constructs_the_line_rules_missed_are_rendered_as_text():
    text = markdown_to_text("Transport\n=========\n\n> Quoted advice.\n\nSee [the policy][p]. Costs \\*not\\* 5\\_000 &amp; more.\n\n"
                            "| Distance | Rate |\n|---|---|\n| Under 10 miles | 45p |\n\n[p]: https://example.org\n")
    assert "\nTransport\n" in "\n" + text and "===" not in text
    assert "Quoted advice." in text and ">" not in text
    assert "See the policy." in text and "Costs *not* 5_000 & more." in text
    assert "Distance\tRate\nUnder 10 miles\t45p" in text
