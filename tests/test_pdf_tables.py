"""PDF tables read as rows (ingest/pdf_tables.py): the default extraction's text, with a table's lines rewritten as
tab-separated rows where pypdf's layout extraction shows the columns, and never a word added, lost or moved."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from ingest.pdf_tables import looks_tabular, rebuild_tables
from sendbot.core.models import Answer, AnswerSentence
from sendbot.web.render import plain_text
from app_server import citation

AGENDA = Path(__file__).resolve().parent.parent / "corpus" / "cfosp-agenda-pack-2023-05-24.pdf"


@pytest.fixture(scope="module")
def agenda(corpus):
    return {p.number: p.text for p in corpus.document(AGENDA.name).pages}


def test_a_tables_rows_are_read_with_their_cells(agenda):
    lines = {line for text in agenda.values() for line in text.split("\n")}
    # the cells were written one after another, each wrapped over lines ("Deleg" / "ates" / "429 333 ...")
    assert "Delegates\t429\t333\t95\t28\t73\t214\t259\t225\t172\t310\t231\t312\t2,681" in lines
    assert "Autism Strategy\tLaura Westwood/Bernadett e Louise" in lines  # "Laura" / "Westwood" were apart
    assert "The effectiveness of leaders and managers\tRequires Improvement to be Good" in lines
    assert "TBC\tChildren Missing Education\t\tRequested by Panel 23 March 2023" in lines


def test_rebuilding_tables_changes_only_the_spaces_between_words():
    reader = PdfReader(AGENDA)
    rebuilt = 0
    for page in reader.pages:
        plain = page.extract_text()
        if looks_tabular(plain):
            text = rebuild_tables(plain, page.extract_text(extraction_mode="layout"))
            assert "".join(text.split()) == "".join(plain.split())
            rebuilt += text != plain
    assert rebuilt >= 8  # the agenda, the training figures, the strategy's leads, the grades, the work programme


def test_a_word_the_layout_splits_is_no_column_and_prose_is_not_read_twice():
    plain = "In the opinion of the proper officer the following are\nthe background papers relating to the item."
    layout = ("In the opinion of the proper officer the following ar          e the background\n"
              "papers relating to the ite        m.")
    assert rebuild_tables(plain, layout) == plain
    assert not looks_tabular(plain)


def test_a_table_the_default_text_reads_in_another_order_is_left_as_it_is():
    plain = "Name\nRole\nAnn Lee\nChair\nBo Ray\nClerk"  # read column by column, not row by row
    layout = "Name        Role\nAnn Lee     Chair\nBo Ray      Clerk"
    assert rebuild_tables("Name\nAnn Lee\nBo Ray\nRole\nChair\nClerk", layout) == "Name\nAnn Lee\nBo Ray\nRole\nChair\nClerk"
    assert rebuild_tables(plain, layout) == "Name\tRole\nAnn Lee\tChair\nBo Ray\tClerk"


def test_an_answer_quoting_table_rows_shows_cells_and_rows_apart():
    text = "Final Figures\nNumber of\tYear End\nDelegates\t2,681\nSessions\t106"
    quote = "Number of\tYear End\nDelegates\t2,681"
    answer = Answer("How many delegates?", (AnswerSentence(quote, (1,)),), (citation(text=text, quote=quote),),
                    refused=False)
    assert "Number of | Year End / Delegates | 2,681 [1]" in plain_text(answer)
