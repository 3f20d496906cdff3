"""The commitments register (issue 11): due dates, extraction, follow-ups and status, the stored register and
`sendbot commitments`, on real files in a real index with the real embedder."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from commitments.due import document_end, document_start, parse_due
from commitments.extract import extract_commitments
from commitments.follow import status
from commitments.models import KINDS
from commitments.register import read_register, register_path
from evals.commitments import COMMITMENTS_PATH, load_labels
from ingest.loaders import load_document
from sendbot.cli import main

TODAY = date(2026, 11, 26)

MINUTES = """Children and Families Overview and Scrutiny Panel minutes

The Chief Executive explained that there were 1,000 children waiting for an EHCP, but all would be completed by the end of August 2022.

The Panel was informed that a Complaints Officer for SEND would be taking up post in April which would provide a direct point of contact for parents.

It was agreed that:

· The words 'and to an expected quality' should be added to Action 4 of the Accelerated Progress Plan (APP).

The Panel is asked to consider the home to school transport review.

The aim is to grow supported internships to 90 by the end of Q2 2023/24.

Will Quince MP spoke to the forum about the weather.

How will the panel know what changed?
"""

UPDATE = """Update report to the Panel

A dedicated SEND Complaints Officer was appointed in April 2022 and has now taken up post for parents.

The new library reading room was opened by the Mayor.
"""

MANIFEST = {
    "minutes.txt": {"title": "Children and Families Overview and Scrutiny Panel minutes, 10 March 2022", "date": "2022-03-10", "publisher": "Worcestershire County Council", "kind": "minutes"},
    "update.txt": {"title": "Panel update report", "date": "2023-05-24", "publisher": "Worcestershire County Council", "kind": "report"},
}


# --- due dates -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, anchor, due", [
    ("all would be completed by the end of August 2022", date(2022, 1, 1), date(2022, 8, 31)),
    ("taking up post in April", date(2022, 1, 1), date(2022, 4, 30)),
    ("taking up post in April", date(2022, 6, 1), date(2023, 4, 30)),  # the next April after the statement
    ("updated by the end of Q2 2023/24", date(2023, 5, 24), date(2023, 9, 30)),  # UK financial year
    ("In Q1 we will launch evening events", date(2024, 12, 1), date(2025, 3, 31)),
    ("in the first three months of 2022", date(2021, 9, 1), date(2022, 3, 31)),
    ("respond by the 4th February 2022", None, date(2022, 2, 4)),
    ("during the 2022/2023 period", None, date(2023, 3, 31)),
    ("from 2020/21 to 90 by 2025", None, date(2025, 12, 31)),  # a starting point is not the deadline
    ("Dec 21-Jan 22 - Completed", None, date(2022, 1, 31)),
    ("at the beginning of March", date(2022, 1, 1), date(2022, 3, 1)),
    ("published before Christmas", date(2021, 9, 1), date(2021, 12, 25)),
])
def test_due_dates_are_normalised_to_the_last_day_they_allow(text: str, anchor: date | None, due: date) -> None:
    assert parse_due(text, anchor) == due


@pytest.mark.parametrize("text", ["Our SEND strategy (2021-25) action plan", "the 2023/24 Work Programme",
                                  "in April", "Year 9 and Year 10 pupils"])
def test_no_due_date_is_invented(text: str) -> None:
    assert parse_due(text, None) is None  # a strategy's span, a plan's name, a month with no date to anchor it


def test_an_undated_paper_is_placed_by_its_period() -> None:
    period = "early 2022 (after the 1-3 November 2021 revisit; the meeting date is not in the text)"
    assert (document_start("", period), document_end("", period)) == (date(2022, 1, 1), date(2022, 4, 30))
    assert document_end("", "news items from late 2021 to 2022") == date(2022, 12, 31)
    assert document_start("", "no date given") is None


# --- extraction ----------------------------------------------------------------------------------------------------


@pytest.fixture
def papers(tmp_path: Path) -> Path:
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "minutes.txt").write_text(MINUTES, encoding="utf-8")
    (folder / "update.txt").write_text(UPDATE, encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps(MANIFEST), encoding="utf-8")
    return folder


def test_extraction_quotes_each_statement_verbatim_with_its_kind_who_and_due(papers: Path) -> None:
    doc = load_document(papers / "minutes.txt")
    found = {c.quote: c for c in extract_commitments(doc)}
    page = doc.pages[0].text
    assert all(quote in page for quote in found)
    backlog = next(c for q, c in found.items() if "end of August 2022" in q)
    assert (backlog.kind, backlog.due, backlog.page) == ("commitment", "2022-08-31", None)
    officer = next(c for q, c in found.items() if "Complaints Officer" in q)
    assert (officer.who, officer.due, officer.meeting) == ("Complaints Officer for SEND", "2022-04-30",
                                                          "Children and Families Overview and Scrutiny Panel")
    quality = next(c for q, c in found.items() if "expected quality" in q)
    assert quality.kind == "decision"  # a list item under "It was agreed that:"
    asked = next(c for q, c in found.items() if "is asked to" in q)
    assert (asked.kind, asked.who) == ("request", "Panel")
    target = next(c for q, c in found.items() if "supported internships" in q)
    assert (target.kind, target.due) == ("target", "2023-09-30")
    assert not any("weather" in q or "How will" in q for q in found)  # "Will" the name, and a question


# --- the register through the command line -------------------------------------------------------------------------


def invoke(args: list[str], data_dir: Path):
    return CliRunner().invoke(main, args, env={"SENDBOT_DATA_DIR": str(data_dir)}, catch_exceptions=False)


@pytest.fixture
def indexed(papers: Path, tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    result = invoke(["ingest", str(papers)], data_dir)
    assert result.exit_code == 0, result.output
    return data_dir


def _rows(data_dir: Path, *args: str) -> list[dict]:
    result = invoke(["commitments", "--json", "--today", TODAY.isoformat(), *args], data_dir)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ingest_builds_the_register_beside_the_index_and_json_keeps_the_contract(indexed: Path) -> None:
    assert read_register(register_path(indexed)) is not None  # written by `sendbot ingest` itself
    rows = _rows(indexed)
    required = {"quote", "what", "who", "due", "kind", "status", "source", "title", "date", "page", "section", "follow_ups"}
    assert rows and all(required <= set(row) for row in rows)
    assert {row["kind"] for row in rows} <= set(KINDS)
    officer = next(row for row in rows if "Complaints Officer for SEND would" in row["quote"])
    assert officer["status"] == "done"
    [follow] = officer["follow_ups"]
    assert {"quote", "source", "date", "page"} <= set(follow)
    assert (follow["source"], follow["date"]) == ("update.txt", "2023-05-24")  # the later paper, with its own date
    assert follow["quote"].startswith("A dedicated SEND Complaints Officer was appointed")
    assert officer["date"] == "2022-03-10"  # the promise keeps its own date: never the update's
    assert not any("library" in f["quote"] for row in rows for f in row["follow_ups"])
    backlog = next(row for row in rows if "end of August 2022" in row["quote"])
    assert (backlog["due"], backlog["status"], backlog["follow_ups"]) == ("2022-08-31", "overdue", [])


def test_status_depends_on_the_day_given_not_the_clock(indexed: Path) -> None:
    before_due = _rows(indexed, "--today", "2022-06-01")  # the later --today wins
    backlog = next(row for row in before_due if "end of August 2022" in row["quote"])
    assert backlog["status"] == "no later mention"
    register = read_register(register_path(indexed))
    officer = next(c for c in register.commitments if "Complaints Officer for SEND would" in c.quote)
    assert status(officer, date(2022, 1, 1)) == "done"  # a reported completion holds whatever the day


def test_filters_narrow_the_register(indexed: Path) -> None:
    assert {row["kind"] for row in _rows(indexed, "--kind", "request")} == {"request"}
    assert {row["status"] for row in _rows(indexed, "--status", "overdue")} == {"overdue"}
    assert all(row["due"] and row["due"] < "2023-01-01" for row in _rows(indexed, "--due-before", "2023"))
    assert all("complaints" in row["who"].lower() for row in _rows(indexed, "--who", "complaints officer"))
    assert _rows(indexed, "--from", "2023") == []  # the only paper dated 2023 reports, it promises nothing
    assert {row["source"] for row in _rows(indexed, "--source", "minutes.txt")} == {"minutes.txt"}


def test_text_and_csv_output(indexed: Path) -> None:
    text = invoke(["commitments", "--today", TODAY.isoformat(), "--status", "done"], indexed).stdout
    assert "[done]" in text and "later, 24 May 2023 (done)" in text and "minutes.txt" in text
    table = list(csv.DictReader(io.StringIO(invoke(["commitments", "--csv", "--today", TODAY.isoformat()], indexed).stdout)))
    assert table and "update.txt" in next(r for r in table if r["status"] == "done")["follow_ups"]


def test_bad_input_is_refused_with_the_reason(indexed: Path) -> None:
    result = invoke(["commitments", "--source", "nothing.pdf"], indexed)
    assert result.exit_code == 2 and "no indexed document is named nothing.pdf" in result.output
    result = invoke(["commitments", "--due-before", "someday"], indexed)
    assert result.exit_code == 2 and "'someday' is not a date" in result.output


def test_the_register_follows_a_changed_file(indexed: Path, papers: Path) -> None:
    (papers / "update.txt").write_text(UPDATE.replace("A dedicated SEND Complaints Officer was appointed in April 2022 "
                                                      "and has now taken up post for parents.", ""), encoding="utf-8")
    assert invoke(["ingest", str(papers)], indexed).exit_code == 0
    officer = next(row for row in _rows(indexed) if "Complaints Officer for SEND would" in row["quote"])
    assert (officer["status"], officer["follow_ups"]) == ("overdue", [])


# --- the labelled set -------------------------------------------------------------------------------------------


def test_the_labelled_set_quotes_the_corpus_verbatim(corpus) -> None:
    labels, links = load_labels()
    assert len(labels) >= 60 and len(links) >= 12
    assert len({label.id for label in labels}) == len(labels)
    for item in [*labels, *links]:
        page = next(p.text for p in corpus.document(item.source).pages if p.number == item.page)
        assert item.quote in page, f"{item.source} page {item.page}: {item.quote[:60]!r} is not verbatim"
    raw = yaml.safe_load(COMMITMENTS_PATH.read_text(encoding="utf-8"))["commitments"]
    assert all(entry["due"] is None or date.fromisoformat(str(entry["due"])) for entry in raw)
