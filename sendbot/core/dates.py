"""Dates as people write them: read for filters, shown in answers and source cards."""

from __future__ import annotations

import calendar
import re
from datetime import date

MONTH_NAMES = tuple(calendar.month_name)[1:]
MONTH_ABBREVIATIONS = tuple(name[:3] for name in MONTH_NAMES) + ("Sept",)  # "Jan" ... "Dec", and "Sept"
_MONTHS = {name.lower(): i for i, name in enumerate(MONTH_NAMES, start=1)} | {
    name[:3].lower(): i for i, name in enumerate(MONTH_NAMES, start=1)
} | {"sept": 9}

_ISO = re.compile(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")
_UK = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})")
_WORDS = re.compile(r"(?:(\d{1,2})(?:st|nd|rd|th)?\s+)?([A-Za-z]+)\.?,?\s+(\d{4})")

DATE_HELP = "Please write dates like 24/05/2023, 2023-05-24, May 2023 or just 2023."


def parse_day(text: str | None, end: bool = False) -> date | None:
    """A date typed as 2023-05-24, 24/05/2023, 24 May 2023, May 2023, 2023-05 or 2023 (None when blank).

    A partial date stands for its first day, or with `end` its last day, so "2023" to "2023" covers the year.
    """
    text = " ".join((text or "").split())
    if not text:
        return None
    try:
        year, month, day = _parts(text)
        if day is not None:
            return date(year, month, day)
        if month is not None:
            return date(year, month, calendar.monthrange(year, month)[1] if end else 1)
        return date(year, 12, 31) if end else date(year, 1, 1)
    except (ValueError, TypeError):
        raise ValueError(f"'{text}' is not a date I can read. {DATE_HELP}") from None


def _parts(text: str) -> tuple[int, int | None, int | None]:
    """(year, month or None, day or None) of a typed date; ValueError when it is not one."""
    if match := _ISO.fullmatch(text):
        return int(match[1]), _int(match[2]), _int(match[3])
    if match := _UK.fullmatch(text):
        return int(match[3]), int(match[2]), int(match[1])
    if (match := _WORDS.fullmatch(text)) and match[2].lower() in _MONTHS:
        return int(match[3]), _MONTHS[match[2].lower()], _int(match[1])
    raise ValueError(text)


def _int(value: str | None) -> int | None:
    return int(value) if value is not None else None


def format_date(iso: str, period: str = "") -> str:
    """'2023-05-24' -> '24 May 2023'; an undated document shows its period, or 'no date'."""
    if iso:
        try:
            day = date.fromisoformat(iso)
            return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"
        except ValueError:
            return iso
    return period or "no date"


# A period as written in a manifest ("early 2022", "end of 2024", "late 2021 to 2022"): each year, with the part of it
# a word before it names. Text in brackets is an aside, not the period.
_PART_OF_YEAR = {"early": (1, 4), "start": (1, 3), "beginning": (1, 3), "spring": (3, 5), "mid": (5, 8),
                 "middle": (5, 8), "summer": (6, 8), "late": (9, 12), "autumn": (9, 11), "end": (10, 12),
                 "winter": (12, 12)}
_PERIOD = re.compile(r"(?:\b([a-z]+)\s+(?:of\s+)?)?\b((?:19|20)\d{2})\b", re.I)


def period_range(period: str) -> tuple[date, date] | None:
    """The dates a period covers, for the date filters: "early 2022" -> 1 Jan to 30 Apr 2022, "late 2021 to 2022"
    -> 1 Sep 2021 to 31 Dec 2022, "May 2023" -> that month; None when it names no year."""
    found = list(_PERIOD.finditer(re.sub(r"\([^)]*\)", " ", period or "")))
    if not found:
        return None

    def months(match: re.Match) -> tuple[int, int, int]:
        word, year = (match[1] or "").lower(), int(match[2])
        if word in _MONTHS:
            return year, _MONTHS[word], _MONTHS[word]
        first, last = _PART_OF_YEAR.get(word, (1, 12))
        return year, first, last

    start_year, start_month, _ = months(found[0])
    end_year, _, end_month = months(found[-1])
    return date(start_year, start_month, 1), date(end_year, end_month, calendar.monthrange(end_year, end_month)[1])


def describe_range(span: tuple[date, date]) -> str:
    """A period's dates in words: 'January to April 2022', 'September 2021 to December 2022'."""
    start, end = span
    if (start.year, start.month) == (end.year, end.month):
        return f"{MONTH_NAMES[start.month - 1]} {start.year}"
    first = MONTH_NAMES[start.month - 1] + ("" if start.year == end.year else f" {start.year}")
    return f"{first} to {MONTH_NAMES[end.month - 1]} {end.year}"


def last_day(iso: str, period: str = "") -> date | None:
    """The last day a document can have been written: its date, or the end of its period ("early 2022" ->
    30 April 2022); None when neither is known. Answers put the latest document's words first by it."""
    if iso:
        return date.fromisoformat(iso)
    span = period_range(period)
    return span[1] if span else None
