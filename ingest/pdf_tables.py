"""Rebuild a PDF page's tables as rows of tab-separated cells, so a row is read with its cells and its header.

pypdf's default extraction writes a table cell by cell, each wrapped cell over several lines ("Deleg", "ates",
"429 333 ..."), so a row no longer reads as one and the chunker cannot tell it is a table. Its layout extraction
keeps the columns apart (`extraction_mode="layout"`: text placed by its position, columns separated by runs of
spaces), but it is worse for prose: it pads justified lines and splits words where the PDF positions their glyphs
apart ("impr      ovement").

So the page's text stays the default extraction, and only where the layout shows a table (lines whose segments
start at the same columns) are that table's lines replaced by its rows, one line a row, cells joined by tabs. The
replacement is made only when the table's text, read row by row and cell by cell, is exactly the text it replaces
(spaces aside): nothing is ever added, dropped or reordered but the line breaks and spaces between cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.embedder import known_words

_SEGMENT = re.compile(r"\S+(?: {1,2}\S+)*")  # layout mode puts 3 spaces or more between columns, fewer between words
COLUMN_TOLERANCE = 2  # characters a cell's start may sit off its column's
MIN_TABLE_LINES = 2  # lines with several aligned cells a table needs
MAX_SPANNING_LINES = 3  # one-cell lines (a wrapped cell's rest) a table may hold between lines of several cells
MAX_CELL_WORDS = 40  # a longer cell is a text box of a page laid out in columns, not a table's cell
# A page is read again in layout mode when at least MIN_SHORT_LINES of its lines, and TABULAR_SHARE of them, are
# this short, and it has no more than MAX_PAGE_LINES lines: on the bundled agenda pack that is 21 of 58 pages, every
# page with a table read as rows among them. (Its pages of 150-330 lines, text boxes in narrow columns, cost more
# than half the layout reading and never gave a row: the default text reads such cells down each column.)
SHORT_LINE_CHARS = 25
MIN_SHORT_LINES = 5
TABULAR_SHARE = 0.17
MAX_PAGE_LINES = 120
_LETTERS = re.compile(r"[A-Za-z]+")
_WORD_END = re.compile(r"([A-Za-z]+)$")
_WORD_START = re.compile(r"^([a-z]+)(?![^\W\d_])")  # a lower-case word, not the start of one with other letters


@dataclass(frozen=True)
class _Line:
    """A line of layout text as its segments: (start column, text) of each run of text between wide gaps."""

    segments: tuple[tuple[int, str], ...]

    @property
    def starts(self) -> tuple[int, ...]:
        return tuple(start for start, _ in self.segments)


def looks_tabular(plain: str) -> bool:
    """True when a page's default extraction may hold a table: many short lines (a table's cells, each written on a
    line of its own). Only such pages are extracted a second time, in layout mode."""
    lines = [line for line in plain.split("\n") if line.strip()]
    if len(lines) > MAX_PAGE_LINES:
        return False  # columns too narrow for rows: text boxes side by side, or a table whose cells wrap line by line
    short = sum(len(line.strip()) <= SHORT_LINE_CHARS for line in lines)
    return short >= MIN_SHORT_LINES and short >= TABULAR_SHARE * len(lines)


def rebuild_tables(plain: str, layout: str) -> str:
    """The page's default text with each table its layout text shows written as tab-separated rows (see the module
    docstring)."""
    vocabulary = known_words() | {w.lower() for w in _LETTERS.findall(plain)}  # to make a wrapped word whole
    stripped, where = _without_spaces(plain)
    pieces, done, searched = [], 0, 0  # `searched`: characters of `stripped` up to `done`
    for rows in _tables(layout, plain):
        rows = [[_join_lines(cell, vocabulary) for cell in row] for row in rows]
        wanted = "".join("".join(cell.split()) for row in rows for cell in row)
        found = stripped.find(wanted, searched)
        if not wanted or found < 0:
            continue  # read in another order in the default text: left as it is
        start, end = where[found], where[found + len(wanted) - 1] + 1
        searched = found + len(wanted)
        text = "\n".join("\t".join(row).rstrip("\t") for row in rows)
        pieces += [plain[done:start].rstrip(" "), "" if start == 0 or plain[start - 1] == "\n" else "\n", text,
                   "" if end == len(plain) or plain[end] == "\n" else "\n"]
        done = end
    return "".join(pieces) + plain[done:] if pieces else plain


def _without_spaces(text: str) -> tuple[str, list[int]]:
    """The text without whitespace, and each remaining character's offset in the text."""
    where = [i for i, c in enumerate(text) if not c.isspace()]
    return "".join(text[i] for i in where), where


def _tables(layout: str, plain: str) -> list[list[list[list[str]]]]:
    """The tables of a page's layout text, each as rows of cells, a cell as its lines; a grid of long text boxes is
    no table."""
    lines = [_Line(tuple((m.start(), " ".join(m.group().split())) for m in _SEGMENT.finditer(line)))
             if line.strip() else None for line in layout.split("\n")]
    tables, i = [], 0
    while i < len(lines):
        region = _region(lines, i, plain)
        if region:
            tables.append(_rows(lines[region[0] : region[1]]))
            i = region[1]
        else:
            i += 1
    return [t for t in tables if len(t) >= 2 and max(len(" ".join(cell).split()) for row in t for cell in row) <= MAX_CELL_WORDS]


def _cells(line: _Line | None, plain: str) -> bool:
    """True for a line of several cells. Layout mode also splits a word of prose where the PDF spaces its glyphs
    apart ("impr      ovement"): a gap whose two sides the default text writes as one word is no column."""
    if line is None or len(line.segments) < 2:
        return False
    joined = (a.rsplit(" ", 1)[-1] + b.split(" ", 1)[0] for (_, a), (_, b) in zip(line.segments, line.segments[1:]))
    return not any(len(word) >= 4 and not word.isdigit() and word in plain for word in joined)


def _region(lines: list[_Line | None], first: int, plain: str) -> tuple[int, int] | None:
    """The lines first..end-1 of a table starting at `first`, or None: lines of several cells, each with a cell in
    a column of the lines before, with blank lines and a few one-cell lines (wrapped cells' rest) between them.
    The last row's wrapped cells run on to the next blank line in a table whose rows are spaced by blank lines."""
    if not _cells(lines[first], plain):
        return None
    columns = list(lines[first].starts)
    multi, end, loose, spaced = 1, first + 1, 0, False
    for j in range(first + 1, len(lines)):
        line = lines[j]
        if line is None:
            spaced = True
        elif _cells(line, plain) and any(_near(s, columns) for s in line.starts):
            columns += [s for s in line.starts if not _near(s, columns)]
            multi, end, loose = multi + 1, j + 1, 0
        elif len(line.segments) == 1 and loose < MAX_SPANNING_LINES:
            loose += 1
        else:
            break
    if multi < MIN_TABLE_LINES:
        return None
    rest = 0
    while end < len(lines) and lines[end] is not None and len(lines[end].segments) == 1 and rest < MAX_SPANNING_LINES:
        if not (spaced or _near(lines[end].starts[0], columns[1:])):
            break
        end, rest = end + 1, rest + 1
    return first, end


def _near(start: int, columns: list[int]) -> bool:
    return any(abs(start - c) <= COLUMN_TOLERANCE for c in columns)


def _rows(lines: list[_Line | None]) -> list[list[list[str]]]:
    """Rows of cells: rows are separated by blank lines (or, in a table without them, start at each line of several
    cells); a segment belongs to the column whose start is nearest its own."""
    columns = sorted({s for line in lines if line and len(line.segments) >= 2 for s in line.starts})
    merged: list[int] = []
    for c in columns:
        if not merged or c - merged[-1] > COLUMN_TOLERANCE:
            merged.append(c)
    spaced = any(line is None for line in lines)
    groups: list[list[_Line]] = []
    for line in lines:
        if line is None:
            groups.append([])
        elif not groups or (not spaced and len(line.segments) >= 2):
            groups.append([line])
        else:
            groups[-1].append(line)
    rows = []
    for group in filter(None, groups):
        cells: list[list[str]] = [[] for _ in merged]
        for line in group:
            for start, text in line.segments:
                cells[min(range(len(merged)), key=lambda n: abs(merged[n] - start))].append(text)
        rows.append(cells)
    return rows


def _join_lines(lines: list[str], vocabulary: set[str] | frozenset[str]) -> str:
    """A cell's lines as one text, a word wrapped across two lines made whole again ("Deleg" / "ates" ->
    "Delegates"): a lower-case piece that is no English word of its own, when the whole is a word (English or the
    page's own)."""
    text = lines[0] if lines else ""
    for line in lines[1:]:
        end, start = _WORD_END.search(text), _WORD_START.match(line)
        whole = end and start and (end.group(1) + start.group(1)).lower()
        text += line if whole and whole in vocabulary and start.group(1) not in known_words() else " " + line
    return text
