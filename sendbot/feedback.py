"""Helpful / not helpful votes on the app's answers, kept in a local SQLite file and exportable as CSV.

One row per answer shown (each answer gets its own id): voting again replaces the vote, withdrawing it deletes it.
Nothing leaves the machine; export with the app's administrator panel or `sendbot feedback export out.csv`.

The schema grows by numbered migrations, the way simonw/llm's migrations.py does it: each function in
`MIGRATIONS` runs once, in order, and is recorded by name in the `_migrations` table. To change the schema,
append a new function; never edit one that has shipped.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sendbot.core.models import CITATION_FIELDS

CSV_COLUMNS = ("created_at", "rating", "question", "answer", "refused", "sources", "filters", "citations_json")
# What a vote keeps of each citation: where the quote came from, not the whole passage or its ranking score.
VOTE_CITATION_FIELDS = tuple(name for name in CITATION_FIELDS if name not in ("text", "score"))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------------------------
# Migrations
# ---------------------------------------------------------------------------------------------------------------

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(step: Migration) -> Migration:
    """Register a schema change; it runs after every migration defined above it."""
    MIGRATIONS.append(step)
    return step


@migration
def m001_feedback_table(db: sqlite3.Connection) -> None:
    """The votes table. IF NOT EXISTS because a feedback.sqlite3 made before there were migrations already has
    it, rows and all: for such a file this migration only records that the table is there."""
    db.execute("""
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
    """)


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply the migrations this database has not had yet, each in its own transaction; returns their names."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    applied = []
    for step in MIGRATIONS:
        with db:
            db.execute("BEGIN IMMEDIATE")  # another process opening the same file waits, then finds it done
            if db.execute("SELECT 1 FROM _migrations WHERE name = ?", (step.__name__,)).fetchone():
                continue
            step(db)
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (step.__name__, _now()))
            applied.append(step.__name__)
    return applied


# ---------------------------------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------------------------------

class FeedbackStore:
    """The feedback table in one SQLite file (a fresh connection per call, so any thread may use it)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db:
            migrate(db)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def record(self, session: str, answer_id: str, helpful: bool, answer: dict, filters: dict | None = None) -> None:
        """Save (or replace) the vote on one answer; `answer` is `Answer.to_json()`."""
        citations = [{name: c.get(name) for name in VOTE_CITATION_FIELDS} for c in answer.get("citations", [])]
        row = (
            _now(), session, answer_id, int(helpful),
            answer.get("question", ""), answer.get("answer", ""), int(bool(answer.get("refused"))),
            json.dumps(citations, ensure_ascii=False), json.dumps(filters or {}, ensure_ascii=False),
        )
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT INTO feedback (created_at, session, answer_id, helpful, question, answer, refused, citations, filters)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (session, answer_id) DO UPDATE SET created_at = excluded.created_at, helpful = excluded.helpful",
                row,
            )

    def withdraw(self, session: str, answer_id: str) -> None:
        """Forget the vote on one answer (the person clicked their vote again to undo it)."""
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM feedback WHERE session = ? AND answer_id = ?", (session, answer_id))

    def rows(self) -> list[dict]:
        """Every vote, oldest first."""
        with closing(self._connect()) as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("SELECT * FROM feedback ORDER BY created_at, id")]

    def to_csv(self) -> str:
        """All votes as CSV text, one row per vote (session ids are left out)."""
        return _csv_text(self.rows())

    def export_csv(self, path: Path) -> int:
        """Write all votes to `path` as CSV that Excel opens cleanly; returns how many votes it wrote."""
        rows = self.rows()
        Path(path).write_text(_csv_text(rows), encoding="utf-8-sig")  # the BOM lets Excel read accents correctly
        return len(rows)


def _csv_text(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        citations = json.loads(r["citations"])
        sources = "; ".join(
            f"[{c['n']}] {c['source']}" + (f" page {c['page']}" if c.get("page") else "") for c in citations
        )
        writer.writerow([_safe_cell(v) for v in (
            r["created_at"], "helpful" if r["helpful"] else "not helpful", r["question"], r["answer"],
            "yes" if r["refused"] else "no", sources, r["filters"], r["citations"],
        )])
    return out.getvalue()


def _safe_cell(value: object) -> str:
    """Stop a spreadsheet from running a cell that starts like a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
