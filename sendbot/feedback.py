"""Helpful / not helpful votes on the app's answers, kept in a local SQLite file and exportable as CSV.

One row per answer shown (each answer gets its own id): voting again replaces the vote, withdrawing it deletes it.
Nothing leaves the machine; export with the app's administrator panel or `python -m sendbot.feedback out.csv`.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
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

CSV_COLUMNS = ("created_at", "rating", "question", "answer", "refused", "sources", "filters", "citations_json")


class FeedbackStore:
    """The feedback table in one SQLite file (a fresh connection per call, so any thread may use it)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def record(self, session: str, answer_id: str, helpful: bool, answer: dict, filters: dict | None = None) -> None:
        """Save (or replace) the vote on one answer; `answer` is `Answer.to_json()`."""
        citations = [
            {k: c.get(k) for k in ("n", "source", "title", "date", "page", "section", "quote")}
            for c in answer.get("citations", [])
        ]
        row = (
            datetime.now(timezone.utc).isoformat(timespec="seconds"), session, answer_id, int(helpful),
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
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for r in self.rows():
            citations = json.loads(r["citations"])
            sources = "; ".join(
                f"[{c['n']}] {c['source']}" + (f" page {c['page']}" if c.get("page") else "") for c in citations
            )
            writer.writerow([_safe_cell(v) for v in (
                r["created_at"], "helpful" if r["helpful"] else "not helpful", r["question"], r["answer"],
                "yes" if r["refused"] else "no", sources, r["filters"], r["citations"],
            )])
        return out.getvalue()

    def export_csv(self, path: Path) -> Path:
        path = Path(path)
        path.write_text(self.to_csv(), encoding="utf-8-sig")  # the BOM lets Excel read accents correctly
        return path


def _safe_cell(value: object) -> str:
    """Stop a spreadsheet from running a cell that starts like a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def main(argv: list[str] | None = None) -> int:
    """`python -m sendbot.feedback OUT.csv`: export the feedback of the index in SENDBOT_DATA_DIR."""
    from sendbot.core.config import load_settings

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("usage: python -m sendbot.feedback OUT.csv   (reads $SENDBOT_DATA_DIR/feedback.sqlite3)", file=sys.stderr)
        return 2
    settings = load_settings()
    if not settings.feedback_db.is_file():
        print(f"No feedback yet: {settings.feedback_db} does not exist.", file=sys.stderr)
        return 1
    store = FeedbackStore(settings.feedback_db)
    out = store.export_csv(Path(args[0]))
    print(f"Wrote {len(store.rows())} feedback rows to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
