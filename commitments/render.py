"""The register as people read it: plain text for a terminal, and CSV for a spreadsheet."""

from __future__ import annotations

import csv
import io

from commitments.models import Commitment
from sendbot.core.dates import format_date

CSV_FIELDS = ("quote", "what", "who", "due", "kind", "status", "source", "title", "date", "page", "section", "follow_ups")


def _where(source: str, page: int | None, section: str) -> str:
    return ", ".join(x for x in (source, f"page {page}" if page else "", section) if x)


def format_text(rows: list[tuple[Commitment, str]]) -> str:
    """Each commitment with its status, due date, who, its quote and citation, and its follow-ups (dated)."""
    if not rows:
        return "No commitments match."
    blocks = []
    for c, state in rows:
        due = f"due {format_date(c.due)}" if c.due else "no due date"
        lines = [f"[{state}] {c.kind}: {c.what or c.quote[:80]} ({c.who}; {due})",
                 f"    \"{' '.join(c.quote.split())}\"",
                 f"    {c.title} ({format_date(c.date, c.period)}) - {_where(c.source, c.page, c.section)}"]
        for f in c.follow_ups:
            lines.append(f"    later, {format_date(f.date, f.period)} ({f.state}): \"{' '.join(f.quote.split())}\" "
                         f"- {_where(f.source, f.page, f.section)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + f"\n\n{len(rows)} commitment{'s' if len(rows) != 1 else ''}."


def to_csv(rows: list[tuple[Commitment, str]]) -> str:
    """One spreadsheet row per commitment; its follow-ups in one cell ("date, source page N: quote", | between)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for c, state in rows:
        follow = " | ".join(f"{f.date or f.period}, {_where(f.source, f.page, '')}: {' '.join(f.quote.split())}"
                            for f in c.follow_ups)
        writer.writerow([c.quote, c.what, c.who, c.due, c.kind, state, c.source, c.title, c.date or c.period,
                         c.page or "", c.section, follow])
    return out.getvalue()
