"""Due dates as council papers write them, normalised to the last day they allow, and documents' places in time.

"by the end of August 2022" -> 2022-08-31, "by the end of Q2 2023/24" -> 2023-09-30 (a quarter of the UK financial
year April-March), "in Q1" -> the next calendar quarter's end, "in April" -> the next April on or after the
statement's date, "during the 2022/2023 period" -> 2023-03-31, "the first three months of 2022" -> 2022-03-31,
"by 2025" -> 2025-12-31, "the 4th February 2022" -> that day, "Feb 22" (action-plan shorthand) -> 2022-02-28.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

_MONTH_WORDS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name} | {
    name.lower(): i for i, name in enumerate(calendar.month_abbr) if name} | {"sept": 9}
_MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)"
_YEAR = r"((?:19|20)\d\d)"

# Each pattern yields (due date, is it a deadline rather than a starting point); earlier patterns win overlaps.
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}\s+{_YEAR}\b")
_QUARTER_FY = re.compile(r"\bQ([1-4])\s+((?:19|20)\d\d)/(\d\d)\b")
_QUARTER = re.compile(rf"\bQ([1-4])(?:\s+{_YEAR})?\b")
_FIRST_MONTHS = re.compile(rf"\bfirst (three|six|nine|\d) months of {_YEAR}\b", re.I)
_EDGE_MONTH = re.compile(rf"\b(beginning|start|middle|end) of {_MONTH}(?:\s+{_YEAR})?\b", re.I)
_MONTH_RANGE_SHORT = re.compile(rf"\b{_MONTH}(?:\s+\d\d)?\s*[-\u2013]\s*{_MONTH}\s+(\d\d)\b")
_MONTH_YEAR = re.compile(rf"\b{_MONTH}\s+{_YEAR}\b")
_MONTH_SHORT_YEAR = re.compile(rf"\b{_MONTH}\s+(\d\d)\b(?![/:\d])")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}\b")
_MONTH_ALONE = re.compile(rf"\b(?:in|by|from|until|before|after|during|of|end of)\s+{_MONTH}\b")
# A financial year is a deadline after "by", "during", "throughout"... or before "period" / "year"; "the 2023/24
# Work Programme" only names a plan.
_FINANCIAL_YEAR = re.compile(r"(?:\b(?:by|in|during|until|throughout|for|within|over)\s+(?:the\s+)?(?:end of\s+(?:the\s+)?)?"
                             r"((?:19|20)\d\d)\s*[/-]\s*(\d\d(?:\d\d)?)\b|\b((?:19|20)\d\d)\s*[/-]\s*(\d\d(?:\d\d)?)"
                             r"(?=\s+(?:reporting\s+)?(?:period|year|financial year)\b))")
_CHRISTMAS = re.compile(r"\b(?:before|by) Christmas\b", re.I)
_YEAR_ALONE = re.compile(rf"\b(?:by|for|in|during|until|before|into|scheduled for)\s+(?:the end of\s+)?{_YEAR}\b")
_COUNT_WORDS = {"three": 3, "six": 6, "nine": 9}
_STARTING_POINT = re.compile(r"\b(?:from|since|after|baseline(?: of)?|previously in)\s+(?:the\s+)?$", re.I)


def _month(word: str) -> int:
    return _MONTH_WORDS[word.lower()]


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _next_on_or_after(anchor: date | None, month: int, day: int | None = None) -> date | None:
    """The first `month` (its `day`, else its last day) that does not end before the anchor."""
    if anchor is None:
        return None
    for year in (anchor.year, anchor.year + 1):
        when = date(year, month, day) if day else _month_end(year, month)
        if when >= anchor:
            return when
    return None


def _century(two_digits: str, near: int) -> int:
    return near - near % 100 + int(two_digits)


def _readers(anchor: date | None):
    """(pattern, function from a match to a date or None), most specific first."""
    return (
        (_DAY_MONTH_YEAR, lambda m: date(int(m[3]), _month(m[2]), int(m[1]))),
        (_QUARTER_FY, lambda m: _quarter_of_financial_year(int(m[2]), int(m[1]))),
        (_FIRST_MONTHS, lambda m: _month_end(int(m[2]), _COUNT_WORDS.get(m[1].lower()) or int(m[1]))),
        (_EDGE_MONTH, lambda m: _edge_of_month(m, anchor)),
        (_MONTH_RANGE_SHORT, lambda m: _month_end(_century(m[3], 2000), _month(m[2]))),
        (_MONTH_YEAR, lambda m: _month_end(int(m[2]), _month(m[1]))),
        (_MONTH_SHORT_YEAR, lambda m: _month_end(_century(m[2], 2000), _month(m[1]))),
        (_QUARTER, lambda m: _calendar_quarter(int(m[1]), int(m[2]) if m[2] else None, anchor)),
        (_DAY_MONTH, lambda m: _next_on_or_after(anchor, _month(m[2]), int(m[1]))),
        (_CHRISTMAS, lambda m: _next_on_or_after(anchor, 12, 25)),
        (_MONTH_ALONE, lambda m: _next_on_or_after(anchor, _month(m[1]))),
        (_FINANCIAL_YEAR, _financial_year_end),
        (_YEAR_ALONE, lambda m: date(int(m[1]), 12, 31)),
    )


def _quarter_of_financial_year(start_year: int, quarter: int) -> date:
    """Q1 of 2023/24 is April-June 2023, ... Q4 is January-March 2024."""
    month = 3 * quarter + 3
    return _month_end(start_year + month // 13, (month - 1) % 12 + 1)


def _calendar_quarter(quarter: int, year: int | None, anchor: date | None) -> date | None:
    if year is not None:
        return _month_end(year, 3 * quarter)
    return _next_on_or_after(anchor, 3 * quarter)


def _edge_of_month(match: re.Match, anchor: date | None) -> date | None:
    month = _month(match[2])
    if match[3]:
        year = int(match[3])
    else:
        nearest = _next_on_or_after(anchor, month)
        if nearest is None:
            return None
        year = nearest.year
    edge = match[1].lower()
    return date(year, month, 1) if edge in ("beginning", "start") else date(year, month, 15) if edge == "middle" else _month_end(year, month)


def _financial_year_end(match: re.Match) -> date | None:
    """'2022/2023', '2023/24', '2022-2023': 31 March of the second year; a span of several years is no deadline."""
    start, end = int(match[1] or match[3]), match[2] or match[4]
    end_year = int(end) if len(end) == 4 else _century(end, start)
    return date(end_year, 3, 31) if end_year == start + 1 else None


def parse_due(text: str, anchor: date | None) -> date | None:
    """The due date a statement gives: the latest deadline it names (starting points like "from 2020/21" are
    skipped); relative dates ("in April", "in Q1") are read on or after `anchor`, the statement's own date."""
    taken = [False] * len(text)
    found: list[date] = []
    for pattern, read in _readers(anchor):
        for match in pattern.finditer(text):
            if any(taken[match.start():match.end()]):
                continue
            taken[match.start():match.end()] = [True] * (match.end() - match.start())
            if _STARTING_POINT.search(text[max(0, match.start() - 25):match.start()]):
                continue
            try:
                when = read(match)
            except (ValueError, KeyError):
                when = None
            if when is not None:
                found.append(when)
    return max(found) if found else None


_PERIOD_EDGE = re.compile(r"\b(?:(early|spring|mid|summer|autumn|late|end of)\s+)?((?:19|20)\d\d)\b", re.I)
_EDGE_START = {"early": (1, 1), "spring": (3, 1), "mid": (6, 1), "summer": (6, 1), "autumn": (9, 1), "late": (9, 1),
               "end of": (12, 1)}
_EDGE_END = {"early": (4, 30), "spring": (5, 31), "mid": (8, 31), "summer": (8, 31), "autumn": (11, 30)}


def _period_years(period: str) -> list[re.Match]:
    """Years a free-text period names, outside its parenthesised asides."""
    return list(_PERIOD_EDGE.finditer(re.sub(r"\([^)]*\)", " ", period)))


def document_start(iso: str, period: str) -> date | None:
    """The earliest day a document can be dated to: its date, else the start of its period ("early 2022")."""
    if iso:
        return date.fromisoformat(iso)
    years = _period_years(period)
    if not years:
        return None
    month, day = _EDGE_START.get((years[0][1] or "").lower(), (1, 1))
    return date(int(years[0][2]), month, day)


def document_end(iso: str, period: str) -> date | None:
    """The latest day a document can be dated to: its date, else the end of its period ("late 2021 to 2022")."""
    if iso:
        return date.fromisoformat(iso)
    years = _period_years(period)
    if not years:
        return None
    month, day = _EDGE_END.get((years[-1][1] or "").lower(), (12, 31))
    return date(int(years[-1][2]), month, day)


def later_than(end: date | None, other_end: date | None) -> bool:
    """Whether a document that ends at `end` can report on one that ended at `other_end` (undated: never)."""
    return end is not None and other_end is not None and end > other_end
