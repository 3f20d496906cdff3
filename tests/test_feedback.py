"""Feedback votes (sendbot/feedback.py): the store, its numbered migrations, and `sendbot feedback export`."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from contextlib import closing

from click.testing import CliRunner

from sendbot.cli import main
from sendbot.core.models import Answer, AnswerSentence, Citation
from sendbot.feedback import MIGRATIONS, FeedbackStore, migrate

AGENDA = "cfosp-agenda-pack-2023-05-24.pdf"

# The table exactly as the code before migrations made it (and some feedback.sqlite3 files out there have it).
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    session TEXT NOT NULL,
    answer_id TEXT NOT NULL,
    helpful INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    citations TEXT NOT NULL,
    filters TEXT NOT NULL,
    UNIQUE (session, answer_id)
)
"""


def reply(question: str = "How many?") -> dict:
    """An answer with one citation, as the app hands it to the store (`Answer.to_json()`)."""
    quote = "• 159 Mental Health Leaders trained (59%)"
    cited = Citation(n=1, source=AGENDA, title="Agenda pack", date="2023-05-24", page=10, section="Training",
                     text=f"Intro line.\n{quote}", quote=quote, score=0.87)
    return Answer(question, (AnswerSentence(quote, (1,)),), (cited,), refused=False).to_json()


def migration_names(path) -> list[str]:
    with closing(sqlite3.connect(path)) as db:
        return [name for (name,) in db.execute("SELECT name FROM _migrations ORDER BY rowid")]


def test_the_store_replaces_a_changed_vote_withdraws_and_exports_safe_csv(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    answer = reply(question="=HYPERLINK(\"x\")")
    store.record("session-1", "answer-a", True, answer, {"kinds": ["minutes"]})
    store.record("session-1", "answer-a", False, answer)  # changed their mind: one row, now not helpful
    store.record("session-2", "answer-b", True, answer)
    rows = store.rows()
    assert [(r["session"], r["helpful"]) for r in rows] == [("session-1", 0), ("session-2", 1)]
    saved = json.loads(rows[0]["citations"])[0]
    assert saved == {"n": 1, "source": AGENDA, "title": "Agenda pack", "date": "2023-05-24", "page": 10,
                     "section": "Training", "quote": "• 159 Mental Health Leaders trained (59%)",
                     "url": "", "committee": "", "meeting": "", "item": ""}  # no text, no score
    store.withdraw("session-2", "answer-b")
    table = list(csv.DictReader(io.StringIO(store.to_csv())))
    assert len(table) == 1 and table[0]["rating"] == "not helpful"
    assert table[0]["question"].startswith("'=")  # a spreadsheet will not run it as a formula
    assert table[0]["sources"] == f"[1] {AGENDA} page 10" and "session" not in table[0]


def test_a_database_made_before_migrations_is_upgraded_and_keeps_its_votes(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(OLD_SCHEMA)
        db.execute("INSERT INTO feedback (created_at, session, answer_id, helpful, question, answer, refused,"
                   " citations, filters) VALUES ('2025-01-01T10:00:00+00:00', 's', 'a', 1, 'Old question?',"
                   " 'Old answer.', 0, '[]', '{}')")
    store = FeedbackStore(path)
    assert migration_names(path) == [step.__name__ for step in MIGRATIONS]
    assert [r["question"] for r in store.rows()] == ["Old question?"]
    store.record("s", "b", False, reply())
    assert [r["question"] for r in store.rows()] == ["Old question?", "How many?"]


def test_migrating_twice_changes_nothing(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    FeedbackStore(path).record("s", "a", True, reply())
    with closing(sqlite3.connect(path)) as db:
        applied_at = db.execute("SELECT name, applied_at FROM _migrations").fetchall()
        assert migrate(db) == []
        assert db.execute("SELECT name, applied_at FROM _migrations").fetchall() == applied_at
    assert len(FeedbackStore(path).rows()) == 1


def test_sendbot_feedback_export_writes_the_votes_as_csv(tmp_path):
    out = tmp_path / "out.csv"
    env = {"SENDBOT_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["feedback", "export", str(out)], env=env)
    assert result.exit_code == 1 and "No feedback yet" in result.output and not out.exists()
    FeedbackStore(tmp_path / "feedback.sqlite3").record("s", "a", True, reply())
    result = CliRunner().invoke(main, ["feedback", "export", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert f"Wrote 1 feedback rows to {out}" in result.output
    assert out.read_text(encoding="utf-8-sig").startswith("created_at,rating,question")
