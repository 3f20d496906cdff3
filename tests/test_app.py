"""The web app: the pure HTML rendering (sendbot/web/render.py), upload staging (ingest/uploads.py), the handlers
called directly without a server (sendbot/web/handlers.py), the Blocks layout, the shared command-line options,
then the real server (app.py) in a subprocess driven over HTTP and the Gradio API with gradio_client (the API
answers, filters, 20 concurrent requests, the document route, uploads and the feedback download for a signed-in
administrator only). Hostile cases (anonymous uploads, password guessing, swapped links, failing answers) are in
tests/hostile/test_hostile_web.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import gradio as gr
import httpx
import pytest
from click.testing import CliRunner

import app
from ingest import uploads
from sendbot.core.config import Settings
from sendbot.core.dates import parse_day
from app_server import AGENDA, AGENDA_FACT_PAGE, FakeBot, admin_client, answer_with, citation, file_record, sign_in
from dataclasses import replace

from sendbot.core.models import CITATION_FIELDS, Answer, AnswerSentence, Filters, Passage
from support import make_chunk
from sendbot.core.prompts import prompts
from sendbot.feedback import FeedbackStore
from sendbot.web import render
from sendbot.web.admin import COOKIE, NOT_SIGNED_IN
from sendbot.web.handlers import WebHandlers
from sendbot.web.layout import admin_events, build_blocks
from sendbot.web.options import resolve_address

pytest_plugins = ["app_server"]  # the session-scoped `app_server` fixture: one real server for the session

PROJECT = Path(__file__).resolve().parent.parent
CONTRACT_KEYS = set(Answer("", (), (), refused=True).to_json())  # what `sendbot ask --json` prints
CITATION_KEYS = set(CITATION_FIELDS)


# ---------------------------------------------------------------------------------------------------------------
# Pure helpers (the stand-in bot and the citation builders are in app_server.py)
# ---------------------------------------------------------------------------------------------------------------

def test_resolve_address_prefers_flags_then_gradio_variables_then_loopback_7860():
    assert resolve_address(environ={}) == ("127.0.0.1", 7860)
    env = {"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "8123"}
    assert resolve_address(environ=env) == ("0.0.0.0", 8123)
    assert resolve_address("127.0.0.2", 9000, environ=env) == ("127.0.0.2", 9000)
    with pytest.raises(ValueError, match="GRADIO_SERVER_PORT"):
        resolve_address(environ={"GRADIO_SERVER_PORT": "eighty"})


def test_answer_html_links_each_marker_to_its_numbered_card_and_escapes_document_text():
    first = citation()
    second = citation(n=2, source="local-offer-news-updates.txt", page=None, text="<script>alert(1)</script> Fine.",
                      quote="Fine.", title="News", section="News", date="", period="late 2021 to 2022", kind="web page")
    html = render.render_answer(answer_with(first, second), turn=3)
    assert 'href="#sb-t3-source-1"' in html and 'id="sb-t3-source-1"' in html
    assert 'href="#sb-t3-source-2"' in html and 'id="sb-t3-source-2"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Agenda pack &lt;24 May 2023&gt; &amp; more" in html and "Broker &amp; deliver training" in html
    assert f'href="documents/{AGENDA}#page=10"' in html  # a PDF opens at its page
    assert 'href="documents/local-offer-news-updates.txt?quote=Fine.#sb-passage"' in html  # a text file at the passage
    assert "<mark>• 159 Mental Health Leaders trained (59%)</mark>" in html
    assert "24 May 2023" in html and "page 10" in html and "agenda and reports" in html
    # an undated document shows its period and the dates the filters use for it
    assert "late 2021 to 2022 (date filters use September 2021 to December 2022)" in html
    assert '<h3 class="sb-subhead sb-sources-title">Where this comes from</h3>' in html  # a real heading
    assert 'role="tooltip"' in html and 'aria-describedby="sb-t3-s0-tip-1"' in html  # the marker's preview
    assert '<a class="sb-tool sb-share" href="?q=How+many%3F">' in html


def test_an_answer_copies_as_plain_text_with_its_numbered_sources():
    first = citation()
    second = citation(n=2, source="news.txt", page=None, quote="Fine.", text="Fine.", title="News", date="")
    text = render.plain_text(answer_with(first, second), render.Around(asked="How many <leaders>?"))
    assert text.splitlines() == [
        "How many <leaders>?", "",
        "• 159 Mental Health Leaders trained (59%) [1]", "Fine. [2]", "", "Sources",
        "[1] Agenda pack <24 May 2023> & more, 24 May 2023, page 10",
        '    "• 159 Mental Health Leaders trained (59%)"',
        f"    documents/{AGENDA}#page=10",
        "[2] News, no date",
        '    "Fine."',
        "    documents/news.txt?quote=Fine.#sb-passage",
    ]
    html = render.render_answer(answer_with(first, second), 1, render.Around(asked="How many <leaders>?"))
    assert '<pre class="sb-plain" hidden>How many &lt;leaders&gt;?' in html  # escaped in the page, plain on copy


def test_an_answer_from_documents_of_different_dates_says_when_each_sentence_was_said():
    update = citation(quote="Complaints are answered in 20 days.", text="Complaints are answered in 20 days.")
    plan = citation(n=2, source="plan.txt", page=None, quote="Complaints go to <the> panel.", date="",
                    text="Complaints go to <the> panel.", period="early 2022 (after the revisit)", title="Plan")
    sentences = (AnswerSentence(update.quote, (1,), date=update.date),
                 AnswerSentence(plan.quote, (2,), period=plan.period, earlier=True))
    answer = answer_with(update, plan, sentences=sentences)
    assert answer.spans_dates
    html = render.render_answer(answer, 4)
    said = re.findall(r'<p class="sb-sentence">(.*?) <span class="sb-ref">', html)
    assert said == ['<strong class="sb-said">24 May 2023:</strong> Complaints are answered in 20 days.',
                    '<strong class="sb-said sb-earlier">Earlier, early 2022:</strong> Complaints go to &lt;the&gt; panel.']
    lines = render.plain_text(answer).splitlines()
    assert lines[2:4] == ["24 May 2023: Complaints are answered in 20 days. [1]",
                          "Earlier, early 2022: Complaints go to <the> panel. [2]"]
    # one date (or none) throughout: no labels, in the page or the copy
    same_day = answer_with(update, sentences=(AnswerSentence(update.quote, (1,), date=update.date),) * 2)
    assert not same_day.spans_dates and "sb-said" not in render.render_answer(same_day, 1)
    assert render.plain_text(same_day).splitlines()[2] == "Complaints are answered in 20 days. [1]"


def test_a_follow_up_answer_says_what_it_is_about_and_offers_questions_to_ask_next():
    around = render.Around(asked="can I complain about the delay?", topic="EP assessment",
                           follow_ups=("Reinspection of SEND services", "SEND <Service> update"))
    html = render.render_answer(answer_with(citation()), 2, around)
    assert "Answering about: <strong>EP assessment</strong>" in html
    assert 'data-ask="can I complain about the delay?" data-standalone="1"' in html  # the way to start fresh
    assert '<h3 class="sb-subhead">Ask next</h3>' in html
    assert 'data-ask="SEND &lt;Service&gt; update">SEND &lt;Service&gt; update</button>' in html
    assert "Answering about" not in render.render_answer(answer_with(citation()), 2, render.Around(asked="x"))


def test_a_card_links_to_where_the_council_publishes_the_document_when_it_is_known():
    published = replace(citation(), url="https://example.gov.uk/papers/agenda.pdf#page=10")
    html = render.render_card(published, 1)
    assert 'class="sb-origin-link" href="https://example.gov.uk/papers/agenda.pdf#page=10"' in html
    assert "    https://example.gov.uk/papers/agenda.pdf#page=10" in render.plain_text(answer_with(published))
    assert "sb-origin-link" not in render.render_card(citation(), 1)


def test_a_text_document_reads_as_a_page_with_the_quoted_words_marked(tmp_path):
    from sendbot.web.reading import reading_html, reading_page

    text = "Short breaks\n\nThe scheme offers five stays.\nIt is free.\n\nApply by <May>."
    html = reading_html(text, "five stays.\nIt is free.\n\nApply")
    assert html.startswith("<h2>Short breaks</h2>")  # a heading line reads as a heading
    assert '<p>The scheme offers <mark id="sb-passage">five stays.<br>It is free.</mark></p>' in html
    assert "<p><mark>Apply</mark> by &lt;May&gt;.</p>" in html  # a quote across paragraphs stays marked
    assert 'id="sb-passage"' in reading_html(text, "five   stays. It is free.")  # spacing aside, it is found
    record = file_record(source="sub/note.txt", title="Short <breaks>", date="", kind="minutes")
    page = reading_page(replace(record, period="early 2022"), text.encode(), ".txt", "not in it")
    assert "<title>Short &lt;breaks&gt;</title>" in page and "early 2022 · minutes" in page
    assert '<a href="note.txt">The file itself</a>' in page and "could not be found in this version" in page


def test_highlight_marks_each_quote_merges_overlaps_and_ignores_missing_ones():
    text = "One & two. Three < four.\nFive."
    assert render.highlight(text, ["One & two.", "Five."]) == "<mark>One &amp; two.</mark> Three &lt; four.<br><mark>Five.</mark>"
    assert render.highlight(text, ["One & two. Three", "Three < four."]) == "<mark>One &amp; two. Three &lt; four.</mark><br>Five."
    assert render.highlight(text, ["not there"]) == "One &amp; two. Three &lt; four.<br>Five."


def test_refusal_offers_tappable_topics_the_missing_words_and_where_to_get_help():
    refusal = Answer("capital of France?", (), (), refused=True, message=prompts().refusal.text,
                     nearest_topics=("You can find additional resources on gov.uk to help understand the green",),
                     reason="not_found")
    around = render.Around(asked="capital of France?", filters_note="Searched only documents dated from 1 January 2030.",
                           follow_ups=("SEND Accelerated Progress Plan <APP>", "2024 Roundup"), missing=("france",))
    html = render.render_refusal(refusal, 4, around)
    assert "I couldn&#x27;t find that in these documents" in html
    assert 'class="sb-chip" data-ask="SEND Accelerated Progress Plan &lt;APP&gt;"' in html and ">2024 Roundup</button>" in html
    assert "additional resources on gov.uk" not in html  # the answer layer's cut-off sentence is not offered
    assert "None of the documents uses these words from your question: <strong>france</strong>." in html
    assert "different words" in html and "filters cleared" in html  # the tips for asking again
    assert "SENDIASS" in html and render.esc(prompts().app_signpost.text) in html  # where to get help
    assert render.render_answer(refusal, 4, around) == html
    assert "sb-vote" not in html  # no feedback on a refusal, but it can be copied and shared
    assert "Copy answer" in html and "?q=capital+of+France%3F" in html


def test_dates_and_filters_read_the_way_people_type_them():
    assert parse_day("2023") == date(2023, 1, 1) and parse_day("2023", end=True) == date(2023, 12, 31)
    assert parse_day("2024-02", end=True) == date(2024, 2, 29) and parse_day(" 2023-05-24 ") == date(2023, 5, 24)
    assert parse_day("") is None
    with pytest.raises(ValueError, match="like 24/05/2023, 2023-05-24"):
        parse_day("last May")
    with pytest.raises(ValueError, match="swap"):
        Filters.parse(date_from="2024", date_to="2023")
    filters = Filters.parse(["a.pdf"], ["minutes"], "2023", "2023-06")
    assert filters == Filters(("a.pdf",), ("minutes",), date(2023, 1, 1), date(2023, 6, 30))
    note = render.describe_filters(filters, {"a.pdf": "The A report"})
    assert "The A report" in note and "minutes" in note and "1 January 2023 to 30 June 2023" in note
    assert render.describe_filters(Filters()) == ""


def test_documents_table_and_list_escape_titles_and_link_to_the_document_route():
    record = file_record(source="a b&c.pdf", title="<b>Plan</b>", date="2024-09-24", chunks=12)
    table = render.render_documents_table([record])
    assert "&lt;b&gt;Plan&lt;/b&gt;" in table and "24 September 2024" in table and ">12<" in table
    assert 'href="documents/a%20b%26c.pdf"' in table and "<caption>1 document, newest first" in table
    text = file_record(source="news.txt", title="News", chunks=1)
    assert 'href="documents/news.txt?read=1"' in render.render_documents_table([text])  # the reading page
    assert "&lt;b&gt;Plan&lt;/b&gt;" in render.render_document_list([record])


def test_documents_table_shows_each_synced_documents_origin_last_sync_and_any_warning():
    from ingest.sync.state import Known

    synced = Known("https://council.test/mg/mgConvert2PDF.aspx?ID=5001", "papers", "papers/pack.pdf", "0" * 64,
                   origin={"final_url": "https://council.test/mg/pack.pdf?a=1&b=2"}, checked_at="2026-11-26T10:04:07+00:00")
    records = [replace(file_record(source="papers/pack.pdf", title="Pack"), note="2 of 9 pages have no <text> layer"),
               file_record(source="news.txt", title="News")]
    table = render.render_documents_table(records, {"papers/pack.pdf": synced})
    pack, news = table.split("<tr>")[2:]
    assert '<a href="https://council.test/mg/pack.pdf?a=1&amp;b=2" target="_blank" rel="noopener">' in pack
    assert "Last synced 26 November 2026 at 10:04 UTC" in pack
    assert '<strong>Warning:</strong> 2 of 9 pages have no &lt;text&gt; layer' in pack
    assert "Not synced from the council's sites" in news and "Warning" not in news
    assert Known("https://council.test/x", "papers", "x.pdf", "").url == "https://council.test/x"  # no origin kept


def test_example_questions_come_for_parents_and_for_officers():
    groups = render.load_examples()
    assert any("parent" in heading.lower() for heading in groups)
    assert any("officer" in heading.lower() for heading in groups)
    assert all(len(questions) >= 3 for questions in groups.values())


# ---------------------------------------------------------------------------------------------------------------
# Uploads
# ---------------------------------------------------------------------------------------------------------------

def test_upload_problems_are_explained_in_plain_words(tmp_path):
    ok = tmp_path / "notes.md"
    ok.write_text("Some notes about short breaks.")
    assert uploads.upload_problem(ok, 1) == ""
    exe = tmp_path / "setup.exe"
    exe.write_bytes(b"MZ")
    assert "'.exe' files can't be added" in uploads.upload_problem(exe, 1)
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (2 * 1024 * 1024))
    assert uploads.upload_problem(big, 1) == "the file is 2.0 MB, and the limit is 1 MB."
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert uploads.upload_problem(empty, 1) == "the file is empty."


def test_uploads_are_checked_copied_ingested_and_a_failed_replacement_is_undone(tmp_path):
    uploads_dir = tmp_path / "data" / "uploads"
    uploads_dir.mkdir(parents=True)
    (uploads_dir / "bad-notes.txt").write_text("the version that works")
    incoming = tmp_path / "incoming"
    (incoming / "again").mkdir(parents=True)
    for name, text in [("good.md", "# Good"), ("bad-notes.txt", "a broken version"), ("setup.exe", "MZ")]:
        (incoming / name).write_text(text)
    (incoming / "again" / "good.md").write_text("# Same name")
    steps = []
    bot = FakeBot()
    results = uploads.add_uploads([incoming / "good.md", incoming / "bad-notes.txt", incoming / "setup.exe",
                                   incoming / "again" / "good.md"], bot.ingest, uploads_dir, 1,
                                  lambda done, total: steps.append((done, total)))
    assert results == [
        (False, "setup.exe", "'.exe' files can't be added. Please use PDF, Word (.docx), web page (.html) or text (.txt, .md) files."),
        (False, "good.md", "another file with this name is in the same upload."),
        (True, "good.md", "3 passages can now be searched."),
        (False, "bad-notes.txt", "the text could not be read"),
    ]
    assert bot.ingested == [("good.md", "# Good"), ("bad-notes.txt", "a broken version")]
    assert steps == [(0, 2), (1, 2), (2, 2)]
    assert (uploads_dir / "good.md").read_text() == "# Good"
    assert (uploads_dir / "bad-notes.txt").read_text() == "the version that works"  # put back
    assert sorted(p.name for p in uploads_dir.iterdir()) == ["bad-notes.txt", "good.md"]
    assert "Not added:</strong> setup.exe" in render.render_upload_results(results)


def test_an_uploads_title_date_and_kind_come_from_the_administrator_or_else_the_file_itself(tmp_path):
    import docx
    from datetime import datetime

    from ingest.loaders import load_document
    from sendbot.core.models import FileResult, IngestReport

    loaded = {}

    def ingest(paths, progress):
        report = IngestReport()
        for path in paths:
            failed = "broken" in path.read_bytes().decode("latin-1")
            if not failed:
                loaded[path.name] = load_document(path)
            report.files.append(FileResult(path.name, str(path), "failed" if failed else "added", 0 if failed else 1,
                                           reason="it broke" if failed else ""))
            progress(path.name)
        return report

    source = tmp_path / "in" / "notes.docx"
    source.parent.mkdir()
    document = docx.Document()
    document.core_properties.created = datetime(2024, 3, 1, 9, 0)
    document.add_paragraph("The panel met on 12 January 2020 to discuss short breaks.")
    document.save(str(source))
    uploads_dir = tmp_path / "uploads"
    [result] = uploads.add_uploads([source], ingest, uploads_dir, 5)
    assert result.message == "1 passage can now be searched."  # not "1 passages"
    assert loaded["notes.docx"].date == "2024-03-01"  # the file's own date, not the one in its text
    details = {"title": "Short breaks note", "date": "2023-05-24", "kind": "minutes", "publisher": ""}
    uploads.add_uploads([source], ingest, uploads_dir, 5, details=details)
    doc = loaded["notes.docx"]
    assert (doc.title, doc.date, doc.kind) == ("Short breaks note", "2023-05-24", "minutes")
    assert json.loads((uploads_dir / "manifest.json").read_text()) == {
        "notes.docx": {"title": "Short breaks note", "date": "2023-05-24", "kind": "minutes"}}
    broken = tmp_path / "in" / "broken.txt"
    broken.write_text("broken")
    [failed] = uploads.add_uploads([broken], ingest, uploads_dir, 5, details={"title": "Broken"})
    assert not failed.added and "broken.txt" not in json.loads((uploads_dir / "manifest.json").read_text())
    uploads.add_uploads([source], ingest, uploads_dir, 5)  # added again with nothing set: the file's own again
    assert loaded["notes.docx"].date == "2024-03-01" and json.loads((uploads_dir / "manifest.json").read_text()) == {}
    # a PDF and a web page are dated by their own metadata too, not by the date in their text
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(tmp_path / "drawn.pdf"))
    pdf.drawString(72, 750, "The panel met on 12 January 2020 to discuss short breaks.")
    pdf.save()
    writer = PdfWriter(clone_from=PdfReader(tmp_path / "drawn.pdf"))
    writer.add_metadata({"/CreationDate": "D:20240415120000+01'00'"})
    writer.write(tmp_path / "in" / "breaks.pdf")
    (tmp_path / "in" / "breaks.html").write_text(
        '<html><head><title>Breaks</title><meta name="dc.date" content="2023-10-02"></head>'
        "<body><p>The panel met on 12 January 2020 to discuss short breaks.</p></body></html>", encoding="utf-8")
    uploads.add_uploads([tmp_path / "in" / "breaks.pdf", tmp_path / "in" / "breaks.html"], ingest, uploads_dir, 5)
    assert (loaded["breaks.pdf"].date, loaded["breaks.html"].date) == ("2024-04-15", "2023-10-02")
    uploads.add_uploads([tmp_path / "in" / "breaks.pdf"], ingest, uploads_dir, 5, details={"date": "2022-02-02"})
    assert loaded["breaks.pdf"].date == "2022-02-02"  # what the administrator sets still wins


# ---------------------------------------------------------------------------------------------------------------
# The handlers, called directly (no Gradio server)
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture
def handlers(tmp_path) -> WebHandlers:
    settings = Settings(data_dir=tmp_path / "data", admin_password="s3cret", max_upload_mb=1)
    return WebHandlers(FakeBot(), settings, FeedbackStore(settings.feedback_db))


def request_with(token: str | None = None) -> gr.Request:
    """A Gradio request as the queue hands it to a handler, carrying the session cookie `token` (if any)."""
    return gr.Request(cookies={COOKIE: token} if token else {}, client={"host": "10.0.0.1"})


def test_respond_adds_the_question_and_its_rendered_answer_to_the_conversation(handlers):
    history, box, answers = handlers.respond("How many <leaders>?", [], {}, ["a.txt"], [], "2023", "")
    assert box == "" and [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"] == "How many &lt;leaders&gt;?"
    assert 'id="sb-t1-source-1"' in history[1]["content"] and "Searched only these documents: A" in history[1]["content"]
    assert handlers.bot.asked == [("How many <leaders>?", Filters(("a.txt",), (), date(2023, 1, 1), None))]
    assert answers[1]["answer"]["question"] == "How many <leaders>?" and answers[1]["filters"]["date_from"] == "2023-01-01"
    history, box, answers = handlers.respond("And then?", history, answers, [], [], "", "")
    assert len(history) == 4 and set(answers) == {1, 3}  # each answer is kept by its place in the conversation


def test_respond_explains_an_unreadable_date_and_keeps_the_question(handlers):
    history, box, answers = handlers.respond("Anything?", [], {}, [], [], "last May", "")
    assert box == "Anything?" and answers == {} and handlers.bot.asked == []
    assert "is not a date I can read" in history[-1]["content"]
    assert handlers.respond("   ", history, answers, [], [], "", "") == (history, "", answers)
    assert handlers.start_again()[:3] == ([], {}, "") and "Your answers will appear here" in handlers.start_again()[3]


def test_a_follow_up_is_asked_with_the_previous_topic_unless_asked_on_its_own(handlers):
    history, _, answers = handlers.respond("my son's EP assessment is late", [], {}, [], [], "", "")
    assert history[-1]["topic"] == "EP assessment" and "Answering about" not in history[-1]["content"]
    history, _, answers = handlers.respond("can I complain about the delay?", history, answers, [], [], "", "")
    assert handlers.bot.asked[-1][0] == "can I complain about the EP assessment delay?"
    assert "Answering about: <strong>EP assessment</strong>" in history[-1]["content"]
    assert history[-2] == {"role": "user", "content": "can I complain about the delay?"}  # shown as typed
    history, _, _ = handlers.respond("can I complain about the delay?", history, answers, [], [], "", "",
                                     standalone=True)
    assert handlers.bot.asked[-1][0] == "can I complain about the delay?" and "Answering about" not in history[-1]["content"]
    question, page = handlers.hold("  who runs it? ", history)
    assert question == "who runs it?" and "Finding the passages" in page and page.count('class="sb-asked"') == 4
    tapped = handlers.hold_tapped(history, gr.EventData(None, {"question": "Next Steps", "standalone": True}))
    assert tapped[0] == "Next Steps" and tapped[2] is True


class TopicsBot(FakeBot):
    """The stand-in bot, finding passages under some section titles."""

    SECTIONS = ("Reinspection of SEND services", "You can find additional resources on gov.uk to help understand the green",
                "Key Concern 4", "CARING", "Broker & deliver training", "Supporting Information", "Attendance Strategy",
                "SEND Service - Staffing update")

    def ask_with_passages(self, question, filters=Filters()):
        passages = [Passage(make_chunk("Text.", section=section), 0.5, 0.5) for section in self.SECTIONS]
        return self.ask(question, filters), passages


def test_questions_to_ask_next_are_the_clean_section_titles_of_the_passages_found(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    handlers = WebHandlers(TopicsBot(), settings, FeedbackStore(settings.feedback_db))
    history, _, _ = handlers.respond("How many?", [], {}, [], [], "", "")
    # the cited section ("Broker & deliver training") is not offered again, fragments and a report's standard parts
    # never are, and three at most
    assert re.findall(r'data-ask="([^"]+)"', history[-1]["content"]) == [
        "Reinspection of SEND services", "Attendance Strategy", "SEND Service - Staffing update"]


def test_a_shared_link_asks_its_question_when_the_page_opens(handlers):
    history, box, answers, page = handlers.on_load([], {}, [], [], "", "", gr.Request(query_params={"q": "How many?"}))
    assert handlers.bot.asked[-1][0] == "How many?" and len(history) == 2 and 'class="sb-asked"' in page
    kept = handlers.on_load(history, {}, [], [], "", "", gr.Request(query_params={}))
    assert kept[0] == history and len(handlers.bot.asked) == 1  # a plain reload shows the kept conversation
    assert kept[3].count('class="sb-asked"') == 1
    # a fresh page leaves everything alone, so a question asked while it opens is not overwritten
    assert all(isinstance(u, dict) and u.get("__type__") == "update" and len(u) == 1
               for u in handlers.on_load([], {}, [], [], "", "", gr.Request(query_params={})))


def test_ask_returns_the_json_contract_and_refuses_unknown_documents(handlers):
    result = handlers.ask("How many?", ["a.txt"], ["minutes"], "2023-05", "")
    assert set(result) == CONTRACT_KEYS and all(set(c) == CITATION_KEYS for c in result["citations"])
    assert result["question"] == "How many?" and result["refused"] is False
    assert handlers.bot.asked[-1][1] == Filters(("a.txt",), ("minutes",), date(2023, 5, 1), None)
    with pytest.raises(gr.Error, match="Unknown document"):
        handlers.ask("How many?", ["../../etc/passwd"])
    with pytest.raises(gr.Error, match="2023-05-24"):
        handlers.ask("How many?", None, None, "last May")


def test_votes_are_saved_replaced_and_withdrawn(handlers):
    _, _, answers = handlers.respond("How many?", [], {}, [], [], "", "")
    assert handlers.vote(answers, 1, True, "session-1") is True
    assert handlers.vote(answers, 1, False, "session-1") is True
    assert [r["helpful"] for r in handlers.feedback.rows()] == [0]
    assert handlers.vote(answers, 0, True, "session-1") is False  # the question, not an answer
    assert handlers.vote(answers, 1, None, "session-1") is False
    assert handlers.feedback.rows() == []
    handlers.on_vote(answers, gr.EventData(None, {"turn": 1, "vote": "down"}), request_with())
    assert [r["helpful"] for r in handlers.feedback.rows()] == [0]
    handlers.on_vote(answers, gr.EventData(None, {"turn": 1, "vote": "none"}), request_with())
    handlers.on_vote(answers, gr.EventData(None, {"turn": "not a number", "vote": "up"}), request_with())
    assert handlers.feedback.rows() == []


def test_the_admin_panel_shows_what_the_session_cookie_allows(handlers):
    wrong = handlers.admin.sign_in("letmein", "10.0.0.1")
    assert wrong.token is None and wrong.status == 403 and "not right" in wrong.message
    login_box, tools, password_box, status = handlers.admin_panel(request_with(), wrong.message)
    assert login_box["visible"] is True and tools["visible"] is False and password_box == "" and "not right" in status
    right = handlers.admin.sign_in("s3cret", "10.0.0.1")
    assert right.token and right.status == 200
    login_box, tools, _, status = handlers.admin_panel(request_with(right.token), "whatever the page passes on")
    assert login_box["visible"] is False and tools["visible"] is True
    assert status == "You are signed in as an administrator."
    assert handlers.admin_panel(request_with("a-forged-token"))[1]["visible"] is False
    handlers.admin.sign_out(request_with(right.token))
    assert handlers.admin_panel(request_with(right.token))[1]["visible"] is False
    assert handlers.signed_out()[3] == "You have signed out."


def test_administration_is_refused_until_signed_in(handlers, tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("Short breaks.")
    assert NOT_SIGNED_IN in handlers.add_documents([str(note)], request=request_with())[0]
    assert handlers.bot.ingested == [] and not handlers.settings.uploads_dir.exists()
    assert handlers.remove_document("a.txt", request_with("a-forged-token"))[0] == NOT_SIGNED_IN
    assert handlers.bot.record("a.txt")
    closed = WebHandlers(FakeBot(), Settings(data_dir=tmp_path / "open"), handlers.feedback)  # no password set
    assert closed.admin.sign_in("", "10.0.0.1").token is None
    live_token = closed.admin.sessions.open()  # even a live session is no use while administration is off
    assert NOT_SIGNED_IN in closed.add_documents([str(note)], request=request_with(live_token))[0]


def test_an_administrator_adds_and_removes_documents(handlers, tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("Short breaks.")
    signed_in = request_with(handlers.admin.sign_in("s3cret", "10.0.0.1").token)
    result, table, *_ = handlers.add_documents([str(note)], request=signed_in)
    assert "Added:</strong> note.txt: 3 passages" in result and (handlers.settings.uploads_dir / "note.txt").is_file()
    result = handlers.add_documents([str(note)], handlers.upload_details("A title", "last May", "", ""), signed_in)[0]
    assert "Nothing was added" in result and "is not a date I can read" in result
    assert handlers.remove_document("a.txt", signed_in)[0] == "Removed a.txt." and handlers.bot.record("a.txt") is None
    assert handlers.remove_document("", signed_in)[0] == "Nothing was removed: choose a document, then confirm."


# ---------------------------------------------------------------------------------------------------------------
# The Blocks and the command line
# ---------------------------------------------------------------------------------------------------------------

def blocks_for(tmp_path, password: str) -> gr.Blocks:
    settings = Settings(data_dir=tmp_path, admin_password=password)
    return build_blocks(WebHandlers(FakeBot(), settings, FeedbackStore(settings.feedback_db)))


def blocks_config(tmp_path, password: str) -> dict:
    return blocks_for(tmp_path, password).get_config_file()


def test_admin_controls_exist_only_when_a_password_is_set_and_start_hidden(tmp_path):
    without = blocks_config(tmp_path, "")
    elem_ids = {c["props"].get("elem_id") for c in without["components"]}
    api_names = {d.get("api_name") for d in without["dependencies"]}
    assert "sb-upload" not in elem_ids and "sb-password" not in elem_ids
    assert "add_documents" not in api_names and "remove_document" not in api_names
    assert "ask" in api_names

    with_password = blocks_config(tmp_path, "s3cret")
    by_id = {c["props"].get("elem_id"): c for c in with_password["components"]}
    assert "sb-password" in by_id and by_id["sb-password"]["props"]["type"] == "password"
    assert by_id["sb-admin-tools"]["props"]["visible"] is False  # upload and removal appear after signing in
    assert "s3cret" not in repr(with_password)


def test_the_gate_knows_exactly_the_administrators_events(tmp_path):
    assert sorted(admin_events(blocks_for(tmp_path, "s3cret")).values()) == ["add_documents", "remove_document", "sync_sources"]
    assert admin_events(blocks_for(tmp_path, "")) == {}


def test_sendbot_serve_and_python_app_py_share_their_options(monkeypatch, tmp_path):
    from sendbot import cli

    calls = []
    monkeypatch.setattr(app, "serve", lambda settings, host, port: calls.append((settings.data_dir, host, port)))
    result = CliRunner().invoke(cli.main, ["--data-dir", str(tmp_path), "serve", "--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app.main, ["--data-dir", str(tmp_path), "--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert calls == [(tmp_path.resolve(), "0.0.0.0", 8123)] * 2
    monkeypatch.setenv("GRADIO_SERVER_PORT", "not-a-port")
    for command, args in ((cli.main, ["serve"]), (app.main, [])):
        result = CliRunner().invoke(command, args)
        assert result.exit_code == 2 and "GRADIO_SERVER_PORT" in result.output


# ---------------------------------------------------------------------------------------------------------------
# The real server
# ---------------------------------------------------------------------------------------------------------------

def client(server):
    from gradio_client import Client

    return Client(server.url, verbose=False)


def ask(server, question, *args):
    return client(server).predict(question, *args, api_name="/ask")


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read()


def cites(result: dict, source: str, page: int | None = None) -> bool:
    return any(c["source"] == source and (page is None or c["page"] == page) for c in result["citations"])


@pytest.mark.slow
def test_start_up_ingests_the_empty_index_and_prints_the_address(app_server):
    log = app_server.log()
    assert "ingesting the bundled corpus" in log
    assert f"sendbot is ready at http://127.0.0.1:{app_server.port}/" in log
    assert (app_server.data_dir / "files.json").is_file()


@pytest.mark.slow
def test_api_answers_with_the_fact_and_its_citation(app_server):
    result = ask(app_server, "How many Mental Health Leaders have been trained?")
    assert set(result) == CONTRACT_KEYS and result["refused"] is False
    assert "159" in result["answer"] and "[1]" in result["answer"]
    assert all(set(c) == CITATION_KEYS for c in result["citations"])
    assert cites(result, AGENDA, page=AGENDA_FACT_PAGE)


@pytest.mark.slow
def test_api_expands_an_acronym(app_server):
    result = ask(app_server, "What does CARM stand for?")
    assert "Complex Adult Risk Management" in result["answer"] and result["citations"]


@pytest.mark.slow
def test_api_refuses_what_the_documents_do_not_say(app_server):
    result = ask(app_server, "What is the capital of France?")
    assert result["refused"] is True and result["citations"] == []
    assert "couldn't find that in these documents" in result["answer"]


@pytest.mark.slow
def test_api_returns_the_same_json_as_the_cli(app_server):
    question = "What does CARM stand for?"
    env = {**os.environ, "SENDBOT_DATA_DIR": str(app_server.data_dir)}
    cli = subprocess.run([str(Path(sys.executable).parent / "sendbot"), "ask", "--json", question], cwd=PROJECT,
                         env=env, capture_output=True, text=True, timeout=180)
    assert cli.returncode == 0, cli.stderr[-2000:]
    assert ask(app_server, question) == json.loads(cli.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_api_filters_by_document_kind_and_date(app_server):
    only_news = ask(app_server, "How many Mental Health Leaders have been trained?", ["local-offer-news-updates.txt"])
    assert {c["source"] for c in only_news["citations"]} <= {"local-offer-news-updates.txt"}
    assert not cites(only_news, AGENDA)
    minutes = ask(app_server, "What did Ofsted and the CQC find at the revisit?", None, ["minutes"])
    assert minutes["citations"] and all(c["source"] == "cfosp-minutes-ofsted-cqc-send-revisit.txt" for c in minutes["citations"])
    dated = ask(app_server, "What did parent carers ask about?", None, None, "2024-01-01", "2024-12-31")
    assert dated["citations"]
    # dated in 2024, or undated with a period in 2024 (the WPCF roundup, "end of 2024")
    assert all(c["date"].startswith("2024") or (c["date"] == "" and c["source"] == "wpcf-2024-roundup.txt")
               for c in dated["citations"])
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="2023-05-24"):
        ask(app_server, "anything", None, None, "last May")
    with pytest.raises(AppError, match="Unknown document"):
        ask(app_server, "anything", ["../../etc/passwd"])


@pytest.mark.slow
def test_twenty_concurrent_api_requests_are_all_answered_correctly(app_server):
    questions = [
        ("How many Mental Health Leaders have been trained?",
         lambda r: "159" in r["answer"] and cites(r, AGENDA, AGENDA_FACT_PAGE)),
        ("What does CARM stand for?", lambda r: "Complex Adult Risk Management" in r["answer"]),
        ("What is the capital of France?", lambda r: r["refused"] is True),
        ("How many schools have signed up to the relaunched SENCo network?", lambda r: "130" in r["answer"]),
    ]
    shared = client(app_server)
    jobs = [questions[i % len(questions)] for i in range(20)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda job: shared.predict(job[0], api_name="/ask"), jobs, timeout=300))
    for (question, check), result in zip(jobs, results):
        assert result["question"] == question and check(result), (question, result["answer"])


@pytest.mark.slow
def test_document_route_serves_indexed_files_only(app_server):
    status, kind, body = get(app_server.url + f"documents/{AGENDA}")
    assert status == 200 and kind == "application/pdf" and body.startswith(b"%PDF")
    status, kind, body = get(app_server.url + "documents/local-offer-news-updates.txt")
    assert status == 200 and kind.startswith("text/plain") and b"Local Offer" in body
    for probe in ("documents/manifest.json", "documents/..%2Fpyproject.toml", "documents/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                  "documents/..%2F..%2Fapp.py", "documents/"):
        status, _, body = get(app_server.url + probe)
        assert status == 404 and b"[project]" not in body and b"root:" not in body, probe
    status, _, body = get(app_server.url + "gradio_api/file=" + str(PROJECT / "pyproject.toml"))
    assert status in (403, 404) and b"[project]" not in body


@pytest.mark.slow
def test_the_page_has_no_external_assets(app_server):
    status, kind, body = get(app_server.url)
    assert status == 200 and "text/html" in kind
    assert not re.search(rb'(src|href)="https?://(?!127\.0\.0\.1)', body)


@pytest.mark.slow
def test_only_a_signed_in_administrator_can_add_and_remove_documents(app_server, tmp_path):
    from gradio_client import handle_file

    upload = tmp_path / "zephyr-lantern-club.md"
    upload.write_text(
        "# Zephyr Lantern Club\n\nThe Zephyr Lantern Club for young carers meets every Thursday evening at "
        "Pershore library, and a place there is free for any young carer aged 8 to 17.\n", encoding="utf-8")
    not_allowed = tmp_path / "tool.exe"
    not_allowed.write_bytes(b"MZ not a document")
    question = "When does the Zephyr Lantern Club meet?"

    anonymous = client(app_server)
    with pytest.raises(Exception, match="403"):  # the gate refuses the upload itself (tests/hostile has the details)
        anonymous.predict([handle_file(str(upload))], api_name="/add_documents")
    wrong = sign_in(app_server.url, "letmein")
    assert wrong.status_code == 403 and "not right" in wrong.json()["message"] and COOKIE not in wrong.cookies
    with pytest.raises(Exception):
        anonymous.predict(AGENDA, api_name="/remove_document")
    assert get(app_server.url + f"documents/{upload.name}")[0] == 404
    assert not cites(ask(app_server, question), upload.name)

    admin = admin_client(app_server.url)
    try:
        added = admin.predict([handle_file(str(upload)), handle_file(str(not_allowed))], api_name="/add_documents")
        assert re.search(r"Added:</strong> zephyr-lantern-club\.md: \d+ passages?", added[0]), added[0]
        assert "Not added:</strong> tool.exe: &#x27;.exe&#x27; files can&#x27;t be added" in added[0]
        assert "zephyr-lantern-club.md" in added[1]  # the documents table
        assert (app_server.data_dir / "uploads" / upload.name).is_file()
        found = ask(app_server, question)
        assert "Thursday" in found["answer"] and cites(found, upload.name)
        status, kind, body = get(app_server.url + f"documents/{upload.name}")
        assert status == 200 and b"Pershore library" in body
        too_big = tmp_path / "too-big.txt"
        too_big.write_bytes(b"a " * (app_server.max_upload_mb * 1024 * 1024))
        with pytest.raises(Exception):  # Gradio's upload route refuses it before it reaches the app
            admin.predict([handle_file(str(too_big))], api_name="/add_documents")
    finally:
        removed = admin.predict(upload.name, api_name="/remove_document")
    assert removed[0] == f"Removed {upload.name}." and upload.name not in removed[1]
    assert not (app_server.data_dir / "uploads" / upload.name).exists()
    assert get(app_server.url + f"documents/{upload.name}")[0] == 404
    assert not cites(ask(app_server, question), upload.name)

    with httpx.Client(headers=admin.headers) as session:
        assert session.post(app_server.url + "admin/sign-out").status_code == 200
    with pytest.raises(Exception):  # the session has ended: the gate refuses the administrators' events again
        admin.predict(upload.name, api_name="/remove_document")


@pytest.mark.slow
def test_the_feedback_download_is_for_administrators_and_leaves_no_file_behind(app_server):
    before = sorted(app_server.gradio_temp_dir.rglob("*"))
    assert httpx.get(app_server.url + "admin/feedback.csv").status_code == 403
    cookies = sign_in(app_server.url).cookies
    response = httpx.get(app_server.url + "admin/feedback.csv", cookies=cookies)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.decode("utf-8-sig").startswith("created_at,rating,question,answer")
    assert sorted(app_server.gradio_temp_dir.rglob("*")) == before  # made in memory: no copy in Gradio's cache
    assert not (app_server.data_dir / "exports").exists()
