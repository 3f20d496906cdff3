"""Dates as people write them: read for filters, shown in answers and source cards."""

from __future__ import annotations

import calendar
import re
from datetime import date

MONTH_NAMES = tuple(calendar.month_name)[1:]
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
